// What every action and query receives: settings, the database and the after-commit outlets.
import type { Logger } from "pino";
import type { Config } from "./config.js";
import type { Db, Dialect, Tx } from "./db/index.js";
import type { TransactionRunner } from "./db/groupCommit.js";
import type { EventBus } from "./realtime/bus.js";
import type { EventSink, OutgoingEvent } from "./realtime/events.js";
import type { SseHub } from "./realtime/hub.js";
import type { RateLimiter } from "./http/rateLimit.js";
import type { TokenCache } from "./http/tokenCache.js";
import type { SmsSender } from "./providers/sms.js";

export interface AppContext {
  config: Config;
  db: Db;
  /** The same database for work outside requests (the job worker): not in db_queries_total. */
  backgroundDb: Db;
  dialect: Dialect;
  transaction: TransactionRunner;
  dbStats: { queries: number };
  log: Logger;
  /** Where actions publish their events after commit (the bus, which feeds every hub). */
  events: EventSink;
  /** This process's open SSE streams. */
  hub: SseHub;
  bus: EventBus;
  /** Resolved access tokens; revoked through `bus.revoke` on every instance. */
  tokens: TokenCache;
  sms: SmsSender;
  limiter: RateLimiter;
}

/** Collects what a transaction wants to happen once it has committed. */
export class AfterCommit {
  readonly events: OutgoingEvent[] = [];
  readonly tasks: Array<() => Promise<void>> = [];
  emit(...events: OutgoingEvent[]): void {
    this.events.push(...events);
  }
  later(task: () => Promise<void>): void {
    this.tasks.push(task);
  }
}

/**
 * Runs `fn` in one transaction; only after it commits are its events published and its
 * follow-up tasks started (a rolled-back write never announces itself). Every write goes through
 * here, except the few listed in docs/architecture.md ("Writes outside `transact`").
 *
 * The caller's contract:
 * - No I/O but the transaction's own queries inside `fn`: no HTTP, no file store, no SMS or push.
 *   Such work goes before the transaction, or after it through `after.later`, so that a rollback
 *   never leaves it half done and a slow service never holds the transaction open.
 * - `fn` must not wait across event-loop turns for anything but its own queries (no timers, no
 *   `setImmediate`, no promise settled by other work). On SQLite the group commit
 *   (src/db/groupCommit.ts) runs a batch of transactions on the single writer connection and
 *   commits them together: while `fn` waits, the whole batch and every write behind it waits
 *   (and a `transact` awaited inside `fn` queues behind `fn` itself: it never finishes).
 */
export async function transact<T>(ctx: Pick<AppContext, "transaction" | "events" | "log">, fn: (tx: Tx, after: AfterCommit) => Promise<T>): Promise<T> {
  const after = new AfterCommit();
  const result = await ctx.transaction((tx) => fn(tx, after));
  if (after.events.length) ctx.events.publish(after.events);
  for (const task of after.tasks) task().catch((err) => ctx.log.error({ err }, "after-commit task failed"));
  return result;
}
