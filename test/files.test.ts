// Files (§5, §13a.6): chunked upload, check, verify, download with Range/ETag, ownership,
// FILES_REQUIRE_AUTH, image dimensions, limits, disk failures and the idle-upload sweep.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { assertError, call, signUp, startTestServer, storage, type Res, type SignedUp, type TestServer } from "./helpers.js";
import { sweepIdleUploads } from "../src/modules/files/actions.js";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
let seq = 0;
const newClientId = () => `cid-${process.pid}-${Date.now()}-${++seq}`;

/** Splits `bytes` into chunks of the given sizes (the last size repeats). */
function split(bytes: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[Math.min(i, sizes.length - 1)];
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out.length ? out : [Buffer.alloc(0)];
}

const postChunk = (server: TestServer, token: string, clientId: string, offset: number, bytes: Buffer, prefix = "/api/upload") =>
  call(server, "POST", `${prefix}/files`, { token, body: { chunk: bytes.toString("base64"), offset, clientId } });

async function sendChunks(server: TestServer, token: string, clientId: string, chunks: Buffer[], skip: number[] = []): Promise<Res> {
  let last!: Res;
  for (let i = 0; i < chunks.length; i++) {
    if (skip.includes(i)) continue;
    last = await postChunk(server, token, clientId, i, chunks[i]);
    assert.equal(last.status, 200, last.text);
  }
  return last;
}

function verifyBody(clientId: string, bytes: Buffer, total: number, extra: Record<string, unknown> = {}) {
  return {
    total,
    size: bytes.length || 1,
    mimeType: "application/octet-stream",
    fileName: "blob.bin",
    clientId,
    type: "message",
    fileHash: sha256(bytes),
    ...extra,
  };
}

/** Uploads `bytes` in chunks and verifies; returns the File. */
async function uploadFile(server: TestServer, token: string, bytes: Buffer, opts: { sizes?: number[]; clientId?: string; extra?: Record<string, unknown> } = {}): Promise<any> {
  const clientId = opts.clientId ?? newClientId();
  const chunks = split(bytes, opts.sizes ?? [64 * 1024]);
  await sendChunks(server, token, clientId, chunks);
  const v = await call(server, "POST", "/api/upload/files/verify", { token, body: verifyBody(clientId, bytes, chunks.length, opts.extra) });
  assert.equal(v.status, 200, v.text);
  return v.body.data.file;
}

