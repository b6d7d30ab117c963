// Files (§5): chunked upload, check, verify and download, under /api/upload and its alias
// /api/uploads; stored files are also reachable at their `path` (/uploads/files/<clientId>).
import { Readable } from "node:stream";
import Type from "typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { App } from "../../app.js";
import { MAX_INT32, type FileRow } from "../../db/schema.js";
import { missingToken, presentedToken } from "../../http/auth.js";
import { HttpError, badRequest, notFound } from "../../http/errors.js";
import { docAs, IdParams, NO_TOKEN, op, type OperationDoc } from "../../http/openapi.js";
import { Envelope, Nullable, ok, positiveInt } from "../../http/schema.js";
import { storeFor, type ByteRange } from "../../storage/index.js";
import { authenticateDevice } from "../auth/actions.js";
import { SWEEP_INTERVAL_MS, checkClientId, fileKey, sweepIdleUploads, uploadChunk, uploadedChunks, verifyUpload } from "./actions.js";
import { downloadableFile } from "./access.js";
import { findFile, findFileByClientId } from "./queries.js";
import { File, fileView, publicPath } from "./views.js";

const PREFIXES = ["/api/upload", "/api/uploads"];
const MetaNumber = Type.Optional(Type.Number({ minimum: 0, maximum: MAX_INT32 }));
/** Text stored in the database: PostgreSQL text cannot hold NUL. */
const Text = (maxLength: number, opts: { minLength?: number; description?: string } = {}) => Type.String({ maxLength, pattern: "^[^\\u0000]*$", ...opts });

const ChunksResponse = { 200: Envelope(Type.Object({ uploadedChunks: Type.Array(Type.Integer(), { description: "chunk indexes received so far" }) })) };

const CLIENT_ID_ERRORS = [
  "Invalid params: clientId must not be empty",
  "Invalid params: clientId must be at most 255 characters",
  "Invalid params: clientId must not contain / \\ or NUL, nor be . or ..",
];
const OTHER_USERS_UPLOAD = "clientId is used by another user's upload";
const VERIFYING = "The upload is being verified";

/** A stored file's bytes, as downloads answer them (GET /api/upload/files/{id}, /uploads/files/{clientId}). */
const download = (how: string, errors: OperationDoc["errors"] = {}): Pick<OperationDoc, "responses" | "errors" | "description"> => ({
  description: `${how} No token unless the server runs with FILES_REQUIRE_AUTH=1; then the token (\`accesstoken\` header or query, or an \`accesstoken\` cookie) of a user who may see the file (its uploader; anyone for a user's avatar or cover; members of a room whose avatar it is or where a message uses it). Supports \`Range\` (one range), \`If-None-Match\`, \`If-Modified-Since\` and \`If-Range\`.`,
  responses: {
    200: {
      description: "The file's bytes, with its Content-Type, Content-Disposition, ETag (its SHA-256) and Last-Modified",
      content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
    },
    206: { description: "The requested byte range (Content-Range)", content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } },
    304: { description: "Not modified (ETag or Last-Modified matched)" },
  },
  errors: { ...errors, 401: [...NO_TOKEN, "Invalid access token", "Expired access token"], 404: ["File not found"], 416: ["Range not satisfiable"] },
});

