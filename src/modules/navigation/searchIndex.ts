// SQLite's search index, written in batches. An FTS5 insert inside a savepoint flushes the
// table's pending terms to a new segment at the savepoint's release, and every send of a group
// commit runs in its own savepoint: indexing each message as it was sent wrote one segment per
// message, and merging them cost about 0.1 ms of the ~0.44 ms of CPU a send took (bench/README.md).
// One INSERT … SELECT of the messages sent since the last batch costs a few µs per message.
//
// The job worker indexes what is new at every poll, and a search first indexes what is still
// pending, so a search sees every message committed before it. search_index_state (migration
// 006) holds the last indexed id in the same transaction as the rows it covers; message ids only
// grow (AUTOINCREMENT), so nothing below it is ever missed. PostgreSQL indexes the row itself.
import { sql } from "kysely";
import { type AppContext, transact } from "../../context.js";

/** Messages per transaction: bounds how long one batch holds the writer. */
const BATCH = 5000;

type IndexContext = Pick<AppContext, "dialect" | "db" | "transaction" | "events" | "log">;

/**
 * Indexes the text messages committed up to now (SQLite; nothing to do on PostgreSQL). Messages
 * sent meanwhile wait for the next call: under a steady load the batches stay big.
 */
export async function indexNewMessages(ctx: IndexContext): Promise<void> {
  if (ctx.dialect !== "sqlite") return;
  const { rows } = await sql<{ done: number; top: number | null }>`
    SELECT (SELECT indexed_through FROM search_index_state) AS done, (SELECT max(id) FROM messages) AS top`.execute(ctx.db);
  const { done = 0, top = null } = rows[0] ?? {};
  // Read outside the writer: an idle server does not take the write lock to find nothing to do.
  if (top === null) return;
  for (let from = done; from < top; from += BATCH) {
    const through = Math.min(from + BATCH, top);
    await transact(ctx, async (tx) => {
      // Another process (or a search) may have indexed part of the range since it was read.
      await sql`INSERT INTO messages_fts(rowid, text)
        SELECT id, json_extract(body, '$.text') FROM messages
        WHERE id > (SELECT indexed_through FROM search_index_state) AND id <= ${through} AND type = 'text' AND deleted = 0`.execute(tx);
      await sql`UPDATE search_index_state SET indexed_through = max(indexed_through, ${through})`.execute(tx);
    });
  }
}
