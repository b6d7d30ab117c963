// The Redis bus between two instances (src/realtime/redisBus.ts), on a real Redis, in contact mode:
// a big publish (a room of many members who do not know each other, so each is announced the
// member list as they see it) crosses as several bounded messages, in order, and every stream on
// either instance gets each event exactly once: the publishing instance delivers its own events
// itself and skips its own messages. Members who see the same member list share one event.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { CHUNK_BYTES } from "../src/realtime/redisBus.js";
import { call, signUp, startTestServer, suiteUnless, type SignedUp, type TestServer, freePort } from "./helpers.js";
import { addContacts } from "./room-helpers.js";
import { openStream, type Stream } from "./sse-client.js";
import type { OutgoingEvent } from "../src/realtime/events.js";

const haveRedis = Boolean(process.env.REDIS_URL) || spawnSync("redis-server", ["--version"]).status === 0;

/** REDIS_URL when set, else a redis-server of this test's own. */
async function redisUrl(): Promise<{ url: string; child?: ChildProcess }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL };
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      if (/Ready to accept connections/.test(out)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`redis-server exited ${code}: ${out}`)));
  });
  return { url: `redis://127.0.0.1:${port}`, child };
}

const MEMBERS = 120;

suiteUnless(haveRedis ? false : "needs REDIS_URL or redis-server", "Redis bus between two instances", () => {
  let redis: { url: string; child?: ChildProcess };
  let a: TestServer, b: TestServer;
  let owner: SignedUp;
  let members: SignedUp[];
  /** The users streaming (owner, members[0], members[1] and the last three), who all know each other. */
  let streaming: SignedUp[];
  /** Streams of members signed in on a, and on b. */
  let onA: Stream[], onB: Stream[];
  let watcher: Redis;
  const wire: Buffer[] = [];
  /** The events of every message on the wire (after the sender's id and a space). */
  const onWire = (): OutgoingEvent[] => wire.flatMap((m) => JSON.parse(m.toString("utf8", m.indexOf(0x20) + 1)).events ?? []);

  before(async () => {
    redis = await redisUrl();
    a = await startTestServer({ REDIS_URL: redis.url });
    b = await startTestServer({ REDIS_URL: redis.url, DATABASE_URL: a.ctx.config.databaseUrl });
    owner = await signUp(a, { displayName: "Owner" });
    members = [];
    for (let i = 0; i < MEMBERS; i += 20) members.push(...(await Promise.all(Array.from({ length: Math.min(20, MEMBERS - i) }, () => signUp(i < 60 ? a : b)))));
    // The owner knows every member (and may add them); the members know nobody but the streaming ones.
    await addContacts(a, owner, ...members);
    streaming = [owner, members[0], members[1], ...members.slice(-3)];
    for (const who of streaming.slice(1)) await addContacts(a, who, ...streaming.filter((o) => o !== who));
    onA = await Promise.all([owner, members[0], members[1]].map((m) => openStream(a.url, m.token)));
    onB = await Promise.all(members.slice(-3).map((m) => openStream(b.url, m.token)));
    // Everything on the deployment's channel, as Redis carries it.
    const { name } = await a.ctx.db.selectFrom("deployment").select("name").where("id", "=", 1).executeTakeFirstOrThrow();
    watcher = new Redis(redis.url);
    await watcher.subscribe(`spika:${name}:events`);
    watcher.on("messageBuffer", (_channel: Buffer, message: Buffer) => wire.push(message));
  });
  after(async () => {
    for (const s of [...(onA ?? []), ...(onB ?? [])]) s.close();
    watcher?.disconnect();
    await b?.close();
    await a?.close();
    redis?.child?.kill("SIGKILL");
  });

  it("a room announced to many members crosses in bounded messages, in order, once per stream", { timeout: 60_000 }, async () => {
    const created = await call(a, "POST", "/api/messenger/rooms", {
      token: owner.token,
      body: { name: "big", userIds: members.map((m) => m.user.id) },
    });
    assert.equal(created.status, 200, created.text);
    const roomId = created.body.data.room.id as number;
    const sent = await call(a, "POST", "/api/messenger/messages", { token: owner.token, body: { roomId, type: "text", body: { text: "after the room" } } });
    assert.equal(sent.status, 200, sent.text);
    const messageId = sent.body.data.message.id as number;

    const isRoom = (e: { type: string; room?: { id: number } }) => e.type === "NEW_ROOM" && e.room?.id === roomId;
    const isMessage = (e: { type: string; message?: { id: number } }) => e.type === "NEW_MESSAGE" && e.message?.id === messageId;
    for (const s of [...onA.slice(1), ...onB]) await s.next(isMessage);
    await onA[0].next(isRoom);
    await new Promise((r) => setTimeout(r, 300)); // a duplicate would come right behind

    for (const [where, streams] of [
      ["a", onA],
      ["b", onB],
    ] as const) {
      for (const s of streams) {
        const real = s.real();
        assert.equal(real.filter(isRoom).length, 1, `NEW_ROOM once on ${where}`);
        assert.equal(real.filter(isMessage).length, s === onA[0] ? 0 : 1, `NEW_MESSAGE once on ${where} (none on the sending device)`);
        if (s !== onA[0]) assert.ok(real.findIndex(isRoom) < real.findIndex(isMessage), `NEW_ROOM before NEW_MESSAGE on ${where}`);
        const view = real.find(isRoom)!.room;
        assert.equal(view.users.length, MEMBERS + 1, `the member list on ${where}`);
      }
    }

    // The announcement (one NEW_ROOM per member, each listing every member) is several times
    // CHUNK_BYTES in all, and crossed as several messages, none much bigger than CHUNK_BYTES.
    const announcing = wire.filter((m) => m.includes(`"type":"NEW_ROOM"`));
    const total = announcing.reduce((n, m) => n + m.length, 0);
    assert.ok(total > 2 * CHUNK_BYTES, `the announcement is ${total} bytes`);
    assert.ok(announcing.length >= total / (2 * CHUNK_BYTES), `${announcing.length} messages for ${total} bytes`);
    for (const m of wire) assert.ok(m.length <= CHUNK_BYTES + 64 * 1024, `a message of ${m.length} bytes`);

    // One event per member list: the five streaming members see the same one (they know each
    // other), the owner and the 115 others each a list of their own.
    const events = onWire().filter((e) => e.data.type === "NEW_ROOM" && (e.data.room as { id: number }).id === roomId);
    assert.equal(events.length, MEMBERS + 1 - 4);
    assert.deepEqual(events.flatMap((e) => e.userIds).sort(), [owner, ...members].map((m) => m.user.id).sort(), "every member once");
    assert.deepEqual(
      events.find((e) => e.userIds.length > 1)?.userIds.sort(),
      streaming
        .slice(1)
        .map((m) => m.user.id)
        .sort(),
    );
  });

  it("a room whose members all see the same member list crosses as one event; each stream gets its own flags", { timeout: 30_000 }, async () => {
    const created = await call(a, "POST", "/api/messenger/rooms", {
      token: owner.token,
      body: { name: "known", type: "group", userIds: streaming.slice(1).map((m) => m.user.id) },
    });
    assert.equal(created.status, 200, created.text);
    const roomId = created.body.data.room.id as number;
    const isRoom = (e: { type: string; room?: { id: number } }) => e.type === "NEW_ROOM" && e.room?.id === roomId;
    const got = await Promise.all([...onA, ...onB].map((s) => s.next(isRoom)));
    await new Promise((r) => setTimeout(r, 300)); // a duplicate would come right behind
    for (const [i, s] of [...onA, ...onB].entries()) {
      assert.equal(s.real().filter(isRoom).length, 1);
      assert.equal(got[i].room.users.length, streaming.length);
      assert.deepEqual(got[i].room.users, got[0].room.users, "the same member list");
      assert.equal(got[i].room.unreadCount, s === onA[0] ? 0 : 1, "the owner read its created_group message, the others did not");
    }
    const events = onWire().filter((e) => e.data.type === "NEW_ROOM" && (e.data.room as { id: number }).id === roomId);
    assert.equal(events.length, 1, "one event for the six members");
    assert.deepEqual(events[0].userIds.sort(), streaming.map((m) => m.user.id).sort());
  });

  it("events published on b reach a's streams once, and b's own streams once", { timeout: 30_000 }, async () => {
    const [x, y] = [members[members.length - 1], members[0]]; // x signed up on b, y on a
    const room = await call(b, "POST", "/api/messenger/rooms", { token: x.token, body: { userIds: [y.user.id] } });
    assert.equal(room.status, 200, room.text);
    const sent = await call(b, "POST", "/api/messenger/messages", { token: x.token, body: { roomId: room.body.data.room.id, type: "text", body: { text: "from b" } } });
    assert.equal(sent.status, 200, sent.text);
    const id = sent.body.data.message.id as number;
    const isMessage = (e: { type: string; message?: { id: number } }) => e.type === "NEW_MESSAGE" && e.message?.id === id;
    await onA[1].next(isMessage);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(onA[1].real().filter(isMessage).length, 1);
    assert.equal(onB[2].real().filter(isMessage).length, 0, "the sending device gets no copy");
  });
});
