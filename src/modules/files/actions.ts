// Chunked uploads, verify (assemble + hash + register) and the idle-upload sweep (§5).
//
// Ownership: an upload (`uploads` row, keyed by the client-chosen clientId) belongs to the user
// who sent its first chunk. Another user who sends chunks for, checks, or verifies that clientId
// gets 403 (the clientId namespace is shared, so a 404 would only be misleading: the second user
// could not start an upload with that clientId either).
//
// Storage keys: chunks under `chunks/<sha256(userId:clientId)>/<index>`, assembled files under
// `files/<encodeURIComponent(clientId)>`. A clientId never becomes a raw path segment. Which
// chunks arrived, and their sizes, are `upload_chunks` rows: every instance sees them, and the
// limits (MAX_FILE_SIZE per upload, UPLOAD_PENDING_QUOTA per user) count from there.
import { createHash } from "node:crypto";
import type { Me } from "../../actor.js";
import { transact, type AppContext } from "../../context.js";
import { sha256Hex } from "../../crypto.js";
import { isUniqueViolation } from "../../db/errors.js";
import type { Tx } from "../../db/index.js";
import { MAX_INT32, type FileRow, type UploadsTable } from "../../db/schema.js";
import { HttpError, badRequest, conflict, forbidden, notFound } from "../../http/errors.js";
import { StoreUnavailableError, storeFor, type FileStore } from "../../storage/index.js";
import { findFileByClientId, findUpload } from "./queries.js";
import { publicPath } from "./views.js";

const HOUR = 60 * 60 * 1000;
/** Uploads without a chunk or verify for this long are removed with their chunks. */
export const UPLOAD_IDLE_MS = 24 * HOUR;
/** A verify that has not finished after this long crashed; its upload is reopened. */
export const VERIFY_STALE_MS = HOUR;
/** How often the server runs the sweep. */
export const SWEEP_INTERVAL_MS = HOUR;

/** §5.1 (proposed): clientId is a name, never a path. */
export function checkClientId(clientId: string): void {
  if (clientId.length === 0) throw badRequest("Invalid params: clientId must not be empty");
  if (clientId.length > 255) throw badRequest("Invalid params: clientId must be at most 255 characters");
  if (clientId === "." || clientId === ".." || /[/\\\0]/.test(clientId)) {
    throw badRequest("Invalid params: clientId must not contain / \\ or NUL, nor be . or ..");
  }
}

const chunkDir = (userId: number, clientId: string) => sha256Hex(`${userId}:${clientId}`);
const chunkPrefix = (userId: number, clientId: string) => `chunks/${chunkDir(userId, clientId)}/`;

/**
 * `files/<name>`: the URL-encoded clientId; very long ones (over the 255-byte file-name limit
 * once encoded) use "%%" + its SHA-256, which no encoded clientId can start with.
 */
export function fileKey(clientId: string): string {
  const encoded = encodeURIComponent(clientId);
  return `files/${encoded.length <= 200 ? encoded : `%%${sha256Hex(clientId)}`}`;
}

/** The chunks received so far for an upload, by index. */
const chunksOf = (ctx: AppContext, uploadId: number) => ctx.db.selectFrom("uploadChunks").select(["idx", "size"]).where("uploadId", "=", uploadId).orderBy("idx").execute();

// Plain character classes: linear on multi-megabyte chunks (grouped repetition overflows the stack).
const BASE64 = /^[A-Za-z0-9+/]*(={0,2})$/;
const BASE64URL = /^[A-Za-z0-9_-]*(={0,2})$/;

/** The bytes of a chunk: base64 (standard or URL-safe, padding optional, line breaks allowed), never empty. */
export function decodeChunk(chunk: string): Buffer {
  const text = chunk.replace(/[\r\n]/g, "");
  if (text === "") throw badRequest("Invalid params: chunk must not be empty");
  const standard = BASE64.exec(text);
  const match = standard ?? BASE64URL.exec(text);
  const padding = match?.[1] ?? "";
  // A lone sixth-bit character cannot end base64; padding, when present, completes a quantum.
  if (!match || (text.length - padding.length) % 4 === 1 || (padding !== "" && text.length % 4 !== 0)) {
    throw badRequest("Invalid params: chunk must be base64");
  }
  return Buffer.from(text, standard ? "base64" : "base64url");
}

