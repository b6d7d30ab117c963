// Reads of files and uploads, and who may download a file (§5, §13a.6).
import { sql, type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool } from "kysely";
import type { Db, Dialect } from "../../db/index.js";
import type { DB, FileRow } from "../../db/schema.js";
import { MEDIA_TYPES } from "../messages/views.js";

export const findFile = (db: Db, id: number): Promise<FileRow | undefined> => db.selectFrom("files").selectAll().where("id", "=", id).executeTakeFirst();

export const findFileByClientId = (db: Db, clientId: string): Promise<FileRow | undefined> =>
  db.selectFrom("files").selectAll().where("clientId", "=", clientId).executeTakeFirst();

export const findUpload = (db: Db, clientId: string) => db.selectFrom("uploads").selectAll().where("clientId", "=", clientId).executeTakeFirst();

/** `m.body ->> key` as text on either engine (numbers and numeric strings compare alike). */
function bodyKey(dialect: Dialect, key: "fileId" | "thumbId"): RawBuilder<string | null> {
  return dialect === "sqlite" ? sql<string | null>`CAST(json_extract(m.body, ${sql.lit(`$.${key}`)}) AS TEXT)` : sql<string | null>`(m.body::jsonb ->> ${sql.lit(key)})`;
}

/** A scope over `files as f`. */
export type FileScope = ExpressionBuilder<DB & { f: DB["files"] }, "f">;

/** `f` is some user's avatar or cover, which every signed-in user may see. */
export const isUserImage = (eb: FileScope): Expression<SqlBool> =>
  eb.exists(
    eb
      .selectFrom("users as u")
      .select("u.id")
      .where((w) => w.or([w("u.avatarFileId", "=", w.ref("f.id")), w("u.coverFileId", "=", w.ref("f.id"))])),
  );

/**
 * FILES_REQUIRE_AUTH (§13a.6): `userId` may read `f` — its uploader; members of a room with a
 * message that uses the file (`fileId` or `thumbId`); anyone for a user's avatar or cover;
 * members for a room avatar.
 */
export function readableBy(eb: FileScope, dialect: Dialect, userId: number): Expression<SqlBool> {
  const idText = sql<string>`CAST(${eb.ref("f.id")} AS TEXT)`;
  return eb.or([
    eb("f.userId", "=", userId),
    isUserImage(eb),
    eb.exists(
      eb
        .selectFrom("rooms")
        .innerJoin("roomUsers", "roomUsers.roomId", "rooms.id")
        .select("rooms.id")
        .whereRef("rooms.avatarFileId", "=", "f.id")
        .where("roomUsers.userId", "=", userId),
    ),
    eb.exists(
      eb
        .selectFrom("roomUsers as ru")
        .innerJoin("messages as m", "m.roomId", "ru.roomId")
        .select("m.id")
        .where("ru.userId", "=", userId)
        .where("m.type", "in", [...MEDIA_TYPES])
        .where((w) => w.or([w(bodyKey(dialect, "fileId"), "=", idText), w(bodyKey(dialect, "thumbId"), "=", idText)])),
    ),
  ]);
}

/** A page of stored files by id, for tools that walk every file (storage migration). */
export const filesAfter = (db: Db, afterId: number, limit: number) =>
  db.selectFrom("files").select(["id", "clientId", "size", "sha256"]).where("id", ">", afterId).orderBy("id").limit(limit).execute();
