// SQLite's search index (FTS5 trigram table messages_fts) is written in batches, no longer by a
// trigger on every message insert (src/modules/navigation/searchIndex.ts says why). The state
// row says up to which message id the table is complete; messages above it are indexed by the
// next batch with the text they have then, so edits and deletions of those need no trigger.
// PostgreSQL keeps indexing the row itself (the generated search_text column of 001).
import { type Kysely, sql } from "kysely";
import type { Dialect } from "../index.js";

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect !== "sqlite") return;
  await sql`CREATE TABLE IF NOT EXISTS search_index_state (id integer PRIMARY KEY CHECK (id = 1), indexed_through integer NOT NULL)`.execute(db);
  // Everything written so far was indexed by the trigger.
  await sql`INSERT OR IGNORE INTO search_index_state (id, indexed_through) SELECT 1, coalesce(max(id), 0) FROM messages`.execute(db);
  await sql`DROP TRIGGER IF EXISTS messages_fts_insert`.execute(db);
  await sql`DROP TRIGGER IF EXISTS messages_fts_update`.execute(db);
  await sql`CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, type, deleted ON messages
    WHEN old.id <= (SELECT indexed_through FROM search_index_state)
    BEGIN
      DELETE FROM messages_fts WHERE rowid = old.id;
      INSERT INTO messages_fts(rowid, text) SELECT new.id, json_extract(new.body, '$.text') WHERE new.type = 'text' AND new.deleted = 0;
    END`.execute(db);
}