const isDiskFull = (err: unknown) => ["ENOSPC", "EDQUOT"].includes((err as NodeJS.ErrnoException)?.code ?? "");

/** Storage failures: logged with their cause; a full disk is 507, an unreachable store 503 (the app's error handler), anything else the usual 500. */
function storageFailure(ctx: AppContext, err: unknown, what: string): unknown {
  if (err instanceof HttpError || err instanceof StoreUnavailableError) return err;
  if (isDiskFull(err)) {
    ctx.log.error({ err }, `storage full while ${what}`);
    return new HttpError(507, "Insufficient storage");
  }
  // The app's error handler logs it (with the request id) and answers a 500 envelope.
  return err instanceof Error ? Object.assign(err, { message: `${err.message} (while ${what})` }) : err;
}

type UploadStatus = UploadsTable["status"];

/** Moves the caller's upload from `from` to `to` (touching modifiedAt): its id, or undefined when it is not the caller's or not in `from`. */
const moveUpload = (tx: Tx, userId: number, clientId: string, from: UploadStatus, to: UploadStatus) =>
  tx
    .updateTable("uploads")
    .set({ status: to, modifiedAt: Date.now() })
    .where("clientId", "=", clientId)
    .where("userId", "=", userId)
    .where("status", "=", from)
    .returning("id")
    .executeTakeFirst();

/**
 * Runs `attempt` (one transaction) until it returns an upload id; null means the upload changed
 * between its statements (on PostgreSQL each statement reads its own snapshot): try again, at
 * most three times, then 409 `gaveUp`.
 */
async function withRetries(ctx: AppContext, gaveUp: string, attempt: (tx: Tx) => Promise<number | null>): Promise<number> {
  for (let i = 0; i < 3; i++) {
    const id = await transact(ctx, attempt);
    if (id !== null) return id;
  }
  throw conflict(gaveUp);
}

/** Creates or refreshes the caller's upload (its id); 403 when another user holds the clientId, 409 while it is verified. */
function touchUpload(ctx: AppContext, userId: number, clientId: string): Promise<number> {
  return withRetries(ctx, "The upload changed concurrently, try again", async (tx: Tx) => {
    const now = Date.now();
    await tx
      .insertInto("uploads")
      .values({ clientId, userId, status: "open", createdAt: now, modifiedAt: now })
      .onConflict((oc) => oc.column("clientId").doNothing())
      .execute();
    const touched = await moveUpload(tx, userId, clientId, "open", "open");
    if (touched) return Number(touched.id);
    const row = await findUpload(tx, clientId);
    if (!row) return null; // swept between the two statements
    if (Number(row.userId) !== userId) throw forbidden("clientId is used by another user's upload");
    throw conflict("The upload is being verified");
  });
}

export interface ChunkInput {
  clientId: string;
  offset: number;
  chunk: string;
}

/**
 * Records the size of chunk `offset` before its bytes are written, in one transaction with the
 * limits it must respect: the upload's chunks within MAX_FILE_SIZE, the user's chunks of all
 * unverified uploads within UPLOAD_PENDING_QUOTA (413 otherwise). A re-sent chunk counts once.
 */
