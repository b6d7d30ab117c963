// Blocks (API.md §4.18; upstream 20_messenger_block.ts): the five routes, and every effect of
// the "What a block does" list proven end to end through the API.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { call, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";
import { assertError, assertOk, eventsFrom, groupRoom, history, ofType, privateRoom, reaches, sendText, users } from "./room-helpers.js";
import type { OutgoingEvent } from "../src/realtime/events.js";

const BLOCK_KEYS = ["blockedId", "createdAt", "id", "userId"];

describe("blocks (§4.18)", () => {
  let server: TestServer;

  const block = (who: SignedUp, body?: unknown) => call(server, "POST", "/api/messenger/blocks", { token: who.token, body });
  const blocked = async (who: SignedUp) => assertOk(await call(server, "GET", "/api/messenger/blocks", { token: who.token })).blockedUsers;
  const unblockById = (who: SignedUp, id: number | string) => call(server, "DELETE", `/api/messenger/blocks/${id}`, { token: who.token });
  const unblockUser = (who: SignedUp, userId: number | string) => call(server, "DELETE", `/api/messenger/blocks/userId/${userId}`, { token: who.token });
  const roomBlock = (who: SignedUp, roomId: number | string) => call(server, "GET", `/api/messenger/blocks/rooms/${roomId}`, { token: who.token });

  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
  });
  after(() => server.close());

  describe("POST /blocks", () => {
    let alice: SignedUp;
    let bob: SignedUp;
    before(async () => {
      [alice, bob] = await users(server, "Alice", "Bob");
    });

    it("blockedId is required (400 blockedId must be number); a valid one is 200", async () => {
      assertError(await block(alice, {}), 400, "blockedId must be number");
      assertError(await block(alice), 400, "blockedId must be number");
      assertOk(await block(alice, { blockedId: bob.user.id }));
    });

    it("blockedId must be valid: anything but a positive integer (or its digits) is 400", async () => {
      for (const blockedId of ["not valid", "", "12abc", " 1", true, null, 1.5, -3, 0, [bob.user.id], { id: bob.user.id }]) {
        assertError(await block(alice, { blockedId }), 400, "blockedId must be number");
      }
    });

    it("a numeric string is accepted as upstream parses it", async () => {
      const [carol] = await users(server, "Carol");
      const b = assertOk(await block(alice, { blockedId: String(carol.user.id) })).block;
      assert.equal(b.blockedId, carol.user.id);
    });

    it("blocking yourself is 400; an unknown user is 404", async () => {
      assertError(await block(alice, { blockedId: alice.user.id }), 400);
      assertError(await block(alice, { blockedId: 999_999 }), 404);
      assert.ok(!(await blocked(alice)).some((u: any) => u.id === alice.user.id));
    });

    it("block is stored: Block model, userId = the requester, blockedId = the user", async () => {
      const [dave] = await users(server, "Dave");
      const before = Date.now();
      const b = assertOk(await block(alice, { blockedId: dave.user.id })).block;
      assert.deepEqual(Object.keys(b).sort(), BLOCK_KEYS);
      assert.equal(b.userId, alice.user.id);
      assert.equal(b.blockedId, dave.user.id);
      assert.ok(Number.isInteger(b.id) && b.id > 0);
      assert.ok(Number.isInteger(b.createdAt) && b.createdAt >= before, "createdAt is epoch ms");
      assert.ok((await blocked(alice)).some((u: any) => u.id === dave.user.id));
    });

    it("is idempotent: blocking again returns the existing block", async () => {
      const [erin] = await users(server, "Erin");
      const first = assertOk(await block(alice, { blockedId: erin.user.id })).block;
      const again = assertOk(await block(alice, { blockedId: erin.user.id })).block;
      assert.deepEqual(again, first);
      assert.equal((await blocked(alice)).filter((u: any) => u.id === erin.user.id).length, 1);
    });

    it("requires an access token", async () => {
      assertError(await call(server, "POST", "/api/messenger/blocks", { body: { blockedId: bob.user.id } }), 401);
      assertError(await call(server, "GET", "/api/messenger/blocks"), 401);
    });
  });

  describe("GET /blocks", () => {
    it("returns the users the requester blocked (User models, in blocking order), nobody else's", async () => {
      const [a, b, c, d] = await users(server, "A", "B", "C", "D");
      assert.deepEqual(await blocked(a), []);
      assertOk(await block(a, { blockedId: c.user.id }));
      assertOk(await block(a, { blockedId: b.user.id }));
      assertOk(await block(d, { blockedId: a.user.id }));
      const list = await blocked(a);
      assert.deepEqual(
        list.map((u: any) => u.id),
        [c.user.id, b.user.id],
      );
      assert.equal(list[0].displayName, "C");
      assert.equal(list[0].isBot, false);
      assert.deepEqual(await blocked(b), [], "being blocked shows nothing to the blocked user");
      assert.deepEqual(
        (await blocked(d)).map((u: any) => u.id),
        [a.user.id],
      );
    });

    it("team-mode contacts mark the requester's own blocks only (blockedBy)", async () => {
      const [a, b] = await users(server, "Ann", "Ben");
      assertOk(await block(a, { blockedId: b.user.id }));
      const byA = assertOk(await call(server, "GET", "/api/messenger/contacts", { token: a.token })).list;
      assert.deepEqual(byA.find((u: any) => u.id === b.user.id).blockedBy, [{ userId: a.user.id }]);
      const byB = assertOk(await call(server, "GET", "/api/messenger/contacts", { token: b.token })).list;
      assert.deepEqual(byB.find((u: any) => u.id === a.user.id).blockedBy, [], "B does not learn that A blocked B");
    });
  });

  describe("GET /blocks/rooms/:roomId", () => {
    it("returns the requester's block of the other member of a private room", async () => {
      const [a, b] = await users(server, "A", "B");
      const dm = await privateRoom(server, a, b);
      assert.equal(assertOk(await roomBlock(a, dm.id)).block, null);
      const made = assertOk(await block(a, { blockedId: b.user.id })).block;
      assert.deepEqual(assertOk(await roomBlock(a, dm.id)).block, made);
      assert.equal(assertOk(await roomBlock(b, dm.id)).block, null, "B did not block A");
    });

    it("null for group rooms; 404 for non-members and unknown rooms; 400 for a malformed id", async () => {
      const [a, b, c] = await users(server, "A", "B", "C");
      const g = await groupRoom(server, a, [b]);
      assertOk(await block(a, { blockedId: b.user.id }));
      assert.equal(assertOk(await roomBlock(a, g.id)).block, null);
      const dm = await privateRoom(server, a, b);
      assertError(await roomBlock(c, dm.id), 404);
      assertError(await roomBlock(c, g.id), 404);
      assertError(await roomBlock(a, 999_999), 404);
      assertError(await roomBlock(a, "abc"), 400, "roomId");
    });
  });

  describe("DELETE /blocks/:id and /blocks/userId/:userId", () => {
    it("delete block by id", async () => {
      const [a, b] = await users(server, "A", "B");
      const made = assertOk(await block(a, { blockedId: b.user.id })).block;
      assert.deepEqual(assertOk(await unblockById(a, made.id)), { deleted: true });
      assert.deepEqual(await blocked(a), []);
      assert.deepEqual(assertOk(await unblockById(a, made.id)), { deleted: true }, "no-op when absent");
      assertError(await unblockById(a, "abc"), 400, "id");
    });

    it("only the requester's own block is deleted by id", async () => {
      const [a, b, c] = await users(server, "A", "B", "C");
      const made = assertOk(await block(a, { blockedId: b.user.id })).block;
      assert.deepEqual(assertOk(await unblockById(c, made.id)), { deleted: true });
      assert.deepEqual(assertOk(await unblockById(b, made.id)), { deleted: true });
      assert.deepEqual(
        (await blocked(a)).map((u: any) => u.id),
        [b.user.id],
        "A's block survives",
      );
    });

    it("delete block by userId", async () => {
      const [a, b, c] = await users(server, "A", "B", "C");
      assertOk(await block(a, { blockedId: b.user.id }));
      assertOk(await block(a, { blockedId: c.user.id }));
      assertOk(await block(c, { blockedId: b.user.id }));
      assert.deepEqual(assertOk(await unblockUser(a, b.user.id)), { deleted: true });
      assert.deepEqual(
        (await blocked(a)).map((u: any) => u.id),
        [c.user.id],
      );
      assert.deepEqual(
        (await blocked(c)).map((u: any) => u.id),
        [b.user.id],
        "other users' blocks of B stay",
      );
      assert.deepEqual(assertOk(await unblockUser(a, b.user.id)), { deleted: true }, "no-op when absent");
      assert.deepEqual(assertOk(await unblockUser(a, 999_999)), { deleted: true });
      assertError(await unblockUser(a, "x"), 400, "userId");
    });
  });

  describe("what a block does (A blocks B)", () => {
    let a: SignedUp;
    let b: SignedUp;
    let b2: SignedUp; // B's second device
    let c: SignedUp;
    let dm: any;
    let group: any;
    let beforeBlock: any; // B → A, sent before the block
    let aOwn: any; // A → B, sent before the block
    let hidden: any; // B → A, sent while blocked

    const getMessage = (list: any[], id: number) => list.find((m) => m.id === id);
    const syncOf = async (who: SignedUp, modified = false) =>
      assertOk(await call(server, "GET", `/api/messenger/messages/sync/${modified ? "modified/" : ""}0`, { token: who.token })).list;
    const unreadOf = async (who: SignedUp, roomId: number) => {
      const counts = assertOk(await call(server, "GET", "/api/messenger/rooms/unread-count", { token: who.token })).unreadCounts;
      const room = assertOk(await call(server, "GET", `/api/messenger/rooms/${roomId}`, { token: who.token })).room;
      const entry = counts.find((x: any) => x.roomId === roomId)?.unreadCount ?? 0;
      assert.equal(entry, room.unreadCount, "unread-count and the room agree");
      return entry;
    };
    const noneReachA = (events: OutgoingEvent[]) => events.filter((e) => reaches(e, a)).map((e) => e.data.type);

    before(async () => {
      [a, b, c] = await users(server, "A", "B", "C");
      b2 = await signUp(server, { phone: b.phone });
      dm = await privateRoom(server, a, b);
      group = await groupRoom(server, a, [b, c], "Trio");
      beforeBlock = await sendText(server, b, dm.id, "before the block");
      aOwn = await sendText(server, a, dm.id, "mine, before the block");
      assertOk(await call(server, "POST", `/api/messenger/messages/${dm.id}/seen`, { token: a.token }));
      assert.equal(await unreadOf(a, dm.id), 0);
      assertOk(await block(a, { blockedId: b.user.id }));
    });

    it("B's new message is stored (B sees it) but A gets no copy, no event and no unread", async () => {
      const events = eventsFrom(server);
      hidden = await sendText(server, b, dm.id, "you will not see this");
      // Stored: B reads it back in the history and B's other device syncs it.
      assert.equal(getMessage(await history(server, b, dm.id), hidden.id)?.body.text, "you will not see this");
      assert.ok(getMessage(await syncOf(b2), hidden.id), "B's second device syncs it");
      // Not delivered to A.
      const aHistory = assertOk(await call(server, "GET", `/api/messenger/messages/roomId/${dm.id}`, { token: a.token }));
      assert.equal(getMessage(aHistory.list, hidden.id), undefined, "not in A's room history");
      assert.ok(getMessage(aHistory.list, beforeBlock.id), "earlier messages stay");
      assert.equal(aHistory.count, aHistory.list.length, "A's history count skips it");
      assert.equal(getMessage(await syncOf(a), hidden.id), undefined, "not in A's sync");
      assert.equal(await unreadOf(a, dm.id), 0, "no unread for A");
      assertError(await call(server, "GET", `/api/messenger/messages/${hidden.id}/message-records`, { token: a.token }), 404);
      // Events: NEW_MESSAGE to B's other device, nothing at all to A.
      const news = ofType(events(), "NEW_MESSAGE").filter((e) => (e.data.message as any).id === hidden.id);
      assert.equal(news.length, 1);
      assert.ok(reaches(news[0], b2), "B's other device is told");
      assert.ok(!reaches(news[0], b), "not the sending device");
      assert.deepEqual(noneReachA(events()), [], "no event of B's message (or its records) reaches A");
      assert.ok(ofType(events(), "NEW_MESSAGE_RECORD").length > 0, "B's own records were announced to B");
    });

    it("B's later edits and deletes of it reach B only", async () => {
      const events = eventsFrom(server);
      assertOk(await call(server, "PUT", `/api/messenger/messages/${hidden.id}`, { token: b.token, body: { text: "edited while blocked" } }));
      assert.equal(getMessage(await history(server, b, dm.id), hidden.id).body.text, "edited while blocked");
      assert.equal(getMessage(await syncOf(a, true), hidden.id), undefined, "not in A's modified sync");
      const extra = await sendText(server, b, dm.id, "to be deleted");
      assertOk(await call(server, "DELETE", `/api/messenger/messages/${extra.id}?target=all`, { token: b.token }));
      assert.ok(ofType(events(), "UPDATE_MESSAGE").some((e) => reaches(e, b2)));
      assert.ok(ofType(events(), "DELETE_MESSAGE").some((e) => reaches(e, b2)));
      assert.deepEqual(noneReachA(events()), []);
      assert.equal(getMessage(await syncOf(a), extra.id), undefined);
      assert.equal(getMessage(await syncOf(a, true), extra.id), undefined);
    });

    it("B's records (reactions, seen) are not pushed to A", async () => {
      const events = eventsFrom(server);
      const reaction = assertOk(await call(server, "POST", "/api/messenger/message-records", { token: b.token, body: { messageId: aOwn.id, reaction: "👍" } })).messageRecord;
      assertOk(await call(server, "DELETE", `/api/messenger/message-records/${reaction.id}`, { token: b.token }));
      assertOk(await call(server, "POST", `/api/messenger/messages/${dm.id}/seen`, { token: b.token }));
      const records = [...ofType(events(), "NEW_MESSAGE_RECORD"), ...ofType(events(), "DELETE_MESSAGE_RECORD")];
      assert.ok(
        records.some((e) => reaches(e, b2)),
        "B's other device hears of them",
      );
      assert.deepEqual(noneReachA(events()), []);
    });

    it("A cannot send, edit or react in the private room with B (403); nothing is written", async () => {
      const events = eventsFrom(server);
      const sent = await call(server, "POST", "/api/messenger/messages", { token: a.token, body: { roomId: dm.id, type: "text", body: { text: "hi" } } });
      assertError(sent, 403);
      assertError(await call(server, "PUT", `/api/messenger/messages/${aOwn.id}`, { token: a.token, body: { text: "edited" } }), 403);
      assertError(await call(server, "POST", "/api/messenger/message-records", { token: a.token, body: { messageId: beforeBlock.id, reaction: "👎" } }), 403);
      assert.deepEqual(events(), []);
      const bView = await history(server, b, dm.id);
      assert.equal(getMessage(bView, aOwn.id).body.text, "mine, before the block", "edit not applied");
      assert.deepEqual(
        getMessage(bView, beforeBlock.id).messageRecords.filter((r: any) => r.userId === a.user.id),
        [],
        "no reaction stored",
      );
      assert.ok(!bView.some((m: any) => m.fromUserId === a.user.id && m.body.text === "hi"), "message not stored");
    });

    it("group rooms are unaffected, both ways", async () => {
      const events = eventsFrom(server);
      const fromB = await sendText(server, b, group.id, "B in the group");
      const news = ofType(events(), "NEW_MESSAGE").find((e) => (e.data.message as any).id === fromB.id)!;
      assert.ok(reaches(news, a) && reaches(news, c), "A and C are told");
      assert.ok(getMessage(await history(server, a, group.id), fromB.id), "in A's group history");
      assert.ok(getMessage(await syncOf(a), fromB.id), "in A's sync");
      assert.equal((await unreadOf(a, group.id)) > 0, true);
      const fromA = await sendText(server, a, group.id, "A in the group");
      assert.ok(getMessage(await history(server, b, group.id), fromA.id));
      assertOk(await call(server, "PUT", `/api/messenger/messages/${fromA.id}`, { token: a.token, body: { text: "A edits in the group" } }));
      assertOk(await call(server, "POST", "/api/messenger/message-records", { token: a.token, body: { messageId: fromB.id, reaction: "🙂" } }));
      const reacted = ofType(events(), "NEW_MESSAGE_RECORD").filter((e) => e.data.messageRecord && (e.data.messageRecord as any).reaction === "🙂");
      assert.ok(
        reacted.some((e) => reaches(e, b)),
        "B hears A's reaction in the group",
      );
      const bReaction = assertOk(await call(server, "POST", "/api/messenger/message-records", { token: b.token, body: { messageId: fromA.id, reaction: "🎉" } })).messageRecord;
      const bReacted = ofType(events(), "NEW_MESSAGE_RECORD").find((e) => (e.data.messageRecord as any).id === bReaction.id)!;
      assert.ok(reaches(bReacted, a), "A hears B's reaction in the group");
    });

    it("the block is one-directional: B's side of the room is unchanged", async () => {
      assert.equal(assertOk(await roomBlock(b, dm.id)).block, null);
      assert.ok(getMessage(await history(server, b, dm.id), aOwn.id), "B keeps A's message");
    });

    it("unblocking does not re-deliver missed messages; new ones flow again", async () => {
      assertOk(await unblockUser(a, b.user.id));
      assert.equal(getMessage(await history(server, a, dm.id), hidden.id), undefined, "missed message stays missing");
      assert.equal(getMessage(await syncOf(a), hidden.id), undefined);
      assert.equal(await unreadOf(a, dm.id), 0, "and uncounted");

      const events = eventsFrom(server);
      const fresh = await sendText(server, b, dm.id, "after the unblock");
      const news = ofType(events(), "NEW_MESSAGE").find((e) => (e.data.message as any).id === fresh.id)!;
      assert.ok(reaches(news, a), "A is told again");
      assert.ok(getMessage(await history(server, a, dm.id), fresh.id));
      assert.ok(getMessage(await syncOf(a), fresh.id));
      assert.equal(await unreadOf(a, dm.id), 1);
      const reply = await sendText(server, a, dm.id, "A can write again");
      assert.ok(getMessage(await history(server, b, dm.id), reply.id));
      assertOk(await call(server, "PUT", `/api/messenger/messages/${aOwn.id}`, { token: a.token, body: { text: "edited after unblock" } }));
    });
  });
});
