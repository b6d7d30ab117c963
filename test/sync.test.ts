// Sync paging (§4.14, §4.15): a device that was offline pages the message and record syncs from
// lastUpdate=0; every page carries the exact count of the whole set and hasNext, the pages
// together hold every copy once in modification order, and a page past the end still counts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { call, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";

describe("sync paging", () => {
  let server: TestServer;
  let alice: SignedUp, bob: SignedUp, carol: SignedUp;
  /** Bob's copies in the order the message sync must give them. */
  const expected: number[] = [];
  const SENT = 260; // 520 records of Alice's: two pages of the record sync

  const get = async (who: SignedUp, path: string) => {
    const res = await call(server, "GET", path, { token: who.token });
    assert.equal(res.status, 200, res.text);
    return res.body.data;
  };

  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
    [alice, bob, carol] = await Promise.all(["Alice", "Bob", "Carol"].map((displayName) => signUp(server, { displayName })));
    const room = (await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: "paging", userIds: [bob.user.id] } })).body.data.room.id;
    const sent: Array<{ id: number; createdAt: number }> = [];
    for (let i = 0; i < SENT; i++) {
      sent.push((await call(server, "POST", "/api/messenger/messages", { token: alice.token, body: { roomId: room, type: "text", body: { text: `m ${i}` } } })).body.data.message);
    }
    // Bob deletes his copy of an early message after the last one was sent: that copy changed
    // last, so it comes last.
    while (Date.now() <= sent.at(-1)!.createdAt) await new Promise((r) => setImmediate(r));
    assert.equal((await call(server, "DELETE", `/api/messenger/messages/${sent[5]!.id}?target=user`, { token: bob.token })).status, 200);
    expected.push(...sent.filter((_, i) => i !== 5).map((m) => m.id), sent[5]!.id);
    // Carol writes to Bob after he blocked her: his copy is hidden, in no sync and no count.
    const dm = (await call(server, "POST", "/api/messenger/rooms", { token: carol.token, body: { userIds: [bob.user.id] } })).body.data.room.id;
    assert.equal((await call(server, "POST", "/api/messenger/blocks", { token: bob.token, body: { blockedId: carol.user.id } })).status, 200);
    assert.equal((await call(server, "POST", "/api/messenger/messages", { token: carol.token, body: { roomId: dm, type: "text", body: { text: "hidden" } } })).status, 200);
  });
  after(() => server.close());

  it("the message sync pages every copy once, oldest change first, each page with the exact count", async () => {
    const ids: number[] = [];
    for (let page = 1; page <= 3; page++) {
      const data = await get(bob, `/api/messenger/messages/sync/0?page=${page}`);
      assert.deepEqual([data.count, data.limit, data.hasNext], [SENT, 100, page < 3], `page ${page}`);
      ids.push(...data.list.map((m: any) => m.id));
    }
    assert.deepEqual(ids, expected);
    const past = await get(bob, "/api/messenger/messages/sync/0?page=4");
    assert.deepEqual([past.list, past.count, past.hasNext], [[], SENT, false], "a page past the end");

    const modified = await get(bob, "/api/messenger/messages/sync/modified/0");
    assert.deepEqual(
      modified.list.map((m: any) => [m.id, m.deleted]),
      [[expected.at(-1), true]],
      "the deleted copy is the one modified",
    );
    assert.deepEqual([modified.count, modified.hasNext], [1, false]);
  });

  it("the record sync pages every record once by modification, each page with the exact count", async () => {
    const records: any[] = [];
    for (let page = 1; page <= 2; page++) {
      const data = await get(bob, `/api/messenger/message-records/sync/0?page=${page}`);
      assert.deepEqual([data.count, data.limit, data.hasNext], [2 * SENT, 500, page < 2], `page ${page}`);
      records.push(...data.list);
    }
    assert.equal(new Set(records.map((r) => r.id)).size, 2 * SENT);
    assert.ok(
      records.every((r, i) => i === 0 || r.modifiedAt > records[i - 1].modifiedAt || (r.modifiedAt === records[i - 1].modifiedAt && r.id > records[i - 1].id)),
      "ordered by modification, then id",
    );
    assert.ok(
      records.every((r) => r.userId === alice.user.id),
      "no record of the hidden message",
    );
    const past = await get(bob, "/api/messenger/message-records/sync/0?page=3");
    assert.deepEqual([past.list, past.count, past.hasNext], [[], 2 * SENT, false], "a page past the end");
  });
});