async function reserveChunk(ctx: AppContext, userId: number, uploadId: number, idx: number, size: number): Promise<number | null> {
  const { maxFileSize, uploadPendingQuota } = ctx.config;
  return transact(ctx, async (tx) => {
    // Concurrent chunks of one user (on any instance) count one after another.
    if (ctx.dialect === "postgres") await tx.selectFrom("users").select("id").where("id", "=", userId).forUpdate().execute();
    const held = await tx
      .selectFrom("uploadChunks as c")
      .innerJoin("uploads as u", "u.id", "c.uploadId")
      .select((eb) => [
        eb.fn.coalesce(eb.fn.sum<number>("c.size"), eb.lit(0)).as("user"),
        eb.fn.coalesce(eb.fn.sum<number>(eb.case().when("c.uploadId", "=", uploadId).then(eb.ref("c.size")).else(0).end()), eb.lit(0)).as("upload"),
      ])
      .where("u.userId", "=", userId)
      .where((eb) => eb.not(eb.and([eb("c.uploadId", "=", uploadId), eb("c.idx", "=", idx)])))
      .executeTakeFirstOrThrow();
    if (Number(held.upload) + size > maxFileSize) throw new HttpError(413, `The upload's chunks exceed MAX_FILE_SIZE (${maxFileSize} bytes)`);
    if (Number(held.user) + size > uploadPendingQuota) {
      throw new HttpError(413, `Unverified uploads of this user exceed UPLOAD_PENDING_QUOTA (${uploadPendingQuota} bytes): verify or wait for idle ones to expire`);
    }
    const previous = await tx.selectFrom("uploadChunks").select("size").where("uploadId", "=", uploadId).where("idx", "=", idx).executeTakeFirst();
    await tx
      .insertInto("uploadChunks")
      .values({ uploadId, idx, size })
      .onConflict((oc) => oc.columns(["uploadId", "idx"]).doUpdateSet({ size }))
      .execute();
    return previous ? Number(previous.size) : null;
  });
}

/** Puts a reservation back after the bytes could not be written. */
async function unreserveChunk(ctx: AppContext, uploadId: number, idx: number, previous: number | null): Promise<void> {
  await transact(ctx, async (tx) => {
    if (previous === null) await tx.deleteFrom("uploadChunks").where("uploadId", "=", uploadId).where("idx", "=", idx).execute();
    else await tx.updateTable("uploadChunks").set({ size: previous }).where("uploadId", "=", uploadId).where("idx", "=", idx).execute();
  });
}

/** §5.1: stores chunk `offset` (an index) of the caller's upload; answers the indexes received so far. */
export async function uploadChunk(ctx: AppContext, me: Me, input: ChunkInput): Promise<number[]> {
  const userId = me.user.id;
  const { clientId, offset } = input;
  checkClientId(clientId);
  const bytes = decodeChunk(input.chunk);
  if (await findFileByClientId(ctx.db, clientId)) throw badRequest("File with that clientId already exists");
  const uploadId = await touchUpload(ctx, userId, clientId);
  const previous = await reserveChunk(ctx, userId, uploadId, offset, bytes.length);
  const store = storeFor(ctx.config);
  const prefix = chunkPrefix(userId, clientId);
  try {
    await store.put(`${prefix}${offset}`, bytes);
  } catch (err) {
    await unreserveChunk(ctx, uploadId, offset, previous).catch((e) => ctx.log.error({ err: e, clientId }, "could not release a chunk's reservation"));
    throw storageFailure(ctx, err, "storing a chunk");
  }
  // A verify may have claimed (or finished) the upload while the chunk was written.
  const row = await findUpload(ctx.db, clientId);
  if (!row || Number(row.userId) !== userId || row.status !== "open") {
    if (!row) await store.deletePrefix(prefix).catch((err) => ctx.log.warn({ err }, "could not remove late chunk"));
    throw conflict("The upload is being verified");
  }
  return (await chunksOf(ctx, uploadId)).map((c) => Number(c.idx));
}

/** §5.4: the chunk indexes of the caller's upload in progress. */
export async function uploadedChunks(ctx: AppContext, me: Me, clientId: string): Promise<number[]> {
  const userId = me.user.id;
  checkClientId(clientId);
  const row = await findUpload(ctx.db, clientId);
  if (!row) throw notFound("No upload in progress with that clientId");
  if (Number(row.userId) !== userId) throw forbidden("clientId is used by another user's upload");
  return (await chunksOf(ctx, Number(row.id))).map((c) => Number(c.idx));
}

