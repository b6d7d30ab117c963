// Reads of files and uploads, and who may download a file (§5, §13a.6).
import { sql, type RawBuilder } from "kysely";
import type { Db, Dialect } from "../../db/index.js";
import type { FileRow } from "../../db/schema.js";

export const findFile = (db: Db, id: number): Promise<FileRow | undefined> =>
  db.selectFrom("files").selectAll().where("id", "=", id).executeTakeFirst();

export const findFileByClientId = (db: Db, clientId: string): Promise<FileRow | undefined> =>
  db.selectFrom("files").selectAll().where("clientId", "=", clientId).executeTakeFirst();

export const findUpload = (db: Db, clientId: string) =>
  db.selectFrom("uploads").selectAll().where("clientId", "=", clientId).executeTakeFirst();

/** Message types whose body carries `fileId` / `thumbId` (§2.6). */
const FILE_MESSAGE_TYPES = ["image", "video", "audio", "file"];

/** `m.body ->> key` as text on either engine (numbers and numeric strings compare alike). */
function bodyKey(dialect: Dialect, key: "fileId" | "thumbId"): RawBuilder<string | null> {
  return dialect === "sqlite"
    ? sql<string | null>`CAST(json_extract(m.body, ${sql.lit(`$.${key}`)}) AS TEXT)`
    : sql<string | null>`(m.body::jsonb ->> ${sql.lit(key)})`;
}

/**
 * FILES_REQUIRE_AUTH (§13a.6): the uploader; members of a room with a message that uses the
 * file (`fileId` or `thumbId`); anyone for a user's avatar or cover; members for a room avatar.
 */
export async function maySeeFile(db: Db, dialect: Dialect, userId: number, file: FileRow): Promise<boolean> {
  if (file.userId === userId) return true;
  const id = file.id;
  const userImage = await db
    .selectFrom("users")
    .select("id")
    .where((eb) => eb.or([eb("avatarFileId", "=", id), eb("coverFileId", "=", id)]))
    .limit(1)
    .executeTakeFirst();
  if (userImage) return true;
  const roomAvatar = await db
    .selectFrom("rooms")
    .innerJoin("roomUsers", "roomUsers.roomId", "rooms.id")
    .select("rooms.id")
    .where("rooms.avatarFileId", "=", id)
    .where("roomUsers.userId", "=", userId)
    .limit(1)
    .executeTakeFirst();
  if (roomAvatar) return true;
  const text = String(id);
  const used = await db
    .selectFrom("roomUsers as ru")
    .innerJoin("messages as m", "m.roomId", "ru.roomId")
    .select("m.id")
    .where("ru.userId", "=", userId)
    .where("m.type", "in", FILE_MESSAGE_TYPES)
    .where((eb) => eb.or([eb(bodyKey(dialect, "fileId"), "=", text), eb(bodyKey(dialect, "thumbId"), "=", text)]))
    .limit(1)
    .executeTakeFirst();
  return used !== undefined;
}

/** A page of stored files by id, for tools that walk every file (storage migration). */
export const filesAfter = (db: Db, afterId: number, limit: number) =>
  db.selectFrom("files").select(["id", "clientId", "size", "sha256"]).where("id", ">", afterId).orderBy("id").limit(limit).execute();
