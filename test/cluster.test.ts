// Two servers on one PostgreSQL database and one Redis: an event produced on either
// instance reaches every expected device's streams on both instances, exactly once.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { call, freshPostgres, signUp, suiteUnless, type SignedUp } from "./helpers.js";
import { openStream, type Stream } from "./sse-client.js";
import { spawnServer, type ServerProcess } from "./spawn.js";

const pgUrl = process.env.DATABASE_URL?.startsWith("postgres") ? process.env.DATABASE_URL : null;
const redisUrl = process.env.REDIS_URL ?? null;
const skip = pgUrl && redisUrl ? false : "needs DATABASE_URL=postgres://… and REDIS_URL (see README: Tests)";

suiteUnless(skip, "two instances behind one database and one Redis", () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let one: ServerProcess, two: ServerProcess;
  let alice: SignedUp, alice2: SignedUp, bob: SignedUp, carol: SignedUp;
  const streams: Record<string, Stream> = {};

  before(async () => {
    db = await freshPostgres();
    // Each instance runs two worker processes (WORKERS=2): four processes, two hosts' worth.
    const env = { DATABASE_URL: db.url, REDIS_URL: redisUrl!, TEAM_MODE: "1", WORKERS: "2" };
    one = await spawnServer(env);
    two = await spawnServer(env);
    alice = await signUp(one, { displayName: "Alice" });
    alice2 = await signUp(two, { phone: alice.phone, deviceId: "alice-second" });
    bob = await signUp(two, { displayName: "Bob" });
    carol = await signUp(one, { displayName: "Carol" });
    streams.a1 = await openStream(one.url, alice.token);
    streams.a2 = await openStream(two.url, alice2.token);
    streams.b = await openStream(two.url, bob.token);
    streams.c1 = await openStream(one.url, carol.token);
    streams.c2 = await openStream(two.url, carol.token);
  });
  after(async () => {
    for (const s of Object.values(streams)) s.close();
    await Promise.all([one?.stop(), two?.stop()]);
    await db?.drop();
  });

  /** How many times each stream received NEW_MESSAGE for `id`, once `last` has reached all of them. */
  async function deliveries(id: number, lastId: number, expectLast: string[]): Promise<Record<string, number>> {
    for (const k of expectLast) await streams[k].next((e) => e.type === "NEW_MESSAGE" && e.message.id === lastId);
    return Object.fromEntries(Object.entries(streams).map(([k, s]) => [k, s.events.filter((e) => e.type === "NEW_MESSAGE" && e.message.id === id).length]));
  }

  it("a message sent through either instance reaches every other device once, on both instances", async () => {
    const room = (await call(one, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: "cluster", userIds: [bob.user.id, carol.user.id] } })).body.data.room.id;
    for (const [via, sender, senderStream] of [
      [one, alice, "a1"],
      [two, bob, "b"],
    ] as const) {
      const first = await call(via, "POST", "/api/messenger/messages", { token: sender.token, body: { roomId: room, type: "text", body: { text: "hello cluster" } } });
      assert.equal(first.status, 200);
      const last = await call(via, "POST", "/api/messenger/messages", { token: sender.token, body: { roomId: room, type: "text", body: { text: "barrier" } } });
      const others = Object.keys(streams).filter((k) => k !== senderStream);
      const counts = await deliveries(first.body.data.message.id, last.body.data.message.id, others);
      const expected = Object.fromEntries(Object.keys(streams).map((k) => [k, k === senderStream ? 0 : 1]));
      assert.deepEqual(counts, expected, `sent through ${via === one ? "instance one" : "instance two"}`);
    }
  });

  it("room and user events cross instances too", async () => {
    const mark = Object.fromEntries(Object.entries(streams).map(([k, s]) => [k, s.events.length]));
    await call(two, "PUT", "/api/messenger/me", { token: bob.token, body: { displayName: "Robert" } });
    for (const [k, s] of Object.entries(streams)) {
      const e = await s.next((x) => x.type === "USER_UPDATE" && x.user.id === bob.user.id, { from: mark[k] });
      assert.equal(e.user.displayName, "Robert", k);
    }
  });

  it("a logout on one instance makes the token fail on the other at once", async () => {
    const dave = await signUp(one, { displayName: "Dave" });
    // Both instances have resolved (and cached) the token.
    for (const s of [one, two]) assert.equal((await call(s, "GET", "/api/messenger/me", { token: dave.token })).status, 200);
    assert.equal((await call(one, "POST", "/api/messenger/auth/logout", { token: dave.token })).status, 200);
    for (const s of [two, one]) assert.equal((await call(s, "GET", "/api/messenger/me", { token: dave.token })).status, 401);
  });

  it("a profile change on one instance shows in the other's answers at once", async () => {
    await call(one, "PUT", "/api/messenger/me", { token: carol.token, body: { displayName: "Caroline" } });
    assert.equal((await call(two, "GET", "/api/messenger/me", { token: carol.token })).body.data.user.displayName, "Caroline");
  });

  it("both instances report healthy", async () => {
    for (const s of [one, two]) assert.deepEqual((await call(s, "GET", "/health")).body, { status: "ok" });
  });
});
