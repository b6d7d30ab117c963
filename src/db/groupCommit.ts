// Group commit for SQLite. Its one connection runs one transaction at a time, and a commit (writing
// the changed pages to the WAL) was about 45 % of the SQL time of a send. Transactions that queue
// up while one is running are run together, each inside its own savepoint, and committed once:
// each still succeeds or fails on its own, and none is acknowledged before the shared commit.
import { sql, type ControlledTransaction } from "kysely";
import type { Db, Tx } from "./index.js";
import type { DB } from "./schema.js";

export type TransactionRunner = <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;

interface Pending {
  fn: (tx: Tx) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** Bounds how long the first transaction of a batch waits for its commit. */
const MAX_BATCH = 64;

export function groupCommit(db: Db): TransactionRunner {
  const queue: Pending[] = [];
  let draining = false;

  async function drain(): Promise<void> {
    try {
      while (queue.length > 0) {
        // The batch is taken once the connection is ours: whatever queued while other
        // statements held it joins this commit.
        let trx: ControlledTransaction<DB>;
        try {
          trx = await db.startTransaction().execute();
        } catch (err) {
          for (const p of queue.splice(0, MAX_BATCH)) p.reject(err);
          continue;
        }
        await runBatch(trx, queue.splice(0, MAX_BATCH));
      }
    } finally {
      draining = false;
    }
  }

  async function runBatch(trx: ControlledTransaction<DB>, batch: Pending[]): Promise<void> {
    const done: Array<{ p: Pending; value: unknown }> = [];
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      // Alone in its batch, a transaction needs no savepoint: it fails by rolling back.
      const alone = batch.length === 1;
      try {
        if (!alone) await sql`savepoint grouped`.execute(trx);
        const value = await p.fn(trx);
        if (!alone) await sql`release grouped`.execute(trx);
        done.push({ p, value });
      } catch (err) {
        if (alone) {
          await trx
            .rollback()
            .execute()
            .catch(() => {});
          return p.reject(err);
        }
        try {
          await sql`rollback to grouped`.execute(trx);
          await sql`release grouped`.execute(trx);
          p.reject(err);
        } catch {
          // SQLite rolled the whole transaction back (e.g. an I/O error): nothing of the batch
          // was written; those not run yet go to the next batch.
          await trx
            .rollback()
            .execute()
            .catch(() => {});
          for (const d of done) d.p.reject(err);
          p.reject(err);
          queue.unshift(...batch.slice(i + 1));
          return;
        }
      }
    }
    try {
      await trx.commit().execute();
    } catch (err) {
      await trx
        .rollback()
        .execute()
        .catch(() => {});
      for (const d of done) d.p.reject(err);
      return;
    }
    for (const d of done) d.p.resolve(d.value);
  }

  return <T>(fn: (tx: Tx) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (draining) return;
      draining = true;
      // Statements complete synchronously, so a request runs to its commit in the turn that
      // read it; the batch starts after the turn, once every request read in it has queued.
      setImmediate(drain);
    });
}
