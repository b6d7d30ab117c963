// One row naming the deployment: every instance on this database reads the same id, so what
// they share outside the database (the Redis channel) cannot mix with another deployment's.
import { randomUUID } from "node:crypto";
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("deployment")
    .ifNotExists()
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .execute();
  await sql`INSERT INTO deployment (id, name) VALUES (1, ${randomUUID()}) ON CONFLICT (id) DO NOTHING`.execute(db);
}