async function download(server: TestServer, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(server.url + path, { headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** A raw GET whose path is sent exactly as given (fetch would normalise `..`). */
function rawGet(server: TestServer, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: "GET", headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("files: upload, verify, download", () => {
  let server: TestServer;
  let alice: SignedUp;
  let bob: SignedUp;
  before(async () => {
    server = await startTestServer();
    alice = await signUp(server);
    bob = await signUp(server);
  });
  after(() => server.close());

  it("round-trips a 20 MB random file sent in uneven chunks, byte for byte", async () => {
    const bytes = randomBytes(20 * 1024 * 1024);
    const clientId = newClientId();
    const chunks = split(bytes, [1024 * 1024 + 7, 3 * 1024 * 1024 - 5, 777_777, 2 * 1024 * 1024 + 1]);
    const last = await sendChunks(server, alice.token, clientId, chunks);
    assert.deepEqual(
      last.body.data.uploadedChunks,
      chunks.map((_, i) => i),
    );
    const v = await call(server, "POST", "/api/upload/files/verify", {
      token: alice.token,
      body: verifyBody(clientId, bytes, chunks.length, { mimeType: "application/x-test", fileName: "big.bin", type: "message" }),
    });
    assert.equal(v.status, 200, v.text);
    const file = v.body.data.file;
    assert.equal(typeof file.id, "number");
    assert.equal(file.fileName, "big.bin");
    assert.equal(file.size, bytes.length);
    assert.equal(file.mimeType, "application/x-test");
    assert.equal(file.type, "message");
    assert.equal(file.relationId, null);
    assert.equal(file.clientId, clientId);
    assert.equal(file.path, `/uploads/files/${clientId}`);
    assert.deepEqual(file.metaData, { duration: 0, width: 0, height: 0 });
    assert.equal(typeof file.createdAt, "number");

    const res = await download(server, `/api/upload/files/${file.id}`);
    assert.equal(res.status, 200);
    assert.equal(sha256(res.bytes), sha256(bytes));
    assert.equal(res.headers.get("content-type"), "application/x-test");
    assert.equal(res.headers.get("content-length"), String(bytes.length));
    assert.equal(res.headers.get("cache-control"), "public, max-age=86400");
    assert.equal(res.headers.get("accept-ranges"), "bytes");
    assert.equal(res.headers.get("etag"), `"${sha256(bytes)}"`);
    assert.ok(res.headers.get("last-modified"));
    assert.match(res.headers.get("content-disposition") ?? "", /^attachment; filename="big\.bin"/);

    // The alias prefix and the static path serve the same bytes; the upload is gone.
    const alias = await download(server, `/api/uploads/files/${file.id}`);
    assert.equal(sha256(alias.bytes), sha256(bytes));
    const asPath = await download(server, file.path);
    assert.equal(asPath.status, 200);
    assert.equal(sha256(asPath.bytes), sha256(bytes));
    const check = await call(server, "GET", `/api/upload/files/check/${clientId}`, { token: alice.token });
    assert.equal(check.status, 404);
  });

  it("takes large chunks (16 MB, 22 MB of base64 in one body)", async () => {
    const bytes = randomBytes(16 * 1024 * 1024);
    const file = await uploadFile(server, alice.token, bytes, { sizes: [bytes.length] });
    assert.deepEqual((await download(server, `/api/upload/files/${file.id}`)).bytes, bytes);
  });

  it("the /api/uploads alias takes chunks, checks and verifies too", async () => {
    const bytes = randomBytes(3000);
    const clientId = newClientId();
    const c = await postChunk(server, alice.token, clientId, 0, bytes, "/api/uploads");
    assert.deepEqual(c.body.data.uploadedChunks, [0]);
    const check = await call(server, "GET", `/api/uploads/files/check/${clientId}`, { token: alice.token });
    assert.deepEqual(check.body.data.uploadedChunks, [0]);
    const v = await call(server, "POST", "/api/uploads/files/verify", { token: alice.token, body: verifyBody(clientId, bytes, 1) });
    assert.equal(v.status, 200, v.text);
    assert.equal(sha256((await download(server, `/api/upload/files/${v.body.data.file.id}`)).bytes), sha256(bytes));
  });

  it("downloads: unknown id → 404, malformed id → 400, trailing slash routes alike", async () => {
    const missing = await call(server, "GET", "/api/upload/files/125875288");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.status, "error");
    for (const id of ["abc", "0", "-1", "1.5"]) {
      const res = await call(server, "GET", `/api/upload/files/${id}`);
      assert.equal(res.status, 400, id);
      assert.equal(res.body.message, "Invalid id");
    }
    assert.equal((await call(server, "GET", "/uploads/files/no-such-client-id")).status, 404);
    const file = await uploadFile(server, alice.token, randomBytes(10));
    assert.equal((await download(server, `/api/upload/files/${file.id}/`)).status, 200);
  });

  it("upload endpoints require an access token", async () => {
    const clientId = newClientId();
    const chunk = await call(server, "POST", "/api/upload/files", { body: { chunk: "AAAA", offset: 0, clientId } });
    assert.equal(chunk.status, 401);
    assert.equal(chunk.body.status, "error");
    assert.equal((await call(server, "GET", `/api/upload/files/check/${clientId}`)).status, 401);
    const v = await call(server, "POST", "/api/upload/files/verify", { body: verifyBody(clientId, Buffer.from("x"), 1) });
    assert.equal(v.status, 401);
  });

  describe("07_upload_files.ts", () => {
    it("Requires chunk param to be string", async () => {
      const clientId = newClientId();
      const t = alice.token;
      assert.equal((await call(server, "POST", "/api/upload/files", { token: t, body: { offset: 0, clientId } })).status, 400);
      assert.equal((await call(server, "POST", "/api/upload/files", { token: t, body: { chunk: 42, offset: 0, clientId } })).status, 400);
      assert.equal((await call(server, "POST", "/api/upload/files", { token: t, body: { chunk: "AAAA", offset: 0, clientId } })).status, 200);
    });

    it("Requires offset param to be number", async () => {
      const clientId = newClientId();
      const t = alice.token;
      assert.equal((await call(server, "POST", "/api/upload/files", { token: t, body: { chunk: "AAAA", clientId } })).status, 400);
      assert.equal((await call(server, "POST", "/api/upload/files", { token: t, body: { chunk: "AAAA", offset: "string", clientId } })).status, 400);
      assert.equal((await call(server, "POST", "/api/upload/files", { token: t, body: { chunk: "AAAA", offset: -1, clientId } })).status, 400);
      assert.equal((await call(server, "POST", "/api/upload/files", { token: t, body: { chunk: "AAAA", offset: 1.5, clientId } })).status, 400);
      assert.equal((await call(server, "POST", "/api/upload/files", { token: t, body: { chunk: "AAAA", offset: 0, clientId } })).status, 200);
    });

    it("Requires clientId param to be string", async () => {
      const t = alice.token;
      assert.equal((await call(server, "POST", "/api/upload/files", { token: t, body: { chunk: "AAAA", offset: 0 } })).status, 400);
      assert.equal((await call(server, "POST", "/api/upload/files", { token: t, body: { chunk: "AAAA", offset: 0, clientId: 42 } })).status, 400);
      assert.equal((await call(server, "POST", "/api/upload/files", { token: t, body: { chunk: "AAAA", offset: 0, clientId: newClientId() } })).status, 200);
    });

    it("Requires clientId param to be unique (chunk for a verified clientId → 400)", async () => {
      const file = await uploadFile(server, alice.token, randomBytes(100));
      const res = await postChunk(server, alice.token, file.clientId, 0, randomBytes(10));
      assert.equal(res.status, 400);
      assert.equal(res.body.status, "error");
    });

    it("Uploads chunk of file: uploadedChunks is [0] and the stored bytes are the decoded input", async () => {
      const bytes = randomBytes(1234);
      const clientId = newClientId();
      const res = await postChunk(server, alice.token, clientId, 0, bytes);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: "success", data: { uploadedChunks: [0] } });
      const v = await call(server, "POST", "/api/upload/files/verify", { token: alice.token, body: verifyBody(clientId, bytes, 1) });
      const got = await download(server, `/api/upload/files/${v.body.data.file.id}`);
      assert.deepEqual(got.bytes, bytes);
    });

    /** A fresh one-chunk upload; returns its verify body. */
    async function prepared(extra: Record<string, unknown> = {}) {
      const bytes = randomBytes(64);
      const clientId = newClientId();
      await postChunk(server, alice.token, clientId, 0, bytes);
      return verifyBody(clientId, bytes, 1, extra);
    }
    const verify = (body: unknown) => call(server, "POST", "/api/upload/files/verify", { token: alice.token, body });
    const without = (body: Record<string, unknown>, key: string) => {
      const copy = { ...body };
      delete copy[key];
      return copy;
    };

    it("Requires total param to be number (missing, string, 0 → 400; 1 → 200)", async () => {
      const body = await prepared();
      assert.equal((await verify(without(body, "total"))).status, 400);
      assert.equal((await verify({ ...body, total: "string" })).status, 400);
      assert.equal((await verify({ ...body, total: 0 })).status, 400);
      assert.equal((await verify({ ...body, total: 1 })).status, 200);
    });

    it("Requires size param to be positive number (missing, string, 0 → 400; 42 → 200)", async () => {
      const body = await prepared();
      assert.equal((await verify(without(body, "size"))).status, 400);
      assert.equal((await verify({ ...body, size: "string" })).status, 400);
      assert.equal((await verify({ ...body, size: 0 })).status, 400);
      const ok = await verify({ ...body, size: 42 });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.data.file.size, 64, "size is the real byte count");
    });

    it("Requires type param to be string", async () => {
      const body = await prepared();
      assert.equal((await verify(without(body, "type"))).status, 400);
      assert.equal((await verify({ ...body, type: 42 })).status, 400);
      assert.equal((await verify({ ...body, type: "avatar" })).body.data.file.type, "avatar");
    });

    it("Requires clientId param to be string", async () => {
      const body = await prepared();
      assert.equal((await verify(without(body, "clientId"))).status, 400);
      assert.equal((await verify({ ...body, clientId: 42 })).status, 400);
      assert.equal((await verify(body)).status, 200);
    });

    it("Requires clientId param to be unique (verify of an existing File's clientId → 409)", async () => {
      const body = await prepared();
      assert.equal((await verify(body)).status, 200);
      const again = await verify(body);
      assert.equal(again.status, 409);
      assert.equal(again.body.status, "error");
    });

    it("Requires mimeType param to be string", async () => {
      const body = await prepared();
      assert.equal((await verify(without(body, "mimeType"))).status, 400);
      assert.equal((await verify({ ...body, mimeType: 42 })).status, 400);
      assert.equal((await verify({ ...body, mimeType: "text/plain" })).body.data.file.mimeType, "text/plain");
    });

    it("Requires fileName param to be string", async () => {
      const body = await prepared();
      assert.equal((await verify(without(body, "fileName"))).status, 400);
      assert.equal((await verify({ ...body, fileName: 42 })).status, 400);
      assert.equal((await verify({ ...body, fileName: "a\u0000b" })).status, 400);
      assert.equal((await verify({ ...body, fileName: "a.txt" })).body.data.file.fileName, "a.txt");
    });

    it("requires fileHash param to be string (missing → 400, number → 411, correct SHA-256 → 200)", async () => {
      const body = await prepared();
      assert.equal((await verify(without(body, "fileHash"))).status, 400);
      assert.equal((await verify({ ...body, fileHash: true })).status, 400);
      const numeric = await verify({ ...body, fileHash: 42 });
      assert.equal(numeric.status, 411);
      assert.equal(numeric.body.status, "error");
      assert.equal((await verify(body)).status, 200);
    });

    it("an upper-case hash matches and an empty hash skips the check", async () => {
      const upper = await prepared();
      assert.equal((await verify({ ...upper, fileHash: upper.fileHash.toUpperCase() })).status, 200);
      const empty = await prepared();
      assert.equal((await verify({ ...empty, fileHash: "" })).status, 200);
    });

    it('Requires relationId param to be number ("42" → 400, missing → 200, 42 → 42)', async () => {
      const body = await prepared();
      assert.equal((await verify({ ...body, relationId: "42" })).status, 400);
      assert.equal((await verify({ ...body, relationId: 4.5 })).status, 400);
      assert.equal((await verify({ ...body, relationId: 1e300 })).status, 400);
      const missing = await verify(body);
      assert.equal(missing.status, 200);
      assert.equal(missing.body.data.file.relationId, null);
      const given = await verify(await prepared({ relationId: 42 }));
      assert.equal(given.body.data.file.relationId, 42);
    });

    it("Metadata: metaData is echoed as integers, missing values are 0, null is allowed", async () => {
      const full = await verify(await prepared({ metaData: { duration: 1, width: 2, height: 3 } }));
      assert.deepEqual(full.body.data.file.metaData, { duration: 1, width: 2, height: 3 });
      const partial = await verify(await prepared({ metaData: { duration: 12.7 } }));
      assert.deepEqual(partial.body.data.file.metaData, { duration: 12, width: 0, height: 0 });
      const none = await verify(await prepared({ metaData: null }));
      assert.deepEqual(none.body.data.file.metaData, { duration: 0, width: 0, height: 0 });
      const bad = await verify(await prepared({ metaData: { width: "2" } }));
      assert.equal(bad.status, 400);
      assert.equal((await verify(await prepared({ metaData: { width: -1 } }))).status, 400);
    });
  });

  it("verify with a missing chunk → 410; check shows what is there; after the chunk → 200", async () => {
    const bytes = randomBytes(5 * 10_000 + 17);
    const clientId = newClientId();
    const chunks = split(bytes, [10_000]);
    await sendChunks(server, alice.token, clientId, chunks, [3]);
    const check = await call(server, "GET", `/api/upload/files/check/${clientId}`, { token: alice.token });
    assert.equal(check.status, 200);
    assert.deepEqual(check.body.data.uploadedChunks, [0, 1, 2, 4, 5]);
    const early = await call(server, "POST", "/api/upload/files/verify", { token: alice.token, body: verifyBody(clientId, bytes, chunks.length) });
    assert.equal(early.status, 410);
    assert.equal(early.body.status, "error");
    const resumed = await postChunk(server, alice.token, clientId, 3, chunks[3]);
    assert.deepEqual(resumed.body.data.uploadedChunks, [0, 1, 2, 3, 4, 5]);
    const v = await call(server, "POST", "/api/upload/files/verify", { token: alice.token, body: verifyBody(clientId, bytes, chunks.length) });
    assert.equal(v.status, 200, v.text);
    assert.equal(sha256((await download(server, `/api/upload/files/${v.body.data.file.id}`)).bytes), sha256(bytes));
  });

  it("verify without any chunk → 410; check of an unknown clientId → 404", async () => {
    const clientId = newClientId();
    const v = await call(server, "POST", "/api/upload/files/verify", { token: alice.token, body: verifyBody(clientId, Buffer.from("x"), 1) });
    assert.equal(v.status, 410);
    const check = await call(server, "GET", `/api/upload/files/check/${clientId}`, { token: alice.token });
    assert.equal(check.status, 404);
    assert.equal(check.body.status, "error");
  });

  it("re-sending a chunk overwrites it; chunks beyond total are ignored", async () => {
    const bytes = randomBytes(300);
    const clientId = newClientId();
    await postChunk(server, alice.token, clientId, 0, randomBytes(100));
    await postChunk(server, alice.token, clientId, 0, bytes.subarray(0, 100));
    await postChunk(server, alice.token, clientId, 1, bytes.subarray(100));
    const extra = await postChunk(server, alice.token, clientId, 7, randomBytes(50));
    assert.deepEqual(extra.body.data.uploadedChunks, [0, 1, 7]);
    const v = await call(server, "POST", "/api/upload/files/verify", { token: alice.token, body: verifyBody(clientId, bytes, 2) });
    assert.equal(v.status, 200, v.text);
    assert.deepEqual((await download(server, `/api/upload/files/${v.body.data.file.id}`)).bytes, bytes);
  });

  it("a hash mismatch → 411 and keeps the chunks for a retry", async () => {
    const bytes = randomBytes(2000);
    const clientId = newClientId();
    await sendChunks(server, alice.token, clientId, split(bytes, [700]));
    const wrong = await call(server, "POST", "/api/upload/files/verify", {
      token: alice.token,
      body: verifyBody(clientId, bytes, 3, { fileHash: sha256(Buffer.from("something else")) }),
    });
    assert.equal(wrong.status, 411);
    const check = await call(server, "GET", `/api/upload/files/check/${clientId}`, { token: alice.token });
    assert.deepEqual(check.body.data.uploadedChunks, [0, 1, 2]);
    const right = await call(server, "POST", "/api/upload/files/verify", { token: alice.token, body: verifyBody(clientId, bytes, 3) });
    assert.equal(right.status, 200, right.text);
  });

  it("concurrent verifies of one upload: exactly one 200, the others 409", async () => {
    const bytes = randomBytes(4 * 1024 * 1024);
    const clientId = newClientId();
    const chunks = split(bytes, [256 * 1024]);
    await sendChunks(server, alice.token, clientId, chunks);
    const body = verifyBody(clientId, bytes, chunks.length);
    const results = await Promise.all(Array.from({ length: 8 }, () => call(server, "POST", "/api/upload/files/verify", { token: alice.token, body })));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 409, 409, 409, 409, 409, 409, 409]);
    const winner = results.find((r) => r.status === 200)!;
    assert.equal(sha256((await download(server, `/api/upload/files/${winner.body.data.file.id}`)).bytes), sha256(bytes));
  });

  it("clientIds that could be paths are refused with 400 everywhere", async () => {
    const bad = ["../x", "a/b", "a\\b", "..", ".", "a\u0000b", "", "x".repeat(256)];
    for (const clientId of bad) {
      const chunk = await postChunk(server, alice.token, clientId, 0, Buffer.from("data"));
      assert.equal(chunk.status, 400, `chunk ${JSON.stringify(clientId)}`);
      assert.equal(chunk.body.status, "error");
      const v = await call(server, "POST", "/api/upload/files/verify", { token: alice.token, body: verifyBody(clientId, Buffer.from("data"), 1) });
      assert.equal(v.status, 400, `verify ${JSON.stringify(clientId)}`);
    }
    for (const encoded of ["..", "%2E%2E", "%2e", "..%2Fx", "a%2Fb", "a%5Cb", "a%00b"]) {
      const res = await rawGet(server, `/api/upload/files/check/${encoded}`, { accesstoken: alice.token });
      assert.equal(res.status, 400, `check ${encoded}`);
      assert.equal(res.body.status, "error");
    }
    const unencoded = await rawGet(server, "/api/upload/files/check/a/b", { accesstoken: alice.token });
    assert.equal(unencoded.status, 404, "an unencoded slash is another path, never a clientId");
    assert.equal(unencoded.body.status, "error");
  });

  it("a 255-character clientId with unusual characters works end to end", async () => {
    const clientId = ("ü ?#%&+" + "x".repeat(300)).slice(0, 255);
    const bytes = randomBytes(500);
    await postChunk(server, alice.token, clientId, 0, bytes);
    const check = await call(server, "GET", `/api/upload/files/check/${encodeURIComponent(clientId)}`, { token: alice.token });
    assert.deepEqual(check.body.data.uploadedChunks, [0]);
    const v = await call(server, "POST", "/api/upload/files/verify", { token: alice.token, body: verifyBody(clientId, bytes, 1) });
    assert.equal(v.status, 200, v.text);
    assert.equal(v.body.data.file.path, `/uploads/files/${clientId}`);
    assert.deepEqual((await download(server, `/uploads/files/${encodeURIComponent(clientId)}`)).bytes, bytes);
  });

  it("uploads belong to their uploader: another user can't add chunks, check or verify (403)", async () => {
    const bytes = randomBytes(100);
    const clientId = newClientId();
    await postChunk(server, alice.token, clientId, 0, bytes);
    const add = await postChunk(server, bob.token, clientId, 1, randomBytes(10));
    assert.equal(add.status, 403);
    assert.equal(add.body.status, "error");
    const check = await call(server, "GET", `/api/upload/files/check/${clientId}`, { token: bob.token });
    assert.equal(check.status, 403);
    const v = await call(server, "POST", "/api/upload/files/verify", { token: bob.token, body: verifyBody(clientId, bytes, 1) });
    assert.equal(v.status, 403);
    const mine = await call(server, "GET", `/api/upload/files/check/${clientId}`, { token: alice.token });
    assert.deepEqual(mine.body.data.uploadedChunks, [0]);
    const done = await call(server, "POST", "/api/upload/files/verify", { token: alice.token, body: verifyBody(clientId, bytes, 1) });
    assert.equal(done.status, 200);
    assert.deepEqual((await download(server, `/api/upload/files/${done.body.data.file.id}`)).bytes, bytes);
  });

  describe("download headers", () => {
    let file: any;
    let bytes: Buffer;
    before(async () => {
      bytes = randomBytes(1000);
      file = await uploadFile(server, alice.token, bytes, { extra: { mimeType: "image/x-test", fileName: 'naïve résumé "1"; x.pdf' } });
    });
    const path = () => `/api/upload/files/${file.id}`;

    it("Range: first bytes, suffix, open-ended and past-the-end ranges → 206", async () => {
      const cases: Array<[string, number, number]> = [
        ["bytes=0-99", 0, 99],
        ["bytes=-100", 900, 999],
        ["bytes=100-", 100, 999],
        ["bytes=990-5000", 990, 999],
        ["bytes=-5000", 0, 999],
      ];
      for (const [range, start, end] of cases) {
        const res = await download(server, path(), { range });
        assert.equal(res.status, 206, range);
        assert.equal(res.headers.get("content-range"), `bytes ${start}-${end}/1000`, range);
        assert.equal(res.headers.get("content-length"), String(end - start + 1), range);
        assert.deepEqual(res.bytes, bytes.subarray(start, end + 1), range);
      }
    });

    it("Range: unsatisfiable → 416 with Content-Range */size; unusable headers are ignored (200)", async () => {
      for (const range of ["bytes=1000-", "bytes=5000-6000", "bytes=-0"]) {
        const res = await call(server, "GET", path(), { headers: { range } });
        assert.equal(res.status, 416, range);
        assert.equal(res.headers.get("content-range"), "bytes */1000");
        assert.equal(res.body.status, "error");
      }
      for (const range of ["items=0-5", "bytes=5-1", "bytes=0-1,5-6", "bytes=abc"]) {
        const res = await download(server, path(), { range });
        assert.equal(res.status, 200, range);
        assert.deepEqual(res.bytes, bytes);
      }
    });

    it("If-Range: a matching ETag keeps the range, a stale one gets the whole file", async () => {
      const etag = (await download(server, path())).headers.get("etag")!;
      const same = await download(server, path(), { range: "bytes=0-9", "if-range": etag });
      assert.equal(same.status, 206);
      const stale = await download(server, path(), { range: "bytes=0-9", "if-range": '"other"' });
      assert.equal(stale.status, 200);
      assert.equal(stale.bytes.length, 1000);
    });

    it("conditional GET: If-None-Match and If-Modified-Since → 304", async () => {
      const first = await download(server, path());
      const etag = first.headers.get("etag")!;
      const lastModified = first.headers.get("last-modified")!;
      assert.equal(etag, `"${sha256(bytes)}"`);

      const byEtag = await download(server, path(), { "if-none-match": etag });
      assert.equal(byEtag.status, 304);
      assert.equal(byEtag.bytes.length, 0);
      assert.equal(byEtag.headers.get("etag"), etag);
      assert.equal((await download(server, path(), { "if-none-match": `"x", W/${etag}` })).status, 304);
      assert.equal((await download(server, path(), { "if-none-match": "*" })).status, 304);
      assert.equal((await download(server, path(), { "if-none-match": '"something-else"' })).status, 200);

      assert.equal((await download(server, path(), { "if-modified-since": lastModified })).status, 304);
      const later = new Date(Date.parse(lastModified) + 86_400_000).toUTCString();
      assert.equal((await download(server, path(), { "if-modified-since": later })).status, 304);
      const earlier = new Date(Date.parse(lastModified) - 86_400_000).toUTCString();
      const changed = await download(server, path(), { "if-modified-since": earlier });
      assert.equal(changed.status, 200);
      assert.deepEqual(changed.bytes, bytes);
      // If-None-Match wins over If-Modified-Since.
      assert.equal((await download(server, path(), { "if-none-match": '"other"', "if-modified-since": lastModified })).status, 200);
    });

    it("Content-Type is the stored mimeType; Content-Disposition carries an ASCII fallback and filename*", async () => {
      const res = await download(server, path());
      assert.equal(res.headers.get("content-type"), "image/x-test");
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      const cd = res.headers.get("content-disposition")!;
      assert.match(cd, /^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''/);
      const fallback = /filename="([^"]*)"/.exec(cd)![1];
      assert.ok(!fallback.includes('"'));
      const star = /filename\*=UTF-8''(.+)$/.exec(cd)![1];
      assert.match(star, /^[A-Za-z0-9%!._~-]+$/);
      assert.equal(decodeURIComponent(star), 'naïve résumé "1"; x.pdf');
    });

    it("a malformed stored mimeType is served as application/octet-stream", async () => {
      const weird = await uploadFile(server, alice.token, randomBytes(10), { extra: { mimeType: "text/html\r\nX-Evil: 1" } });
      const res = await download(server, `/api/upload/files/${weird.id}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/octet-stream");
      assert.equal(res.headers.get("x-evil"), null);
    });

    it("HEAD answers the headers without the bytes", async () => {
      const res = await fetch(server.url + path(), { method: "HEAD" });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-length"), "1000");
      assert.equal(res.headers.get("etag"), `"${sha256(bytes)}"`);
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    });

    it("an empty chunk is refused (400 naming the chunk), so no empty upload reaches verify", async () => {
      const clientId = newClientId();
      const res = await postChunk(server, alice.token, clientId, 0, Buffer.alloc(0));
      assertError(res, 400, /chunk/);
      const v = await call(server, "POST", "/api/upload/files/verify", { token: alice.token, body: verifyBody(clientId, Buffer.alloc(0), 1) });
      assert.equal(v.status, 410, v.text);
    });
  });

  describe("image dimensions", () => {
    it("reads width and height of an image verified without them", async () => {
      const png = await sharp({ create: { width: 37, height: 23, channels: 3, background: "#36c" } })
        .png()
        .toBuffer();
      const file = await uploadFile(server, alice.token, png, { extra: { mimeType: "image/png", fileName: "p.png" } });
      assert.deepEqual(file.metaData, { duration: 0, width: 37, height: 23 });
      assert.deepEqual((await download(server, `/api/upload/files/${file.id}`)).bytes, png);
    });

    it("applies the EXIF orientation (a rotated JPEG reports its displayed size)", async () => {
      const jpeg = await sharp({ create: { width: 40, height: 10, channels: 3, background: "#fff" } })
        .jpeg()
        .withMetadata({ orientation: 6 })
        .toBuffer();
      const file = await uploadFile(server, alice.token, jpeg, { sizes: [100], extra: { mimeType: "image/jpeg" } });
      assert.deepEqual(file.metaData, { duration: 0, width: 10, height: 40 });
    });

    it("keeps dimensions the client sent", async () => {
      const png = await sharp({ create: { width: 5, height: 6, channels: 4, background: "#000" } })
        .png()
        .toBuffer();
      const file = await uploadFile(server, alice.token, png, { extra: { mimeType: "image/png", metaData: { width: 500, height: 600, duration: 0 } } });
      assert.deepEqual(file.metaData, { duration: 0, width: 500, height: 600 });
    });

    it("a corrupt image is still stored (dimensions 0)", async () => {
      const junk = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(300)]);
      const file = await uploadFile(server, alice.token, junk, { extra: { mimeType: "image/png" } });
      assert.deepEqual(file.metaData, { duration: 0, width: 0, height: 0 });
      assert.deepEqual((await download(server, `/api/upload/files/${file.id}`)).bytes, junk);
      const text = await uploadFile(server, alice.token, Buffer.from("not an image at all"), { extra: { mimeType: "image/jpeg" } });
      assert.deepEqual(text.metaData, { duration: 0, width: 0, height: 0 });
    });
  });
});

describe("files: FILES_REQUIRE_AUTH", () => {
  let server: TestServer;
  let owner: SignedUp;
  let member: SignedUp;
  let stranger: SignedUp;
  before(async () => {
    server = await startTestServer({ FILES_REQUIRE_AUTH: "1", TEAM_MODE: "1" });
    owner = await signUp(server);
    member = await signUp(server);
    stranger = await signUp(server);
  });
  after(() => server.close());

  it("no token → 401; owner → 200 (header, query or cookie); stranger → 404", async () => {
    const bytes = randomBytes(500);
    const file = await uploadFile(server, owner.token, bytes);
    const path = `/api/upload/files/${file.id}`;
    const anonymous = await call(server, "GET", path);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.status, "error");
    assert.equal((await call(server, "GET", path, { token: "not-a-token" })).status, 401);
    assert.equal((await call(server, "GET", "/api/upload/files/999999")).status, 401);

    const byHeader = await download(server, path, { accesstoken: owner.token });
    assert.equal(byHeader.status, 200);
    assert.deepEqual(byHeader.bytes, bytes);
    assert.equal(byHeader.headers.get("cache-control"), "private, max-age=86400");
    assert.equal((await download(server, `${path}?accesstoken=${encodeURIComponent(owner.token)}`)).status, 200);
    assert.equal((await download(server, path, { cookie: `theme=dark; accesstoken=${encodeURIComponent(owner.token)}` })).status, 200);
    assert.equal((await download(server, file.path, { accesstoken: owner.token })).status, 200);

    const denied = await call(server, "GET", path, { token: stranger.token });
    assert.equal(denied.status, 404);
    assert.equal(denied.body.status, "error");
    assert.equal((await call(server, "GET", file.path, { token: stranger.token })).status, 404);
  });

  it("members of a room where a message uses the file (fileId or thumbId) may download it", async () => {
    const image = await uploadFile(server, owner.token, randomBytes(200), { extra: { mimeType: "image/png" } });
    const thumb = await uploadFile(server, owner.token, randomBytes(50), { extra: { mimeType: "image/png" } });
    const room = await call(server, "POST", "/api/messenger/rooms", { token: owner.token, body: { userIds: [member.user.id] } });
    assert.equal(room.status, 200, room.text);
    for (const id of [image.id, thumb.id]) assert.equal((await call(server, "GET", `/api/upload/files/${id}`, { token: member.token })).status, 404);
    const sent = await call(server, "POST", "/api/messenger/messages", {
      token: owner.token,
      body: { roomId: room.body.data.room.id, type: "image", body: { fileId: image.id, thumbId: thumb.id } },
    });
    assert.equal(sent.status, 200, sent.text);
    for (const id of [image.id, thumb.id]) {
      assert.equal((await call(server, "GET", `/api/upload/files/${id}`, { token: member.token })).status, 200);
      assert.equal((await call(server, "GET", `/api/upload/files/${id}`, { token: stranger.token })).status, 404);
    }
  });

  it("a user's avatar is visible to everyone signed in", async () => {
    const avatar = await uploadFile(server, owner.token, randomBytes(100), { extra: { mimeType: "image/png", type: "avatar" } });
    const path = `/api/upload/files/${avatar.id}`;
    assert.equal((await call(server, "GET", path, { token: stranger.token })).status, 404);
    const me = await call(server, "PUT", "/api/messenger/me", { token: owner.token, body: { avatarFileId: avatar.id } });
    assert.equal(me.status, 200, me.text);
    assert.equal((await call(server, "GET", path, { token: stranger.token })).status, 200);
    assert.equal((await call(server, "GET", path)).status, 401);
  });

  it("a room avatar is visible to the room's members only", async () => {
    const avatar = await uploadFile(server, owner.token, randomBytes(100), { extra: { mimeType: "image/png", type: "group avatar" } });
    const third = await signUp(server);
    const room = await call(server, "POST", "/api/messenger/rooms", {
      token: owner.token,
      body: { name: "group", userIds: [member.user.id, third.user.id], avatarFileId: avatar.id },
    });
    assert.equal(room.status, 200, room.text);
    const path = `/api/upload/files/${avatar.id}`;
    assert.equal((await call(server, "GET", path, { token: member.token })).status, 200);
    assert.equal((await call(server, "GET", path, { token: third.token })).status, 200);
    assert.equal((await call(server, "GET", path, { token: stranger.token })).status, 404);
  });
});

describe("files: FILES_REQUIRE_AUTH off (default)", () => {
  it("downloads need no token", async () => {
    const server = await startTestServer();
    try {
      const user = await signUp(server);
      const bytes = randomBytes(100);
      const file = await uploadFile(server, user.token, bytes);
      const res = await download(server, `/api/upload/files/${file.id}`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.bytes, bytes);
    } finally {
      await server.close();
    }
  });
});

describe("files: upload quotas and chunk encoding", () => {
  let server: TestServer;
  let alice: SignedUp;
  let bob: SignedUp;
  before(async () => {
    server = await startTestServer({ MAX_FILE_SIZE: "800", UPLOAD_PENDING_QUOTA: "1000" });
    alice = await signUp(server);
    bob = await signUp(server);
  });
  after(() => server.close());

  it("a user's unverified chunks are capped by UPLOAD_PENDING_QUOTA (413); verify frees the room; others are not affected", async () => {
    const a = newClientId();
    const b = newClientId();
    const bytesA = randomBytes(600);
    await sendChunks(server, alice.token, a, split(bytesA, [300]));
    assert.equal((await postChunk(server, alice.token, b, 0, randomBytes(300))).status, 200);
    // Re-sending a chunk does not count it twice.
    assert.equal((await postChunk(server, alice.token, b, 0, randomBytes(300))).status, 200);
    assertError(await postChunk(server, alice.token, b, 1, randomBytes(200)), 413, /UPLOAD_PENDING_QUOTA/);
    assert.deepEqual((await call(server, "GET", `/api/upload/files/check/${b}`, { token: alice.token })).body.data.uploadedChunks, [0]);
    assert.equal((await postChunk(server, bob.token, newClientId(), 0, randomBytes(700))).status, 200);

    const v = await call(server, "POST", "/api/upload/files/verify", { token: alice.token, body: verifyBody(a, bytesA, 2) });
    assert.equal(v.status, 200, v.text);
    assert.equal((await postChunk(server, alice.token, b, 1, randomBytes(200))).status, 200);
  });

  it("a chunk that is not base64 → 400 naming the chunk, and nothing is stored", async () => {
    for (const chunk of ["!!!!", "abc=d", "ab cd", "a", "====", "\u0000AAA"]) {
      const clientId = newClientId();
      const res = await call(server, "POST", "/api/upload/files", { token: alice.token, body: { chunk, offset: 0, clientId } });
      assertError(res, 400, /chunk/);
      assert.equal((await call(server, "GET", `/api/upload/files/check/${clientId}`, { token: alice.token })).status, 404, chunk);
    }
  });

  it("base64 with line breaks, without padding or URL-safe is read as the same bytes", async () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xfe, 0x01, 0x02]);
    const clientId = newClientId();
    const forms = [bytes.toString("base64").replace(/(.{4})/g, "$1\r\n"), bytes.toString("base64url")];
    for (const [offset, chunk] of forms.entries()) {
      const res = await call(server, "POST", "/api/upload/files", { token: alice.token, body: { chunk, offset, clientId } });
      assert.equal(res.status, 200, res.text);
    }
    const both = Buffer.concat([bytes, bytes]);
    const v = await call(server, "POST", "/api/upload/files/verify", { token: alice.token, body: verifyBody(clientId, both, 2) });
    assert.equal(v.status, 200, v.text);
    assert.deepEqual((await download(server, `/api/upload/files/${v.body.data.file.id}`)).bytes, both);
  });
});

describe("files: limits, disk failures and housekeeping", () => {
  let server: TestServer;
  let user: SignedUp;
  before(async () => {
    server = await startTestServer({ MAX_FILE_SIZE: "100000" });
    user = await signUp(server);
  });
  after(() => server.close());

  it("a chunk that takes the upload beyond MAX_FILE_SIZE → 413; exactly the limit passes", async () => {
    const big = randomBytes(100_001);
    const clientId = newClientId();
    const chunks = split(big, [40_000]);
    await sendChunks(server, user.token, clientId, chunks.slice(0, 2));
    assertError(await postChunk(server, user.token, clientId, 2, chunks[2]), 413, /MAX_FILE_SIZE/);
    const check = await call(server, "GET", `/api/upload/files/check/${clientId}`, { token: user.token });
    assert.deepEqual(check.body.data.uploadedChunks, [0, 1]);
    // Re-sending a chunk replaces its size: a smaller last chunk fits.
    assert.equal((await postChunk(server, user.token, clientId, 2, chunks[2].subarray(0, 19_999))).status, 200);
    assertError(await postChunk(server, user.token, clientId, 3, randomBytes(2)), 413, /MAX_FILE_SIZE/);
    const fits = big.subarray(0, 100_000);
    assert.equal((await postChunk(server, user.token, clientId, 2, fits.subarray(80_000))).status, 200);
    const v = await call(server, "POST", "/api/upload/files/verify", { token: user.token, body: verifyBody(clientId, fits, 3) });
    assert.equal(v.status, 200, v.text);
    assert.equal(v.body.data.file.size, 100_000);
  });

  const diskOnly = { skip: storage === "s3" ? "a local disk failure (test/s3.test.ts takes the object store down)" : false };

  it("a storage failure on verify is a 5xx envelope, leaves no File row and keeps the chunks", diskOnly, async () => {
    const bytes = randomBytes(1000);
    const clientId = newClientId();
    await postChunk(server, user.token, clientId, 0, bytes);
    const filesDir = join(server.dataDir, "uploads", "files");
    rmSync(filesDir, { recursive: true, force: true });
    writeFileSync(filesDir, "a file where the folder should be");
    try {
      const v = await call(server, "POST", "/api/upload/files/verify", { token: user.token, body: verifyBody(clientId, bytes, 1) });
      assert.ok(v.status >= 500 && v.status < 600, `status ${v.status}`);
      assert.equal(v.body.status, "error");
    } finally {
      rmSync(filesDir, { force: true });
    }
    const check = await call(server, "GET", `/api/upload/files/check/${clientId}`, { token: user.token });
    assert.deepEqual(check.body.data.uploadedChunks, [0]);
    // No File row was left behind: the same clientId verifies (a row would make this 409).
    const again = await call(server, "POST", "/api/upload/files/verify", { token: user.token, body: verifyBody(clientId, bytes, 1) });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual((await download(server, `/api/upload/files/${again.body.data.file.id}`)).bytes, bytes);
  });

  it("a storage failure on a chunk is a 5xx envelope", diskOnly, async () => {
    const chunksDir = join(server.dataDir, "uploads", "chunks");
    rmSync(chunksDir, { recursive: true, force: true });
    writeFileSync(chunksDir, "blocker");
    try {
      const res = await postChunk(server, user.token, newClientId(), 0, randomBytes(10));
      assert.ok(res.status >= 500 && res.status < 600, `status ${res.status}`);
      assert.equal(res.body.status, "error");
    } finally {
      rmSync(chunksDir, { force: true });
    }
    assert.equal((await postChunk(server, user.token, newClientId(), 0, randomBytes(10))).status, 200);
  });

  it("the sweep removes uploads idle for a day, with their chunks, and nothing fresher", async () => {
    const clientId = newClientId();
    const bytes = randomBytes(100);
    await postChunk(server, user.token, clientId, 0, bytes);
    await sweepIdleUploads(server.ctx, Date.now());
    const kept = await call(server, "GET", `/api/upload/files/check/${clientId}`, { token: user.token });
    assert.deepEqual(kept.body.data.uploadedChunks, [0]);

    await sweepIdleUploads(server.ctx, Date.now() + 25 * 60 * 60 * 1000);
    const gone = await call(server, "GET", `/api/upload/files/check/${clientId}`, { token: user.token });
    assert.equal(gone.status, 404);
    const v = await call(server, "POST", "/api/upload/files/verify", { token: user.token, body: verifyBody(clientId, bytes, 1) });
    assert.equal(v.status, 410);
    // A new upload under the same clientId starts from nothing.
    const fresh = await postChunk(server, user.token, clientId, 1, bytes);
    assert.deepEqual(fresh.body.data.uploadedChunks, [1]);
  });
});
