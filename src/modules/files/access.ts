// The one rule for every field where a client names a file by id (avatarFileId of a user or a
// room, fileId/thumbId of a message): naming a file must not become a way to read it or to
// publish someone else's file, nor claim an id that is not a finished upload yet.
import type { Db, Dialect } from "../../db/index.js";
import type { FileRow } from "../../db/schema.js";
import { badRequest, notFound } from "../../http/errors.js";
import { isUserImage, readableBy } from "./queries.js";

/**
 * `avatar`: the file will be public, so it must be the requester's own upload or already public
 * (some user's avatar or cover). `attachment`: the sender's own upload, or a file the sender can
 * already read (readableBy, the download rule of FILES_REQUIRE_AUTH).
 */
export type FileUse = "avatar" | "attachment";

/**
 * Checks the file ids a request names, by field (`{ fileId, thumbId }`): each must be a verified
 * file (only verified uploads have a `files` row) that `userId` may use as `use`; otherwise 400
 * `Invalid <field>`. Absent fields (undefined, null) are skipped, and so is an avatar of 0
 * ("no avatar"). One query, none when no file is named.
 */
export async function checkFileClaims(db: Db, dialect: Dialect, userId: number, use: FileUse, claims: Record<string, unknown>): Promise<void> {
  const named = Object.entries(claims).filter(([, id]) => id !== undefined && id !== null && !(use === "avatar" && id === 0));
  if (named.length === 0) return;
  const invalid = named.find(([, id]) => typeof id !== "number" || !Number.isSafeInteger(id) || id < 1);
  if (invalid) throw badRequest(`Invalid ${invalid[0]}`);
  const ids = [...new Set(named.map(([, id]) => id as number))];
  const rows = await db
    .selectFrom("files as f")
    .select("f.id")
    .where("f.id", "in", ids)
    .where((eb) => (use === "avatar" ? eb.or([eb("f.userId", "=", userId), isUserImage(eb)]) : readableBy(eb, dialect, userId)))
    .execute();
  const usable = new Set(rows.map((r) => r.id));
  const refused = named.find(([, id]) => !usable.has(id as number));
  if (refused) throw badRequest(`Invalid ${refused[0]}`);
}

/**
 * A download (§13a.6): `file` if `userId` may read it — its uploader, or a reader of a message
 * or a public picture that names it (readableBy); null `userId` (downloads without
 * FILES_REQUIRE_AUTH) reads every file. Otherwise 404, as for a missing file.
 */
export async function downloadableFile(db: Db, dialect: Dialect, userId: number | null, file: FileRow | undefined): Promise<FileRow> {
  const missing = () => notFound("File not found");
  if (!file) throw missing();
  if (userId === null || file.userId === userId) return file;
  const readable = await db
    .selectFrom("files as f")
    .select("f.id")
    .where("f.id", "=", file.id)
    .where((eb) => readableBy(eb, dialect, userId))
    .executeTakeFirst();
  if (!readable) throw missing();
  return file;
}
