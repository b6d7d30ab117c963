// The durable job queue (src/jobs): retries with backoff, the final failed state, jobs that
// survive a restart or a dead worker, and `spika worker` next to a server. Webhook calls to a
// local receiver are the jobs observed; the jobs table is read through server.ctx.db.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { call, signUp, startTestServer, testDatabase, type SignedUp, type TestServer } from "./helpers.js";
import { addContacts, assertOk } from "./room-helpers.js";
import { Receiver, waitUntil, type Received } from "./receivers.js";
import { MAX_ATTEMPTS } from "../src/jobs/queue.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Setup {
  alice: SignedUp;
  roomId: number;
}

/** Alice and Bob, a group room, and a webhook of it pointing at `url`. */
async function roomWithWebhook(server: TestServer, url: string): Promise<Setup> {
  const [alice, bob] = await Promise.all([signUp(server, { displayName: "Alice" }), signUp(server, { displayName: "Bob" })]);
  await addContacts(server, alice, bob);
  const room = assertOk(await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: "Jobs", type: "group", userIds: [bob.user.id] } })).room;
  assertOk(await call(server, "POST", `/api/messenger/webhooks/roomId/${room.id}`, { token: alice.token, body: { url } }));
  return { alice, roomId: room.id };
}

async function send(server: { url: string }, s: Setup, text: string): Promise<any> {
  return assertOk(await call(server, "POST", "/api/messenger/messages", { token: s.alice.token, body: { roomId: s.roomId, type: "text", body: { text } } })).message;
}

/** Calls to `path` about message `id` (ids restart in every test's database; paths do not). */
const about = (path: string, id: number) => (r: Received) => r.path === path && r.json?.message?.id === id;

async function webhookJobs(server: TestServer, messageId?: number) {
  const rows = await server.ctx.db.selectFrom("jobs").selectAll().where("kind", "=", "webhook").execute();
  return rows.filter((r) => messageId === undefined || JSON.parse(r.payload).messageId === messageId);
}

