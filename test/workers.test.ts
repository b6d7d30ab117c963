// `spika serve` with WORKERS=2: two server processes on one port. Events, token revocations and
// jobs must work across them as across separate instances, on SQLite without Redis (through the
// primary) as on PostgreSQL + Redis; a dead worker is replaced and shutdown stops them all.
//
// node:cluster hands each new connection to the next worker in turn, so requests made on new
// connections (`onNewConnection`) and streams opened one after another reach both processes.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { call, signUp, testDatabase, type SignedUp, type TestDatabase } from "./helpers.js";
import { Receiver, waitUntil } from "./receivers.js";
import { openStream, type Stream } from "./sse-client.js";
import { spawnServer, type ServerProcess } from "./spawn.js";
import { addContacts } from "./room-helpers.js";

/** One request on a connection of its own (closed afterwards); resolves with the status. */
function onNewConnection(url: string, method: string, path: string, token: string, body?: unknown): Promise<number> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url + path, { method, agent: false, headers: { accesstoken: token, ...(payload ? { "content-type": "application/json" } : {}) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode!));
    });
    req.on("error", reject);
    req.end(payload);
  });
}

const workerPids = (server: ServerProcess): number[] => [...server.output().matchAll(/worker (\d+) listening/g)].map((m) => Number(m[1]));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("WORKERS=2: one server in two processes", { timeout: 240_000 }, () => {
  let db: TestDatabase;
  let server: ServerProcess;
  let receiver: Receiver;
  let alice: SignedUp, bob: SignedUp;
  let roomId: number;

  before(async () => {
    db = await testDatabase();
    receiver = await new Receiver().start();
    server = await spawnServer({
      WORKERS: "2",
      DATABASE_URL: db.url,
      UPLOAD_DIR: `${db.dataDir}/uploads`,
      WEBHOOK_ALLOW_PRIVATE: "1",
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    });
    assert.match(server.output(), /ready at .*, 2 worker processes\)/);
    [alice, bob] = [await signUp(server, { displayName: "Alice" }), await signUp(server, { displayName: "Bob" })];
    await addContacts(server, alice, bob);
    roomId = (await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: "Two", type: "group", userIds: [bob.user.id] } })).body.data.room.id;
  });
  after(async () => {
    await server?.stop();
    await receiver?.stop();
    await db?.drop();
  });

  it("a message sent through either process reaches the streams held by both", async () => {
    const streams: Stream[] = [];
    for (let i = 0; i < 4; i++) streams.push(await openStream(server.url, bob.token));
    try {
      const sent: number[] = [];
      for (let i = 0; i < 2; i++) {
        const status = await onNewConnection(server.url, "POST", "/api/messenger/messages", alice.token, { roomId, type: "text", body: { text: `across ${i}` } });
        assert.equal(status, 200);
      }
      for (const stream of streams) {
        for (const text of ["across 0", "across 1"]) {
          const event = await stream.next((e) => e.type === "NEW_MESSAGE" && e.message.body.text === text);
          sent.push(event.message.id);
        }
      }
      assert.equal(new Set(sent).size, 2, "the same two messages on every stream");
      for (const stream of streams) {
        const got = stream.real().filter((e) => e.type === "NEW_MESSAGE" && e.message.body.text?.startsWith("across"));
        assert.deepEqual(
          got.map((e) => e.message.body.text),
          ["across 0", "across 1"],
          "each exactly once",
        );
      }
    } finally {
      for (const s of streams) s.close();
    }
  });

  it("room events reach the streams held by both processes, each member with its own flags", async () => {
    const streams: Array<[SignedUp, Stream]> = [];
    for (const who of [alice, bob, alice, bob]) streams.push([who, await openStream(server.url, who.token)]);
    try {
      assert.equal(await onNewConnection(server.url, "POST", `/api/messenger/rooms/${roomId}/pin`, bob.token), 200);
      assert.equal(await onNewConnection(server.url, "POST", `/api/messenger/rooms/${roomId}/mute`, alice.token), 200);
      // Each member's first UPDATE_ROOM with one flag set: Bob's after his pin, Alice's after her mute.
      const muted = await Promise.all(streams.map(([, s]) => s.next((e) => e.type === "UPDATE_ROOM" && e.room.id === roomId && e.room.muted !== e.room.pinned)));
      for (const [i, [who]] of streams.entries()) {
        assert.deepEqual([muted[i].room.muted, muted[i].room.pinned], who === alice ? [true, false] : [false, true], `stream ${i}`);
        const detail = (await call(server, "GET", `/api/messenger/rooms/${roomId}`, { token: who.token })).body.data.room;
        assert.deepEqual(muted[i].room, detail, `stream ${i}: the room as GET /rooms/:id shows it to ${who.user.displayName}`);
      }
    } finally {
      for (const [, s] of streams) s.close();
    }
  });

  it("a logout through one process makes the token fail at once in both", async () => {
    const carol = await signUp(server, { displayName: "Carol" });
    // Both processes have resolved (and cached) the token.
    for (let i = 0; i < 4; i++) assert.equal(await onNewConnection(server.url, "GET", "/api/messenger/me", carol.token), 200);
    assert.equal(await onNewConnection(server.url, "POST", "/api/messenger/auth/logout", carol.token), 200);
    for (let i = 0; i < 4; i++) assert.equal(await onNewConnection(server.url, "GET", "/api/messenger/me", carol.token), 401, `request ${i}`);
  });

  it("jobs enqueued in either process run exactly once", async () => {
    assert.equal((await call(server, "POST", `/api/messenger/webhooks/roomId/${roomId}`, { token: alice.token, body: { url: `${receiver.url}/hook` } })).status, 200);
    const texts = ["job 0", "job 1", "job 2", "job 3"];
    for (const text of texts) {
      assert.equal(await onNewConnection(server.url, "POST", "/api/messenger/messages", alice.token, { roomId, type: "text", body: { text } }), 200);
    }
    const calls = await receiver.waitFor((r) => texts.includes(r.json?.message?.body?.text), texts.length);
    assert.deepEqual(calls.map((r) => r.json.message.body.text).sort(), texts);
  });

  it("a worker that dies is replaced, and the server keeps answering", async () => {
    const [victim] = workerPids(server);
    process.kill(victim, "SIGKILL");
    await waitUntil(() => workerPids(server).length === 3, "a new worker listening", 60_000);
    for (let i = 0; i < 4; i++) assert.equal(await onNewConnection(server.url, "GET", "/api/messenger/me", alice.token), 200);
  });

  it("SIGTERM stops every worker and the primary exits 0", async () => {
    const pids = workerPids(server).filter(alive);
    assert.equal(pids.length, 2);
    const exited = new Promise<number | null>((resolve) => server.child.once("exit", (code) => resolve(code)));
    server.child.kill("SIGTERM");
    assert.equal(await exited, 0, server.output());
    for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} is gone`);
    await assert.rejects(fetch(server.url + "/health"));
  });
});
