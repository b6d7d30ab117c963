// The S3 file store against a real S3 protocol server in its own process (test/s3.ts): several
// instances on separate upload folders sharing one bucket and database, the store going down and
// coming back, a missing bucket at start, presigned redirects, and `spika storage migrate --to s3`.
// (Every other file test runs on S3 too with TEST_STORAGE=s3.)
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertError, call, signUp, startTestServer, testDatabase, type SignedUp, type TestDatabase, type TestServer } from "./helpers.js";
import { run } from "./cli.js";
import { S3Process, sharedS3 } from "./s3.js";
import { fileKey } from "../src/modules/files/actions.js";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
let seq = 0;
const newClientId = () => `s3-${process.pid}-${Date.now()}-${++seq}`;
const CHUNK = 64 * 1024;
/** The CLI runs below start tsx and open the database and the bucket: allow a loaded machine. */
const CLI_TIMEOUT = 120_000;

const postChunk = (server: TestServer, token: string, clientId: string, offset: number, bytes: Buffer) =>
  call(server, "POST", "/api/upload/files", { token, body: { chunk: bytes.toString("base64"), offset, clientId } });

const verify = (server: TestServer, token: string, clientId: string, bytes: Buffer, total: number) =>
  call(server, "POST", "/api/upload/files/verify", {
    token,
    body: { total, size: bytes.length, mimeType: "application/x-test", fileName: "data.bin", clientId, type: "message", fileHash: sha256(bytes) },
  });

function chunksOf(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += CHUNK) out.push(bytes.subarray(at, at + CHUNK));
  return out;
}

/** Uploads `bytes` through `server`; returns the File. */
async function upload(server: TestServer, token: string, bytes: Buffer): Promise<any> {
  const clientId = newClientId();
  const chunks = chunksOf(bytes);
  for (const [i, c] of chunks.entries()) assert.equal((await postChunk(server, token, clientId, i, c)).status, 200);
  const v = await verify(server, token, clientId, bytes, chunks.length);
  assert.equal(v.status, 200, v.text);
  return v.body.data.file;
}

