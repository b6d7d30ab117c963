// Rate-limit windows shared by every instance on this database (src/http/rateLimit.ts); with
// REDIS_URL the counters live in Redis instead and this table stays empty.
import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("rate_limits")
    .ifNotExists()
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("hits", "integer", (c) => c.notNull())
    .addColumn("reset_at", "bigint", (c) => c.notNull())
    .execute();
  // The sweep deletes expired windows by this column.
  await db.schema.createIndex("rate_limits_reset_at").ifNotExists().on("rate_limits").column("reset_at").execute();
}
