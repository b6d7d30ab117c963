// Losing Redis does not take the API down: requests keep working, streams on the same instance
// still get their events, /health says degraded, and the bus reconnects when Redis is back.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { call, signUp, startTestServer, suiteUnless, type SignedUp, type TestServer, freePort } from "./helpers.js";
import { openStream, type Stream } from "./sse-client.js";

const haveRedis = spawnSync("redis-server", ["--version"]).status === 0;

function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      if (/Ready to accept connections/.test(out)) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`redis-server exited ${code}: ${out}`)));
  });
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

suiteUnless(haveRedis ? false : "redis-server is not installed", "Redis stopped and restarted during a run", () => {
  let port: number;
  let redis: ChildProcess;
  let a: TestServer, b: TestServer;
  let alice: SignedUp, alice2: SignedUp, bob: SignedUp;
  let onA: Stream, onB: Stream;
  let roomId: number;

  before(async () => {
    port = await freePort();
    redis = await startRedis(port);
    const REDIS_URL = `redis://127.0.0.1:${port}`;
    a = await startTestServer({ REDIS_URL, TEAM_MODE: "1" });
    b = await startTestServer({ REDIS_URL, TEAM_MODE: "1", DATABASE_URL: a.ctx.config.databaseUrl });
    alice = await signUp(a, { displayName: "Alice" });
    alice2 = await signUp(a, { phone: alice.phone, deviceId: "alice-on-a" });
    bob = await signUp(b, { displayName: "Bob" });
    roomId = (await call(a, "POST", "/api/messenger/rooms", { token: alice.token, body: { userIds: [bob.user.id] } })).body.data.room.id;
    onA = await openStream(a.url, alice2.token);
    onB = await openStream(b.url, bob.token);
  });
  after(async () => {
    onA?.close();
    onB?.close();
    await b?.close();
    await a?.close();
    redis?.kill("SIGKILL");
  });

  const send = async (text: string) => {
    const res = await call(a, "POST", "/api/messenger/messages", { token: alice.token, body: { roomId, type: "text", body: { text } } });
    assert.equal(res.status, 200, res.text);
    return res.body.data.message.id as number;
  };
  const health = async (s: TestServer) => (await call(s, "GET", "/health")).body.status as string;

  it("events cross instances through Redis", async () => {
    const id = await send("before");
    await onB.next((e) => e.type === "NEW_MESSAGE" && e.message.id === id);
  });

  it("without Redis the API works, local streams get events and /health is degraded", async () => {
    redis.kill("SIGKILL");
    await until("/health to report degraded", async () => (await health(a)) === "degraded");
    assert.equal((await call(a, "GET", "/health")).status, 200);
    const id = await send("during the outage");
    await onA.next((e) => e.type === "NEW_MESSAGE" && e.message.id === id);
    const history = await call(b, "GET", `/api/messenger/messages/roomId/${roomId}`, { token: bob.token });
    assert.ok(
      history.body.data.list.some((m: any) => m.id === id),
      "the other instance's users catch up through the API",
    );
  });

  it("when Redis is back the bus reconnects and events cross instances again", async () => {
    redis = await startRedis(port);
    await until("both instances to report ok", async () => (await health(a)) === "ok" && (await health(b)) === "ok");
    let id = 0;
    // The subscription is re-established asynchronously after the reconnect; retry the send
    // until one crosses (each attempt is a real message).
    await until("an event to cross instances", async () => {
      id = await send("after the outage");
      return onB
        .next((e) => e.type === "NEW_MESSAGE" && e.message.id === id, { timeoutMs: 1000 })
        .then(() => true)
        .catch(() => false);
    });
  });
});
