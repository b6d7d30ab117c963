// No N+1: the main lists cost a fixed number of SQL statements whatever their length, read
// from the server's own db_queries_total counter (GET /metrics).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { call, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";

describe("statements per request", () => {
  let server: TestServer;
  let alice: SignedUp, bob: SignedUp, carol: SignedUp;
  let small: number, large: number;

  const statements = async (): Promise<number> => {
    const res = await call(server, "GET", "/metrics");
    const m = /^db_queries_total (\d+)/m.exec(res.text);
    assert.ok(m, "db_queries_total is exported");
    return Number(m[1]);
  };
  /** Statements one request costs (the request is made twice; the second one is measured). */
  const cost = async (who: SignedUp, path: string): Promise<number> => {
    const first = await call(server, "GET", path, { token: who.token });
    assert.equal(first.status, 200, first.text);
    const before = await statements();
    await call(server, "GET", path, { token: who.token });
    return (await statements()) - before;
  };
  const fill = async (roomId: number, n: number) => {
    for (let i = 0; i < n; i++) {
      const m = (await call(server, "POST", "/api/messenger/messages", { token: alice.token, body: { roomId, type: "text", body: { text: `m ${i} hello` } } })).body.data.message;
      for (const who of [alice, bob, carol]) {
        await call(server, "POST", "/api/messenger/message-records", { token: who.token, body: { messageId: m.id, reaction: "👍" } });
      }
    }
  };

  before(async () => {
    // No job worker: its background statements (the search index) would land in the counts.
    server = await startTestServer({ TEAM_MODE: "1", JOB_WORKER: "off" });
    [alice, bob, carol] = await Promise.all(["Alice", "Bob", "Carol"].map((displayName) => signUp(server, { displayName })));
    small = (await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: "small", userIds: [bob.user.id, carol.user.id] } })).body.data.room.id;
    large = (await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: "large", userIds: [bob.user.id, carol.user.id] } })).body.data.room.id;
    await fill(small, 3);
    await fill(large, 60);
    for (let i = 0; i < 12; i++) {
      await call(server, "POST", "/api/messenger/rooms", { token: bob.token, body: { name: `extra ${i}`, userIds: [alice.user.id, carol.user.id] } });
    }
  });
  after(() => server.close());

  it("room history: 50 messages with reactions cost what 4 do", async () => {
    const few = await cost(bob, `/api/messenger/messages/roomId/${small}`);
    const many = await cost(bob, `/api/messenger/messages/roomId/${large}`);
    assert.equal(many, few);
    assert.ok(many <= 12, `history costs ${many} statements`);
  });

  it("room lists, history list, unread counts and group rooms do not grow with the rooms", async () => {
    const fresh = await signUp(server, { displayName: "Fresh" });
    await call(server, "POST", "/api/messenger/rooms", { token: fresh.token, body: { name: "only", userIds: [alice.user.id, bob.user.id] } });
    for (const path of [
      "/api/messenger/rooms",
      "/api/messenger/history",
      "/api/messenger/rooms/unread-count",
      "/api/messenger/group-message-rooms",
      "/api/messenger/rooms/sync/0",
    ]) {
      const one = await cost(fresh, path);
      const lots = await cost(alice, path);
      assert.equal(lots, one, path);
      assert.ok(lots <= 12, `${path} costs ${lots} statements`);
    }
  });

  it("syncs and the directory do not grow with their lists", async () => {
    const late = await signUp(server, { displayName: "Late" });
    for (const path of ["/api/messenger/messages/sync/0", "/api/messenger/message-records/sync/0", "/api/messenger/users/sync/0", "/api/messenger/contacts"]) {
      const few = await cost(late, path);
      const many = await cost(bob, path);
      assert.equal(many, few, path);
      assert.ok(many <= 12, `${path} costs ${many} statements`);
    }
  });

  it("target batch, search and gallery do not grow with their lists", async () => {
    const firstSmall = (await call(server, "GET", `/api/messenger/messages/roomId/${small}`, { token: bob.token })).body.data.list.at(-1).id;
    const firstLarge = (await call(server, "GET", `/api/messenger/messages/roomId/${large}`, { token: bob.token })).body.data.list.at(-1).id;
    const pairs: Array<[string, string]> = [
      [
        `/api/messenger/messages/roomId/${small}/target-message-batch?targetMessageId=${firstSmall}`,
        `/api/messenger/messages/roomId/${large}/target-message-batch?targetMessageId=${firstLarge}`,
      ],
      [`/api/messenger/messages/search?roomId=${small}&keyword=hello`, `/api/messenger/messages/search?roomId=${large}&keyword=hello`],
      [`/api/messenger/gallery?roomId=${small}`, `/api/messenger/gallery?roomId=${large}`],
    ];
    for (const [a, b] of pairs) {
      const few = await cost(bob, a);
      const many = await cost(bob, b);
      assert.equal(many, few, b);
      assert.ok(many <= 12, `${b} costs ${many} statements`);
    }
  });
});
