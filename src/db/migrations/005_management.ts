// The management API (docs/management.md): sign-in tokens of the administrator, kept hashed with
// their expiry, and the audit trail of every change made through it or `spika admin`.
import type { Kysely } from "kysely";
import type { Dialect } from "../index.js";

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable("admin_tokens")
    .ifNotExists()
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("username", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("audit_log")
    .ifNotExists()
    .$call((t) =>
      dialect === "sqlite"
        ? t.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
        : t.addColumn("id", "bigint", (c) => c.primaryKey().generatedByDefaultAsIdentity()),
    )
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("target_type", "text", (c) => c.notNull())
    .addColumn("target_id", "bigint")
    .addColumn("details", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
}