async function download(server: { url: string }, path: string, headers: Record<string, string> = {}, redirect: "follow" | "manual" = "follow") {
  const res = await fetch(server.url + path, { headers, redirect });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe("S3 store: two instances on separate upload folders, one bucket and database", () => {
  let db: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let alice: SignedUp;
  before(async () => {
    db = await testDatabase();
    const env = { ...(await (await sharedS3()).bucketEnv()), UPLOAD_PENDING_QUOTA: "1000000" };
    a = await startTestServer({ ...env, UPLOAD_DIR: join(db.dataDir, "a") }, { database: db });
    b = await startTestServer({ ...env, UPLOAD_DIR: join(db.dataDir, "b") }, { database: db });
    alice = await signUp(a);
  });
  after(async () => {
    await a.close();
    await b.close();
    await db.drop();
  });

  it("chunks on A and B, check on B, verify on A, full and Range downloads on B, byte for byte", async () => {
    const bytes = randomBytes(5 * CHUNK + 123);
    const clientId = newClientId();
    const chunks = chunksOf(bytes);
    for (const [i, c] of chunks.entries()) {
      const res = await postChunk(i % 2 ? b : a, alice.token, clientId, i, c);
      assert.equal(res.status, 200, res.text);
    }
    const check = await call(b, "GET", `/api/upload/files/check/${clientId}`, { token: alice.token });
    assert.deepEqual(check.body.data.uploadedChunks, [0, 1, 2, 3, 4, 5]);
    const v = await verify(a, alice.token, clientId, bytes, chunks.length);
    assert.equal(v.status, 200, v.text);
    const file = v.body.data.file;

    const whole = await download(b, `/api/upload/files/${file.id}`);
    assert.equal(whole.status, 200);
    assert.deepEqual(whole.bytes, bytes);
    assert.equal(whole.headers.get("content-type"), "application/x-test");
    assert.equal(whole.headers.get("x-content-type-options"), "nosniff");
    assert.match(whole.headers.get("content-disposition") ?? "", /filename="data.bin"/);

    const part = await download(b, `/uploads/files/${clientId}`, { range: "bytes=70000-200000" });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes 70000-200000/${bytes.length}`);
    assert.deepEqual(part.bytes, bytes.subarray(70000, 200001));
    const tail = await download(b, `/api/upload/files/${file.id}`, { range: "bytes=-100" });
    assert.deepEqual(tail.bytes, bytes.subarray(bytes.length - 100));
    assert.equal((await download(b, `/api/upload/files/${file.id}`, { "if-none-match": `"${sha256(bytes)}"` })).status, 304);
  });

  it("the pending quota counts chunks sent to either instance", async () => {
    const clientId = newClientId();
    assert.equal((await postChunk(a, alice.token, clientId, 0, randomBytes(600_000))).status, 200);
    assertError(await postChunk(b, alice.token, newClientId(), 0, randomBytes(500_000)), 413, /UPLOAD_PENDING_QUOTA/);
    assert.equal((await postChunk(b, alice.token, newClientId(), 0, randomBytes(300_000))).status, 200);
  });
});

describe("S3 store: outages and configuration", () => {
  let s3: S3Process;
  let server: TestServer;
  let user: SignedUp;
  before(async () => {
    s3 = await S3Process.start();
    server = await startTestServer(await s3.bucketEnv());
    user = await signUp(server);
  });
  after(async () => {
    await server.close();
    await s3.close();
  });

  it("while the store is down file routes answer 503 and /health degraded; once it is back no upload is lost", async () => {
    const stored = await upload(server, user.token, randomBytes(1000));
    // `whole` has every chunk before the outage, `partial` only its first.
    const whole = randomBytes(3 * CHUNK);
    const partial = randomBytes(3 * CHUNK);
    const [wholeId, partialId] = [newClientId(), newClientId()];
    for (const [i, c] of chunksOf(whole).entries()) assert.equal((await postChunk(server, user.token, wholeId, i, c)).status, 200);
    assert.equal((await postChunk(server, user.token, partialId, 0, chunksOf(partial)[0])).status, 200);
    assert.deepEqual(await call(server, "GET", "/health").then((r) => r.body), { status: "ok" });

    await s3.stop();
    try {
      const health = await call(server, "GET", "/health");
      assert.equal(health.status, 200);
      assert.equal(health.body.status, "degraded");
      assert.match(health.body.message, /file store/);
      const chunk = await postChunk(server, user.token, partialId, 1, chunksOf(partial)[1]);
      assertError(chunk, 503, /storage/i);
      assert.equal(chunk.headers.get("retry-after"), "10");
      assertError(await verify(server, user.token, wholeId, whole, 3), 503);
      assertError(await call(server, "GET", `/api/upload/files/${stored.id}`), 503);
      // What does not need the bytes keeps working; the refused chunk is not counted.
      assert.deepEqual((await call(server, "GET", `/api/upload/files/check/${partialId}`, { token: user.token })).body.data.uploadedChunks, [0]);
      assert.equal((await call(server, "GET", "/api/messenger/me", { token: user.token })).status, 200);
    } finally {
      await s3.run();
    }

    assert.deepEqual(await call(server, "GET", "/health").then((r) => r.body), { status: "ok" });
    const w = await verify(server, user.token, wholeId, whole, 3);
    assert.equal(w.status, 200, w.text);
    assert.deepEqual((await download(server, `/api/upload/files/${w.body.data.file.id}`)).bytes, whole);
    for (const i of [1, 2]) assert.equal((await postChunk(server, user.token, partialId, i, chunksOf(partial)[i])).status, 200);
    const p = await verify(server, user.token, partialId, partial, 3);
    assert.equal(p.status, 200, p.text);
    assert.deepEqual((await download(server, `/api/upload/files/${p.body.data.file.id}`)).bytes, partial);
    assert.deepEqual((await download(server, `/api/upload/files/${stored.id}`)).status, 200);
  });

  it("a bucket that does not exist stops `spika serve` with one line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spika-s3-cli-"));
    try {
      const env = { ...(await s3.bucketEnv()), S3_BUCKET: "no-such-bucket" };
      const res = await run(["serve"], { ...env, DATABASE_URL: `sqlite:${join(dir, "spika.db")}`, UPLOAD_DIR: dir, PORT: "0", HOST: "127.0.0.1" }, CLI_TIMEOUT);
      assert.equal(res.code, 1);
      assert.equal(res.stderr.trim().split("\n").length, 1, res.stderr);
      assert.match(res.stderr, /^spika: S3_BUCKET=no-such-bucket: no such bucket/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("S3_PRESIGNED_REDIRECT=1: public downloads redirect to a short-lived URL of the store; FILES_REQUIRE_AUTH keeps streaming", async () => {
    const env = { ...(await s3.bucketEnv()), S3_PRESIGNED_REDIRECT: "1" };
    const open = await startTestServer(env);
    const closed = await startTestServer({ ...env, FILES_REQUIRE_AUTH: "1" });
    try {
      for (const [srv, redirects] of [
        [open, true],
        [closed, false],
      ] as const) {
        const me = await signUp(srv);
        const bytes = randomBytes(2000);
        const file = await upload(srv, me.token, bytes);
        const res = await download(srv, `/api/upload/files/${file.id}?accesstoken=${me.token}`, {}, "manual");
        if (!redirects) {
          assert.equal(res.status, 200);
          assert.deepEqual(res.bytes, bytes);
          continue;
        }
        assert.equal(res.status, 302);
        const location = new URL(res.headers.get("location")!);
        assert.equal(location.origin, s3.endpoint);
        assert.match(location.search, /X-Amz-Expires=300/);
        const direct = await fetch(location);
        assert.equal(direct.status, 200);
        assert.deepEqual(Buffer.from(await direct.arrayBuffer()), bytes);
        assert.equal(direct.headers.get("content-type"), "application/x-test");
      }
    } finally {
      await open.close();
      await closed.close();
    }
  });
});

describe("spika storage migrate --to s3", () => {
  let db: TestDatabase;
  let uploadDir: string;
  before(async () => {
    db = await testDatabase();
    uploadDir = join(db.dataDir, "uploads");
  });
  after(() => db.drop());

  it("copies every file of UPLOAD_DIR into the bucket, checking hashes; reruns resume and copy nothing twice", async () => {
    const local = await startTestServer({ STORAGE: "local", UPLOAD_DIR: uploadDir }, { database: db });
    const user = await signUp(local);
    const contents = [randomBytes(10), randomBytes(3 * CHUNK + 1), randomBytes(CHUNK)];
    const files = [];
    for (const bytes of contents) files.push(await upload(local, user.token, bytes));
    await local.close();

    const bucket = await (await sharedS3()).bucketEnv();
    const env = { ...bucket, STORAGE: "local", DATABASE_URL: db.url, UPLOAD_DIR: uploadDir, LOG_LEVEL: "silent" };
    const lastPath = join(uploadDir, fileKey(files[2].clientId));
    writeFileSync(lastPath, randomBytes(CHUNK));
    const first = await run(["storage", "migrate", "--to", "s3"], env, CLI_TIMEOUT);
    assert.equal(first.code, 1, first.stderr);
    assert.match(first.stdout, /copied 2, already there 0, missing 0, hash mismatch 1/);
    assert.match(first.stderr, /hash mismatch, not copied: files\//);

    writeFileSync(lastPath, contents[2]);
    const second = await run(["storage", "migrate", "--to", "s3"], env, CLI_TIMEOUT);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /copied 1, already there 2, missing 0, hash mismatch 0/);
    const third = await run(["storage", "migrate", "--to", "s3"], env, CLI_TIMEOUT);
    assert.match(third.stdout, /copied 0, already there 3/);

    // A server on the bucket, with an empty upload folder of its own, serves every file.
    const onS3 = await startTestServer({ ...bucket, UPLOAD_DIR: join(db.dataDir, "elsewhere") }, { database: db });
    try {
      for (const [i, file] of files.entries()) assert.deepEqual((await download(onS3, `/api/upload/files/${file.id}`)).bytes, contents[i]);
    } finally {
      await onS3.close();
    }
  });

  it("refuses anything but `migrate --to s3`", async () => {
    const res = await run(["storage", "migrate", "--to", "gcs"], { DATABASE_URL: db.url }, CLI_TIMEOUT);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /usage: spika storage migrate --to s3/);
  });
});