describe("job queue", () => {
  const receiver = new Receiver();
  before(async () => {
    await receiver.start();
  });
  after(() => receiver.stop());

  it("a failed job is retried with a growing delay until it succeeds, then it is gone", { timeout: 30_000 }, async () => {
    const server = await startTestServer({ WEBHOOK_ALLOW_PRIVATE: "1", JOB_RETRY_BASE_MS: "200" });
    try {
      const s = await roomWithWebhook(server, `${receiver.url}/flaky`);
      let calls = 0;
      receiver.answer = (r) => (r.path === "/flaky" && ++calls <= 2 ? { status: 500, body: { error: "boom" } } : { status: 200 });
      const m = await send(server, s, "retry me");
      const [first, second, third] = await receiver.waitFor(about("/flaky", m.id), 3, 20_000, "three attempts");
      // Attempt n waits base·2^(n-1), at least half of it (jitter).
      assert.ok(second.at - first.at >= 100, `first retry after ${second.at - first.at} ms`);
      assert.ok(third.at - second.at >= 200, `second retry after ${third.at - second.at} ms`);
      assert.equal(second.text, first.text, "the same body every time");
      assert.equal(third.headers["x-spika-signature"], first.headers["x-spika-signature"]);
      await waitUntil(async () => (await webhookJobs(server, m.id)).length === 0, "the job to be removed after its success");
    } finally {
      await server.close();
    }
  });

  it("after max attempts the job stays as failed with its last error, and is not called again", { timeout: 30_000 }, async () => {
    const server = await startTestServer({ WEBHOOK_ALLOW_PRIVATE: "1", JOB_RETRY_BASE_MS: "1" });
    try {
      const s = await roomWithWebhook(server, `${receiver.url}/always-500`);
      receiver.answer = (r) => (r.path === "/always-500" ? { status: 500, body: { error: "down" } } : { status: 200 });
      const m = await send(server, s, "doomed");
      const [job] = await waitUntil(async () => {
        const rows = await webhookJobs(server, m.id);
        return rows.length === 1 && rows[0].status === "failed" ? rows : undefined;
      }, "the job to fail for good");
      assert.equal(job.maxAttempts, MAX_ATTEMPTS.webhook);
      assert.equal(job.attempts, job.maxAttempts);
      assert.match(job.lastError ?? "", /500/);
      assert.equal(job.lockedBy, null);
      assert.equal(receiver.received.filter(about("/always-500", m.id)).length, job.maxAttempts, "one call per attempt");
    } finally {
      await server.close();
    }
  });

  it("a job waiting for its retry survives a server restart and then runs", { timeout: 30_000 }, async () => {
    const db = await testDatabase();
    const env = { WEBHOOK_ALLOW_PRIVATE: "1", JOB_RETRY_BASE_MS: "100" };
    let down = true;
    receiver.answer = (r) => (r.path === "/restart" && down ? { status: 503 } : { status: 200 });
    const first = await startTestServer(env, { database: db });
    let s: Setup;
    let m: any;
    try {
      s = await roomWithWebhook(first, `${receiver.url}/restart`);
      m = await send(first, s, "survive");
      await receiver.waitFor(about("/restart", m.id), 1, 20_000, "the first attempt");
    } finally {
      await first.close();
    }
    const second = await startTestServer(env, { database: db });
    try {
      const [job] = await webhookJobs(second, m.id);
      assert.ok(job, "the job is still there after the restart");
      assert.ok(job.attempts >= 1, "with its attempts counted");
      down = false;
      const [ok] = await receiver.waitFor((r) => about("/restart", m.id)(r) && r.status === 200, 1, 20_000, "a successful call after the restart");
      assert.equal(ok.json.message.body.text, "survive");
      await waitUntil(async () => (await webhookJobs(second, m.id)).length === 0, "the job to be done");
      // The message itself is there too.
      const list = assertOk(await call(second, "GET", `/api/messenger/messages/roomId/${s!.roomId}`, { token: s!.alice.token })).list;
      assert.ok(list.some((x: any) => x.id === m.id));
    } finally {
      await second.close();
      await db.drop();
    }
  });

  it("a job held by a worker that died runs again once its lease has expired", { timeout: 30_000 }, async () => {
    const db = await testDatabase();
    receiver.answer = () => ({ status: 200 });
    // No worker: the job stays pending.
    const first = await startTestServer({ JOB_WORKER: "off" }, { database: db });
    let m: any;
    let lockedAt = 0;
    try {
      const s = await roomWithWebhook(first, `${receiver.url}/lease`);
      m = await send(first, s, "orphan");
      const [job] = await webhookJobs(first, m.id);
      assert.equal(job.status, "pending");
      assert.equal(job.attempts, 0);
      // A worker claimed it and died without a word (what kill -9 leaves behind).
      lockedAt = Date.now();
      await first.ctx.db.updateTable("jobs").set({ status: "running", lockedBy: "dead-worker", lockedAt, attempts: 1 }).where("id", "=", job.id).execute();
    } finally {
      await first.close();
    }
    const second = await startTestServer({ WEBHOOK_ALLOW_PRIVATE: "1", JOB_LEASE_MS: "1500" }, { database: db });
    try {
      const [call1] = await receiver.waitFor(about("/lease", m.id), 1, 20_000, "the orphaned job");
      assert.ok(call1.at >= lockedAt + 1500, `not before the lease expired (${call1.at - lockedAt} ms)`);
      await waitUntil(async () => (await webhookJobs(second, m.id)).length === 0, "the job to be done");
    } finally {
      await second.close();
      await db.drop();
    }
  });

  it("`spika worker` runs the jobs of a server with JOB_WORKER=off, and shares them with a server's worker without running any twice", { timeout: 60_000 }, async () => {
    const db = await testDatabase();
    receiver.answer = () => ({ status: 200 });
    let worker: ChildProcess | undefined;
    const first = await startTestServer({ JOB_WORKER: "off" }, { database: db });
    let s: Setup;
    try {
      s = await roomWithWebhook(first, `${receiver.url}/shared`);
      worker = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "worker"], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, DATABASE_URL: db.url, UPLOAD_DIR: `${db.dataDir}/uploads`, WEBHOOK_ALLOW_PRIVATE: "1", LOG_LEVEL: "info" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      worker.stdout!.on("data", (d) => (output += d));
      worker.stderr!.on("data", (d) => (output += d));
      await waitUntil(() => /job worker running/.test(output), `the worker's ready line (${output})`, 30_000);
      const m = await send(first, s, "for the worker");
      await receiver.waitFor(about("/shared", m.id), 1, 20_000, "the call made by `spika worker`");
    } finally {
      await first.close();
    }
    const second = await startTestServer({ WEBHOOK_ALLOW_PRIVATE: "1" }, { database: db });
    try {
      const sent = await Promise.all(Array.from({ length: 30 }, (_, i) => send(second, s!, `together ${i}`)));
      const ids = new Set(sent.map((m) => m.id));
      await receiver.waitFor((r) => r.path === "/shared" && ids.has(r.json?.message?.id), 30, 30_000, "30 calls");
      await waitUntil(async () => (await webhookJobs(second)).length === 0, "every job to be done");
      for (const id of ids) assert.equal(receiver.received.filter(about("/shared", id)).length, 1, `message ${id} called once`);
      const exited = new Promise<number | null>((resolve) => worker!.once("exit", (code) => resolve(code)));
      worker!.kill("SIGTERM");
      assert.equal(await exited, 0, "the worker stops cleanly on SIGTERM");
    } finally {
      if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill("SIGKILL");
      await second.close();
      await db.drop();
    }
  });
});
