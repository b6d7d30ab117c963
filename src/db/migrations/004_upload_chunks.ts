// The chunks of uploads in progress, with their sizes: every instance sees which chunks arrived
// (the bytes are in the file store), and the per-upload and per-user limits count from here.
import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("upload_chunks")
    .ifNotExists()
    .addColumn("upload_id", "bigint", (c) => c.notNull().references("uploads.id").onDelete("cascade"))
    .addColumn("idx", "bigint", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("upload_chunks_pk", ["upload_id", "idx"])
    .execute();
  // The per-user quota sums the chunks of a user's uploads.
  await db.schema.createIndex("uploads_user_idx").ifNotExists().on("uploads").column("user_id").execute();
}