export default async function fileRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const store = storeFor(ctx.config);
  const presigned = ctx.config.storage.kind === "s3" && ctx.config.storage.presignedRedirect ? store.presignedUrl?.bind(store) : undefined;

  for (const prefix of PREFIXES) {
    // The alias's operations get their own ids: operationIds are unique in the document.
    const alias = prefix === PREFIXES[0] ? "" : "ViaUploads";
    const aliasNote = alias ? ` (alias of ${PREFIXES[0]})` : "";

    app.post(
      `${prefix}/files`,
      {
        config: { auth: "device" },
        schema: op({
          operationId: `uploadChunk${alias}`,
          tags: ["File"],
          summary: `Upload one chunk (offset = chunk index) of the caller's upload${aliasNote}`,
          description:
            "Step 1 of an upload: send the file in chunks (any size that fits the 50 MB request limit once base64-encoded), each with its index as `offset`, under one `clientId` chosen by the client (unique per file). Chunks may arrive in any order and be repeated. Then POST .../files/verify.",
          errors: {
            400: [...CLIENT_ID_ERRORS, "File with that clientId already exists"],
            403: [OTHER_USERS_UPLOAD],
            409: [VERIFYING, "The upload changed concurrently, try again"],
            507: ["Insufficient storage"],
          },
          body: Type.Object({
            chunk: Type.String({ description: "base64 of the chunk's bytes" }),
            offset: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "chunk index 0, 1, 2, …" }),
            clientId: Type.String({ minLength: 1, maxLength: 255 }),
          }),
          response: ChunksResponse,
        }),
      },
      async (request) => ok({ uploadedChunks: await uploadChunk(ctx, request.auth, request.body) }),
    );

    app.get(
      `${prefix}/files/check/:clientId`,
      {
        config: { auth: "device" },
        schema: op({
          operationId: `getUploadedChunks${alias}`,
          tags: ["File"],
          summary: `Chunk indexes received so far for the caller's upload (404 if none)${aliasNote}`,
          description: "To resume an interrupted upload: send only the missing chunks. `clientId` is URL-encoded.",
          params: Type.Object({ clientId: Type.String() }),
          response: ChunksResponse,
          errors: { 403: [OTHER_USERS_UPLOAD], 404: ["No upload in progress with that clientId"] },
        }),
      },
      async (request) => {
        const clientId = request.params.clientId;
        return ok({ uploadedChunks: await uploadedChunks(ctx, request.auth, clientId) });
      },
    );

    app.post(
      `${prefix}/files/verify`,
      {
        config: { auth: "device" },
        schema: op({
          operationId: `verifyUpload${alias}`,
          tags: ["File"],
          summary: `Assemble the uploaded chunks, check the SHA-256 and register the File${aliasNote}`,
          description: `Step 2 of an upload: chunks 0..total-1 are joined, their SHA-256 compared with \`fileHash\`, and the File is stored (at most MAX_FILE_SIZE bytes, 100 MB by default). Use its \`id\` as \`fileId\`/\`thumbId\` of a message or as an avatar; its \`path\` (${publicPath("<clientId>")}) and GET /api/upload/files/{id} serve the bytes.`,
          errors: {
            403: [OTHER_USERS_UPLOAD],
            409: [VERIFYING, "File with that clientId already exists"],
            410: ["Not all chunks are uploaded"],
            411: ["Hash doesn't match"],
            413: ["File is larger than <MAX_FILE_SIZE> bytes"],
            507: ["Insufficient storage"],
          },
          body: Type.Object({
            total: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: "number of chunks" }),
            size: Type.Number({ minimum: 1, description: "informational" }),
            mimeType: Text(255),
            fileName: Text(1024),
            clientId: Type.String({ minLength: 1, maxLength: 255 }),
            type: Text(255),
            fileHash: Type.Union([Type.String(), Type.Number()], { description: "lowercase hex SHA-256 of the file; empty skips the check" }),
            relationId: Type.Optional(Nullable(Type.Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }))),
            metaData: Type.Optional(Nullable(Type.Object({ duration: MetaNumber, width: MetaNumber, height: MetaNumber }))),
          }),
          response: { 200: Envelope(Type.Object({ file: File })) },
        }),
      },
      async (request) => {
        const body = request.body;
        // Upstream coerces a numeric hash to a string (which then does not match: 411).
        const file = await verifyUpload(ctx, request.auth, { ...body, fileHash: String(body.fileHash) });
        return ok({ file: fileView(file) });
      },
    );

    app.get(
      `${prefix}/files/:id`,
      {
        schema: op({
          operationId: `downloadFile${alias}`,
          tags: ["File"],
          summary: `Download a file (Range, ETag and Last-Modified supported)${aliasNote}`,
          ...download("The bytes of the File with this id.", { 400: ["Invalid id"] }),
          params: IdParams("id"),
          querystring: Type.Object({ accesstoken: Type.Optional(Type.String()), accessToken: Type.Optional(Type.String()) }),
        }),
      },
      async (request, reply) => {
        const id = positiveInt(request.params.id);
        if (id === null) throw badRequest("Invalid id");
        return serve(request, reply, await findFile(ctx.db, id));
      },
    );
  }

  // Static paths of stored files (§1.1): `path` of the File model.
  app.get(
    "/uploads/files/*",
    {
      schema: op({
        operationId: "downloadFileByPath",
        tags: ["File"],
        summary: "Download a file at its path (the `path` of the File model)",
        path: "/uploads/files/{clientId}",
        ...download("The bytes of the File with this `clientId` (URL-encoded): the `path` that verify returns."),
        params: docAs(Type.Object({ "*": Type.String() }), Type.Object({ clientId: Type.String() })),
      }),
    },
    async (request, reply) => {
      const clientId = request.params["*"].replace(/\/$/, "");
      try {
        checkClientId(clientId);
      } catch {
        throw notFound("File not found");
      }
      return serve(request, reply, await findFileByClientId(ctx.db, clientId));
    },
  );

  /** §13a.6: with FILES_REQUIRE_AUTH the caller's user id (401 without a valid token), else null. */
  async function downloader(request: FastifyRequest): Promise<number | null> {
    if (!ctx.config.filesRequireAuth) return null;
    const token = presentedToken(request, true) || cookie(request.headers.cookie, "accesstoken");
    if (!token) throw missingToken(request);
    return (await authenticateDevice(ctx, token, request.headers)).user.id;
  }

  async function serve(request: FastifyRequest, reply: FastifyReply, found: FileRow | undefined) {
    const file = await downloadableFile(ctx.db, ctx.dialect, await downloader(request), found);
    const key = fileKey(file.clientId);
    // The row's size is the stored object's (bytes are written before the row): one request
    // to the store per download, not a stat first.
    const size = Number(file.size);
    const etag = `"${file.sha256}"`;
    const lastModified = new Date(Number(file.createdAt)).toUTCString();
    reply.header("ETag", etag);
    reply.header("Last-Modified", lastModified);
    // Behind FILES_REQUIRE_AUTH a shared cache must not hand the bytes to someone else.
    reply.header("Cache-Control", ctx.config.filesRequireAuth ? "private, max-age=86400" : "public, max-age=86400");
    reply.header("Accept-Ranges", "bytes");

    if (notModified(request, etag, Number(file.createdAt))) return reply.code(304).send();
    const contentType = safeMimeType(file.mimeType);
    const disposition = contentDisposition(file.fileName);
    if (request.method === "HEAD") {
      if (!(await store.stat(key))) throw notFound("File not found");
    } else if (presigned && !ctx.config.filesRequireAuth) {
      // Public bytes straight from the store; the redirect lives shorter than the URL it names.
      reply.header("Cache-Control", "public, max-age=60");
      return reply.redirect(await presigned(key, { contentType, contentDisposition: disposition }), 302);
    }

    let range: ByteRange | undefined;
    const rangeHeader = request.headers.range;
    if (rangeHeader && ifRangeHolds(request, etag, lastModified)) {
      const parsed = parseRange(rangeHeader, size);
      if (parsed === "unsatisfiable") {
        reply.header("Content-Range", `bytes */${size}`);
        throw new HttpError(416, "Range not satisfiable");
      }
      range = parsed ?? undefined;
    }

    let body: Readable | Buffer;
    if (request.method === "HEAD") body = Readable.from([]);
    else if (size === 0) body = Buffer.alloc(0);
    else {
      const stream = await store.get(key, range ?? { start: 0, end: size - 1 });
      if (!stream) throw notFound("File not found");
      body = stream;
    }
    if (range) {
      reply.code(206);
      reply.header("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
    }
    reply.header("Content-Type", contentType);
    reply.header("Content-Disposition", disposition);
    reply.header("Content-Length", String(range ? range.end - range.start + 1 : size));
    reply.header("X-Content-Type-Options", "nosniff");
    reply.header("Content-Security-Policy", "sandbox; default-src 'none'");
    return reply.send(body);
  }

  // Housekeeping: idle uploads and their chunks go away after a day.
  const timer = setInterval(() => {
    sweepIdleUploads(ctx).catch((err) => ctx.log.error({ err }, "upload sweep failed"));
  }, SWEEP_INTERVAL_MS);
  timer.unref();
  app.addHook("onClose", async () => clearInterval(timer));
}