/** Marks the caller's open upload as verifying (its id); exactly one concurrent verify wins. */
function claimUpload(ctx: AppContext, userId: number, clientId: string): Promise<number> {
  return withRetries(ctx, "The upload is being verified", async (tx: Tx) => {
    const claimed = await moveUpload(tx, userId, clientId, "open", "verifying");
    if (claimed) return Number(claimed.id);
    const row = await findUpload(tx, clientId);
    if (!row) {
      if (await findFileByClientId(tx, clientId)) throw conflict("File with that clientId already exists");
      throw new HttpError(410, "Not all chunks are uploaded");
    }
    if (Number(row.userId) !== userId) throw forbidden("clientId is used by another user's upload");
    if (row.status === "verifying") throw conflict("The upload is being verified");
    return null; // reopened by a verify that just failed: try again
  });
}

async function releaseUpload(ctx: AppContext, userId: number, clientId: string): Promise<void> {
  await transact(ctx, (tx) => moveUpload(tx, userId, clientId, "verifying", "open"));
}

/** Width and height of an image file (orientation applied); null when it cannot be read. */
async function imageSize(ctx: AppContext, store: FileStore, key: string): Promise<{ width: number; height: number } | null> {
  try {
    const { default: sharp } = await import("sharp");
    let input: string | Buffer;
    if (store.localPath) input = store.localPath(key);
    else {
      // Headers sit at the start of the formats sharp reads; never load a whole file.
      const stream = await store.get(key, { start: 0, end: 1024 * 1024 - 1 });
      if (!stream) return null;
      const parts: Buffer[] = [];
      for await (const part of stream) parts.push(part as Buffer);
      input = Buffer.concat(parts);
    }
    const meta = await sharp(input, { failOn: "none" }).metadata();
    const width = meta.autoOrient?.width ?? meta.width;
    const height = meta.autoOrient?.height ?? meta.height;
    if (!width || !height) return null;
    return { width: Math.min(width, MAX_INT32), height: Math.min(height, MAX_INT32) };
  } catch (err) {
    ctx.log.info({ err: (err as Error)?.message, key }, "could not read image dimensions");
    return null;
  }
}

export interface VerifyInput {
  total: number;
  size: number;
  mimeType: string;
  fileName: string;
  clientId: string;
  type: string;
  fileHash: string;
  relationId?: number | null;
  metaData?: { duration?: number; width?: number; height?: number } | null;
}

const metaInt = (v: number | undefined) => (v === undefined ? 0 : Math.min(Math.max(Math.trunc(v), 0), MAX_INT32));

/**
 * §5.2: claims the upload, checks that chunks 0..total-1 are recorded (410), streams them in
 * order into the file's key while hashing (413 beyond MAX_FILE_SIZE, 411 on a hash mismatch —
 * the chunks stay for a retry), then registers the File and drops the chunks. Bytes are
 * written before the row; any failure before the row exists removes them.
 */
