// The schema of every area of the contract, with the indexes their queries use.
import { sql, type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely } from "kysely";
import type { Dialect } from "../index.js";

type Table = CreateTableBuilder<string, never>;

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const id = (t: Table): Table =>
    dialect === "sqlite" ? t.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement()) : t.addColumn("id", "bigint", (c) => c.primaryKey().generatedByDefaultAsIdentity());
  const ref =
    (table: string, onDelete: "cascade" | "set null" = "cascade") =>
    (c: ColumnDefinitionBuilder) =>
      c.references(`${table}.id`).onDelete(onDelete);
  const times = (t: Table): Table => t.addColumn("created_at", "bigint", (c) => c.notNull()).addColumn("modified_at", "bigint", (c) => c.notNull());
  const flag =
    (name: string) =>
    (t: Table): Table =>
      t.addColumn(name, "smallint", (c) => c.notNull().defaultTo(0));
  const create = (name: string) => db.schema.createTable(name).ifNotExists();
  const index = (name: string, table: string, columns: string[], unique = false) => {
    const b = db.schema.createIndex(name).ifNotExists().on(table).columns(columns);
    return (unique ? b.unique() : b).execute();
  };

  await create("users")
    .$call(id)
    .addColumn("display_name", "text")
    .addColumn("avatar_file_id", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("telephone_number", "text", (c) => c.unique())
    .addColumn("telephone_number_hashed", "text")
    .addColumn("email_address", "text", (c) => c.unique())
    .$call(flag("verified"))
    .$call(flag("is_bot"))
    .$call(flag("deleted"))
    .addColumn("short_description", "text")
    .addColumn("long_description", "text")
    .addColumn("cover_file_id", "bigint")
    .addColumn("webhook_url", "text")
    .addColumn("verification_code_hash", "text")
    .addColumn("verification_code_expires_at", "bigint")
    .addColumn("verification_attempts", "integer", (c) => c.notNull().defaultTo(0))
    .$call(times)
    .execute();
  await index("users_hash_idx", "users", ["telephone_number_hashed"]);
  await index("users_modified_idx", "users", ["modified_at", "id"]);
  await index("users_name_idx", "users", ["display_name", "id"]);

  await create("devices")
    .$call(id)
    .addColumn("user_id", "bigint", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("device_id", "text", (c) => c.notNull().unique())
    .addColumn("type", "text")
    .addColumn("os_name", "text")
    .addColumn("os_version", "text")
    .addColumn("app_version", "text")
    .addColumn("device_name", "text")
    .addColumn("push_token", "text")
    .addColumn("token_hash", "text", (c) => c.unique())
    .addColumn("token_expired_at", "bigint")
    .$call(times)
    .execute();
  await index("devices_user_idx", "devices", ["user_id"]);

  await create("contacts")
    .$call(id)
    .addColumn("user_id", "bigint", (c) => c.notNull().$call(ref("users")))
    .addColumn("contact_id", "bigint", (c) => c.notNull().$call(ref("users")))
    .$call(times)
    .execute();
  await index("contacts_pair_idx", "contacts", ["user_id", "contact_id"], true);
  await index("contacts_contact_idx", "contacts", ["contact_id"]);

  await create("rooms")
    .$call(id)
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("avatar_file_id", "bigint", (c) => c.notNull().defaultTo(0))
    .$call(flag("deleted"))
    .addColumn("last_message_id", "bigint")
    .addColumn("last_message_at", "bigint")
    .addColumn("message_count", "bigint", (c) => c.notNull().defaultTo(0))
    .$call(times)
    .execute();
  await index("rooms_modified_idx", "rooms", ["modified_at"]);

  await create("room_users")
    .$call(id)
    .addColumn("room_id", "bigint", (c) => c.notNull().$call(ref("rooms")))
    .addColumn("user_id", "bigint", (c) => c.notNull().$call(ref("users")))
    .$call(flag("is_admin"))
    .addColumn("seen_message_id", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("settings_modified_at", "bigint", (c) => c.notNull())
    .addColumn("message_count_at_join", "bigint", (c) => c.notNull().defaultTo(0))
    .$call(times)
    .execute();
  await index("room_users_pair_idx", "room_users", ["room_id", "user_id"], true);
  await index("room_users_user_idx", "room_users", ["user_id", "room_id"]);

  await create("messages")
    .$call(id)
    .addColumn("room_id", "bigint", (c) => c.notNull().$call(ref("rooms")))
    .addColumn("from_user_id", "bigint", (c) => c.notNull().$call(ref("users")))
    .addColumn("from_device_id", "bigint", (c) => c.$call(ref("devices", "set null")))
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("local_id", "text")
    .addColumn("reply_id", "bigint")
    .addColumn("total_user_count", "integer", (c) => c.notNull())
    .addColumn("delivered_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("seen_count", "integer", (c) => c.notNull().defaultTo(0))
    .$call(flag("deleted"))
    .$call(flag("is_forwarded"))
    .$call(flag("has_link"))
    .$call(times)
    .execute();
  await index("messages_room_idx", "messages", ["room_id", "id"]);
  await index("messages_room_modified_idx", "messages", ["room_id", "modified_at", "id"]);
  await index("messages_room_type_idx", "messages", ["room_id", "type", "id"]);
  await index("messages_local_idx", "messages", ["room_id", "from_user_id", "local_id"], true);

  await create("message_exceptions")
    .$call(id)
    .addColumn("message_id", "bigint", (c) => c.notNull().$call(ref("messages")))
    .addColumn("room_id", "bigint", (c) => c.notNull().$call(ref("rooms")))
    .addColumn("user_id", "bigint", (c) => c.notNull().$call(ref("users")))
    .addColumn("kind", "text", (c) => c.notNull())
    .$call(times)
    .execute();
  await index("message_exceptions_pair_idx", "message_exceptions", ["message_id", "user_id"], true);
  await index("message_exceptions_user_idx", "message_exceptions", ["user_id", "modified_at"]);
  await index("message_exceptions_room_idx", "message_exceptions", ["room_id", "user_id", "kind"]);

  await create("message_records")
    .$call(id)
    .addColumn("message_id", "bigint", (c) => c.notNull().$call(ref("messages")))
    .addColumn("room_id", "bigint", (c) => c.notNull().$call(ref("rooms")))
    .addColumn("user_id", "bigint", (c) => c.notNull().$call(ref("users")))
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("reaction", "text")
    .$call(flag("is_deleted"))
    .$call(times)
    .execute();
  await index("message_records_unique_idx", "message_records", ["message_id", "user_id", "type"], true);
  await index("message_records_room_modified_idx", "message_records", ["room_id", "modified_at", "id"]);

  await create("files")
    .$call(id)
    .addColumn("client_id", "text", (c) => c.notNull().unique())
    .addColumn("user_id", "bigint", (c) => c.$call(ref("users", "set null")))
    .addColumn("file_name", "text", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("mime_type", "text", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("relation_id", "bigint")
    .addColumn("path", "text", (c) => c.notNull())
    .addColumn("sha256", "text", (c) => c.notNull())
    .addColumn("meta_duration", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("meta_width", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("meta_height", "integer", (c) => c.notNull().defaultTo(0))
    .$call(times)
    .execute();

  await create("uploads")
    .$call(id)
    .addColumn("client_id", "text", (c) => c.notNull().unique())
    .addColumn("user_id", "bigint", (c) => c.notNull().$call(ref("users")))
    .addColumn("status", "text", (c) => c.notNull())
    .$call(times)
    .execute();
  await index("uploads_modified_idx", "uploads", ["modified_at"]);

  await create("notes")
    .$call(id)
    .addColumn("room_id", "bigint", (c) => c.notNull().$call(ref("rooms")))
    .addColumn("user_id", "bigint", (c) => c.$call(ref("users", "set null")))
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("content", "text", (c) => c.notNull())
    .$call(times)
    .execute();
  await index("notes_room_idx", "notes", ["room_id", "id"]);

  await create("webhooks")
    .$call(id)
    .addColumn("room_id", "bigint", (c) => c.notNull().$call(ref("rooms")))
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("verify_signature", "text", (c) => c.notNull())
    .$call(times)
    .execute();
  await index("webhooks_room_idx", "webhooks", ["room_id", "id"]);

  await create("api_keys")
    .$call(id)
    .addColumn("room_id", "bigint", (c) => c.notNull().$call(ref("rooms")))
    .addColumn("user_id", "bigint", (c) => c.notNull().$call(ref("users")))
    .addColumn("token", "text", (c) => c.notNull())
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .$call(times)
    .execute();
  await index("api_keys_room_idx", "api_keys", ["room_id", "id"]);

  await create("blocks")
    .$call(id)
    .addColumn("user_id", "bigint", (c) => c.notNull().$call(ref("users")))
    .addColumn("blocked_id", "bigint", (c) => c.notNull().$call(ref("users")))
    .$call(times)
    .execute();
  await index("blocks_pair_idx", "blocks", ["user_id", "blocked_id"], true);
  await index("blocks_blocked_idx", "blocks", ["blocked_id"]);

  await create("user_settings")
    .$call(id)
    .addColumn("user_id", "bigint", (c) => c.notNull().$call(ref("users")))
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("value", "text", (c) => c.notNull())
    .$call(times)
    .execute();
  await index("user_settings_key_idx", "user_settings", ["user_id", "key"], true);

  await create("jobs")
    .$call(id)
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().defaultTo("pending"))
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("max_attempts", "integer", (c) => c.notNull())
    .addColumn("run_at", "bigint", (c) => c.notNull())
    .addColumn("locked_at", "bigint")
    .addColumn("locked_by", "text")
    .addColumn("last_error", "text")
    .$call(times)
    .execute();
  await index("jobs_due_idx", "jobs", ["status", "run_at", "id"]);

  // Full-text search of text messages (§4.14 search): substring, case-insensitive.
  if (dialect === "sqlite") {
    await sql`CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(text, tokenize = 'trigram')`.execute(db);
    await sql`CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages WHEN new.type = 'text' AND new.deleted = 0
      BEGIN INSERT INTO messages_fts(rowid, text) VALUES (new.id, json_extract(new.body, '$.text')); END`.execute(db);
    await sql`CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF body, type, deleted ON messages
      BEGIN
        DELETE FROM messages_fts WHERE rowid = old.id;
        INSERT INTO messages_fts(rowid, text) SELECT new.id, json_extract(new.body, '$.text') WHERE new.type = 'text' AND new.deleted = 0;
      END`.execute(db);
    await sql`CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages
      BEGIN DELETE FROM messages_fts WHERE rowid = old.id; END`.execute(db);
  } else {
    await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);
    await sql`ALTER TABLE messages ADD COLUMN IF NOT EXISTS search_text text
      GENERATED ALWAYS AS (CASE WHEN type = 'text' AND deleted = 0 THEN (body::jsonb ->> 'text') END) STORED`.execute(db);
    await sql`CREATE INDEX IF NOT EXISTS messages_search_idx ON messages USING gin (search_text gin_trgm_ops)`.execute(db);
  }
}