function cookie(header: string | undefined, name: string): string {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return "";
      }
    }
  }
  return "";
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const MIME = new RegExp(`^${TOKEN}/${TOKEN}(\\s*;\\s*${TOKEN}=(${TOKEN}|"[^"\\\\\\x00-\\x1f\\x7f]*"))*$`);

/** The stored mimeType when it is a well-formed media type, else a neutral one. */
function safeMimeType(mimeType: string): string {
  return MIME.test(mimeType) ? mimeType : "application/octet-stream";
}

/** RFC 6266: an ASCII fallback plus the exact name as RFC 5987 `filename*`. */
export function contentDisposition(fileName: string): string {
  const name = fileName.replace(/[/\\]/g, "_") || "file";
  const fallback = name.replace(/[^\x20-\x7e]|["%]/g, "_");
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

const etagsOf = (header: string) => header.split(",").map((t) => t.trim().replace(/^W\//, ""));

/** RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since. */
function notModified(request: FastifyRequest, etag: string, createdAt: number): boolean {
  const inm = request.headers["if-none-match"];
  if (inm !== undefined) return inm.trim() === "*" || etagsOf(inm).includes(etag);
  const ims = request.headers["if-modified-since"];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Math.floor(createdAt / 1000) * 1000 <= since;
}

/** If-Range: the range applies only while the representation is unchanged (strong match). */
function ifRangeHolds(request: FastifyRequest, etag: string, lastModified: string): boolean {
  const value = request.headers["if-range"];
  if (value === undefined) return true;
  const v = String(value).trim();
  if (v.startsWith('"') || v.startsWith("W/")) return v === etag;
  return v === lastModified;
}

/**
 * One `bytes=` range (first bytes, suffix, open-ended). Null = ignore the header and answer
 * 200 (other units, several ranges, malformed); "unsatisfiable" = 416.
 */
function parseRange(header: string, size: number): ByteRange | null | "unsatisfiable" {
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Number(m[2]);
  if (m[2] !== "" && end < start) return null;
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(end, size - 1) };
}