export async function verifyUpload(ctx: AppContext, me: Me, input: VerifyInput): Promise<FileRow> {
  const userId = me.user.id;
  const { clientId } = input;
  checkClientId(clientId);
  if (await findFileByClientId(ctx.db, clientId)) throw conflict("File with that clientId already exists");
  const uploadId = await claimUpload(ctx, userId, clientId);

  const store = storeFor(ctx.config);
  const prefix = chunkPrefix(userId, clientId);
  const maxSize = ctx.config.maxFileSize;
  const key = fileKey(clientId);
  let written = false;
  let registered = false;
  try {
    const chunks = (await chunksOf(ctx, uploadId)).filter((c) => Number(c.idx) < input.total);
    if (chunks.length < input.total) throw new HttpError(410, "Not all chunks are uploaded");
    const expectedSize = chunks.reduce((sum, c) => sum + Number(c.size), 0);
    if (expectedSize > maxSize) throw new HttpError(413, `File is larger than ${maxSize} bytes`);

    const hash = createHash("sha256");
    let size = 0;
    async function* assemble(): AsyncGenerator<Buffer> {
      for (let i = 0; i < input.total; i++) {
        const part = await store.get(`${prefix}${i}`);
        if (!part) throw new HttpError(410, "Not all chunks are uploaded");
        for await (const bytes of part) {
          size += (bytes as Buffer).length;
          if (size > maxSize) {
            part.destroy();
            throw new HttpError(413, `File is larger than ${maxSize} bytes`);
          }
          hash.update(bytes as Buffer);
          yield bytes as Buffer;
        }
      }
    }
    // Straight to the file's key: no File row names it yet (we hold the upload), so nothing
    // serves these bytes before the row below exists, and a bad hash removes them.
    written = true;
    await store.put(key, assemble());
    const sha256 = hash.digest("hex");
    const expected = input.fileHash.trim().toLowerCase();
    if (expected !== "" && expected !== sha256) throw new HttpError(411, "Hash doesn't match");

    const meta = input.metaData ?? {};
    let width = metaInt(meta.width);
    let height = metaInt(meta.height);
    if (/^image\//i.test(input.mimeType) && (width === 0 || height === 0)) {
      const found = await imageSize(ctx, store, key);
      if (found) ({ width, height } = found);
    }

    let row: FileRow;
    try {
      row = await transact(ctx, async (tx) => {
        const now = Date.now();
        const file = await tx
          .insertInto("files")
          .values({
            clientId,
            userId,
            fileName: input.fileName,
            size,
            mimeType: input.mimeType,
            type: input.type,
            relationId: input.relationId ?? null,
            path: publicPath(clientId),
            sha256,
            metaDuration: metaInt(meta.duration),
            metaWidth: width,
            metaHeight: height,
            createdAt: now,
            modifiedAt: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await tx.deleteFrom("uploads").where("clientId", "=", clientId).where("userId", "=", userId).execute();
        return file;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("File with that clientId already exists");
      throw err;
    }
    registered = true;
    await store.deletePrefix(prefix).catch((err) => ctx.log.warn({ err, clientId }, "could not remove chunks (the sweep will)"));
    return row;
  } catch (err) {
    if (!registered) {
      if (written) await store.delete(key).catch((e) => ctx.log.error({ err: e, key }, "could not remove bytes of an unregistered file"));
      await releaseUpload(ctx, userId, clientId).catch((e) => ctx.log.error({ err: e, clientId }, "could not reopen upload"));
    }
    throw storageFailure(ctx, err, "assembling a file");
  }
}

/**
 * Housekeeping: reopens verifies that crashed, removes uploads idle for UPLOAD_IDLE_MS with
 * their chunks, and chunk folders / temporary objects nothing refers to that are as old.
 */
export async function sweepIdleUploads(ctx: AppContext, now = Date.now()): Promise<{ uploads: number; orphans: number }> {
  const store = storeFor(ctx.config);
  const cutoff = now - UPLOAD_IDLE_MS;
  const idle = await transact(ctx, async (tx) => {
    await tx
      .updateTable("uploads")
      .set({ status: "open" })
      .where("status", "=", "verifying")
      .where("modifiedAt", "<", now - VERIFY_STALE_MS)
      .execute();
    return tx.deleteFrom("uploads").where("modifiedAt", "<", cutoff).returning(["clientId", "userId"]).execute();
  });
  // The chunks go once their rows are gone: a chunk without a row is an orphan the sweep removes.
  for (const u of idle) await store.deletePrefix(chunkPrefix(Number(u.userId), u.clientId));

  let orphans = 0;
  const live = new Set((await ctx.db.selectFrom("uploads").select(["clientId", "userId"]).execute()).map((u) => chunkDir(Number(u.userId), u.clientId)));
  for (const dir of await store.list("chunks/")) {
    if (live.has(dir)) continue;
    // An empty folder may be an upload whose first chunk is being written right now.
    const names = await store.list(`chunks/${dir}/`);
    let fresh = names.length === 0;
    for (const name of names) {
      const s = await store.stat(`chunks/${dir}/${name}`);
      if (s && s.modifiedAt >= cutoff) fresh = true;
      if (fresh) break;
    }
    if (!fresh) {
      await store.deletePrefix(`chunks/${dir}/`);
      orphans++;
    }
  }
  for (const name of await store.list("tmp/")) {
    const s = await store.stat(`tmp/${name}`);
    if (s && s.modifiedAt < cutoff) {
      await store.delete(`tmp/${name}`);
      orphans++;
    }
  }
  return { uploads: idle.length, orphans };
}
