// History (API.md §4.19) and §14 "13_messenger_history.ts": the caller's rooms by their latest
// message, keyword rules, paging, unread counts and flags, blocks, deleted rooms and copies,
// and the per-room item with this device's copy.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { assertOk, assertError, call, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";

const HISTORY = "/api/messenger/history";

let server: TestServer;

before(async () => {
  server = await startTestServer({ TEAM_MODE: "1" });
});
after(async () => {
  await server?.close();
});

const user = (displayName?: string) => signUp(server, { displayName });

async function createRoom(who: SignedUp, body: Record<string, unknown>): Promise<any> {
  return (await assertOk(await call(server, "POST", "/api/messenger/rooms", { token: who.token, body }))).room;
}

const privateRoom = (who: SignedUp, peer: SignedUp) => createRoom(who, { userIds: [peer.user.id] });
const group = (who: SignedUp, name: string, others: SignedUp[] = []) => createRoom(who, { name, type: "group", userIds: others.map((o) => o.user.id) });

async function send(who: SignedUp, roomId: number, text: string): Promise<any> {
  return (await assertOk(await call(server, "POST", "/api/messenger/messages", { token: who.token, body: { roomId, type: "text", body: { text } } }))).message;
}

async function history(who: SignedUp, query = ""): Promise<any> {
  return assertOk(await call(server, "GET", HISTORY + query, { token: who.token }));
}

/**
 * Waits (without sleeping: the server runs in this process, on this clock) until the clock has
 * passed `t`, so that what is created next is strictly newer than a message created at `t`.
 */
function afterMillisecond(t: number): void {
  while (Date.now() <= t) {
    /* spin: at most one millisecond */
  }
}

const roomIdsOf = (data: any) => data.list.map((i: any) => i.roomId);
const itemOf = (data: any, roomId: number) => data.list.find((i: any) => i.roomId === roomId);

async function roomItem(who: SignedUp, roomId: number | string): Promise<any> {
  return assertOk(await call(server, "GET", `${HISTORY}/roomId/${roomId}`, { token: who.token }));
}

describe("GET /history", () => {
  it("returns room list (header spelled accessToken)", async () => {
    const me = await user("Lister");
    const peer = await user("Peer");
    const room = await privateRoom(me, peer);
    const msg = await send(peer, room.id, "hi");
    const res = await call(server, "GET", HISTORY, { headers: { accessToken: me.token } });
    const data = await assertOk(res);
    assert.ok(Array.isArray(data.list));
    assert.deepEqual(Object.keys(data).sort(), ["count", "limit", "list", "page"]);
    assert.equal(data.limit, 20);
    assert.equal(data.page, 1);
    assert.equal(data.count, 1);
    assert.deepEqual(data.list, [{ roomId: room.id, muted: false, pinned: false, lastMessage: msg, unreadCount: 1 }]);
  });

  it("requires an access token", async () => {
    assertError(await call(server, "GET", HISTORY), 401);
    assertError(await call(server, "GET", HISTORY, { token: "not-a-token" }), 401);
  });

  describe("keyword (13_messenger_history)", () => {
    it("returns private room whose peer's name starts with the keyword", async () => {
      const me = await user("Searcher");
      const johnny = await user("Johnny");
      const other = await user("Someone");
      const room = await privateRoom(me, johnny);
      await send(me, room.id, "hello Johnny");
      await send(me, (await privateRoom(me, other)).id, "hello");
      const data = await history(me, "?keyword=John");
      assert.equal(data.list.length, 1);
      assert.deepEqual(roomIdsOf(data), [room.id]);
      assert.equal(data.count, 1);
      // Ignoring case.
      assert.deepEqual(roomIdsOf(await history(me, "?keyword=jOHN")), [room.id]);
    });

    it("returns private room whose peer's name contains the keyword", async () => {
      const me = await user("Searcher");
      const mark = await user("MarrkyMark");
      const room = await privateRoom(me, mark);
      await send(mark, room.id, "yo");
      await send(me, (await privateRoom(me, await user("Nobody"))).id, "x");
      const data = await history(me, "?keyword=arrkyMar");
      assert.equal(data.list.length, 1);
      assert.deepEqual(roomIdsOf(data), [room.id]);
      assert.equal(data.count, 1);
    });

    it("returns group room whose name starts with the keyword", async () => {
      const me = await user("Searcher");
      const a = await user("A");
      const b = await user("B");
      const room = await group(me, "Johnathan", [a, b]);
      await group(me, "Other group", [a, b]);
      const data = await history(me, "?keyword=Johnath");
      assert.equal(data.list.length, 1);
      assert.deepEqual(roomIdsOf(data), [room.id]);
      assert.equal(data.count, 1);
    });

    it("returns group room whose name contains the keyword", async () => {
      const me = await user("Searcher");
      const a = await user("A");
      const b = await user("B");
      const room = await group(me, "Robocall", [a, b]);
      await group(me, "Other group", [a, b]);
      const data = await history(me, "?keyword=obocal");
      assert.equal(data.list.length, 1);
      assert.deepEqual(roomIdsOf(data), [room.id]);
      assert.equal(data.count, 1);
      assert.deepEqual(roomIdsOf(await history(me, "?keyword=ROBOCALL")), [room.id]);
    });

    it("matches groups by name only and private rooms by the peer's name only", async () => {
      const me = await user("Zebediah");
      const kim = await user("Kimberly");
      const x = await user("Xavier");
      // A group whose member is named Kimberly but whose name does not match.
      await group(me, "Book club", [kim, x]);
      // A private room: the requester's own name never matches it.
      const room = await privateRoom(me, kim);
      await send(me, room.id, "Zebediah writes");
      assert.deepEqual(roomIdsOf(await history(me, "?keyword=Zebed")), []);
      assert.deepEqual(roomIdsOf(await history(me, "?keyword=Book")).length, 1);
      assert.deepEqual(roomIdsOf(await history(me, "?keyword=imber")), [room.id]);
      // % and _ are literal characters, not wildcards.
      assert.deepEqual((await history(me, "?keyword=%25")).list, []);
      assert.deepEqual((await history(me, "?keyword=_")).list, []);
      // A blank keyword is no keyword.
      assert.equal((await history(me, "?keyword=%20%20")).count, 2);
    });

    it("never finds rooms of other users", async () => {
      const stranger = await user("Stranger");
      const owner = await user("Owner");
      const quinn = await user("Quinnelope");
      await send(owner, (await privateRoom(owner, quinn)).id, "hi");
      await group(owner, "Quinnelope fans", [quinn, await user("C")]);
      const data = await history(stranger, "?keyword=Quinnelope");
      assert.deepEqual(data.list, []);
      assert.equal(data.count, 0);
    });
  });

  it("keeps only group rooms and rooms with exactly 2 members, skipping rooms without messages", async () => {
    const me = await user("Kinds");
    const a = await user("A");
    const b = await user("B");
    const silent = await privateRoom(me, a); // no message: skipped
    const lonelyGroup = await createRoom(me, { name: "Just me", type: "group" }); // group of 1, with its system message
    const custom2 = await createRoom(me, { name: "Pair", type: "custom", userIds: [b.user.id] });
    const custom3 = await createRoom(me, { name: "Trio", type: "custom", userIds: [a.user.id, b.user.id] });
    const custom1 = await createRoom(me, { name: "Solo", type: "custom" });
    for (const r of [custom2, custom3, custom1]) await send(me, r.id, "m");
    const data = await history(me);
    assert.deepEqual(roomIdsOf(data).sort(), [lonelyGroup.id, custom2.id].sort());
    assert.equal(data.count, 2);
    assert.ok(!roomIdsOf(data).includes(silent.id));
  });

  it("orders rooms by their latest message, newest first", async () => {
    const me = await user("Orderer");
    const [p1, p2, p3] = await Promise.all([user("P1"), user("P2"), user("P3")]);
    const r1 = await privateRoom(me, p1);
    const r2 = await privateRoom(me, p2);
    const r3 = await privateRoom(me, p3);
    await send(p1, r1.id, "1");
    await send(me, r2.id, "2");
    await send(p3, r3.id, "3");
    assert.deepEqual(roomIdsOf(await history(me)), [r3.id, r2.id, r1.id]);
    const last = await send(p1, r1.id, "4");
    const data = await history(me);
    assert.deepEqual(roomIdsOf(data), [r1.id, r3.id, r2.id]);
    assert.equal(itemOf(data, r1.id).lastMessage.id, last.id);
    assert.equal(itemOf(data, r1.id).lastMessage.body.text, "4");
    // The peer sees the same message as its own room's latest.
    assert.deepEqual(itemOf(await history(p1), r1.id).lastMessage, last);
  });

  it("pages by 20 with a count of the whole set", async () => {
    const me = await user("Pager");
    const rooms: any[] = [];
    for (let i = 0; i < 23; i++) rooms.push(await createRoom(me, { name: `G${i}`, type: "group" }));
    const newestFirst = rooms.map((r) => r.id).reverse();
    const p1 = await history(me);
    assert.equal(p1.count, 23);
    assert.equal(p1.limit, 20);
    assert.equal(p1.page, 1);
    assert.deepEqual(roomIdsOf(p1), newestFirst.slice(0, 20));
    const p2 = await history(me, "?page=2");
    assert.equal(p2.page, 2);
    assert.equal(p2.count, 23);
    assert.deepEqual(roomIdsOf(p2), newestFirst.slice(20));
    const p3 = await history(me, "?page=3");
    assert.deepEqual(p3.list, []);
    assert.equal(p3.count, 23);
    // A non-numeric page means 1.
    const bad = await history(me, "?page=abc");
    assert.equal(bad.page, 1);
    assert.deepEqual(roomIdsOf(bad), newestFirst.slice(0, 20));
    // Each group's latest message is its created_group system message.
    for (const item of p1.list) {
      assert.equal(item.lastMessage.type, "system");
      assert.equal(item.lastMessage.roomId, item.roomId);
      assert.equal(item.lastMessage.body.type, "created_group");
    }
    // Keyword paging counts the same set.
    const k = await history(me, "?keyword=G1");
    assert.equal(k.count, 11); // G1, G10..G19
    assert.equal(k.list.length, 11);
  });

  it("reports unread counts, and resets them when the room is seen", async () => {
    const me = await user("Reader");
    const peer = await user("Writer");
    const room = await privateRoom(me, peer);
    await send(peer, room.id, "one");
    await send(peer, room.id, "two");
    await send(me, room.id, "mine");
    assert.equal(itemOf(await history(me), room.id).unreadCount, 2);
    assert.equal(itemOf(await history(peer), room.id).unreadCount, 1);
    await assertOk(await call(server, "POST", `/api/messenger/messages/${room.id}/seen`, { token: me.token }));
    assert.equal(itemOf(await history(me), room.id).unreadCount, 0);
    assert.equal(itemOf(await history(peer), room.id).unreadCount, 1);
  });

  it("shows the requester's own muted and pinned flags", async () => {
    const me = await user("Flagger");
    const peer = await user("Peer");
    const a = await privateRoom(me, peer);
    const b = await group(me, "Flags", [peer]);
    await send(me, a.id, "x");
    await assertOk(await call(server, "POST", `/api/messenger/rooms/${a.id}/mute`, { token: me.token }));
    await assertOk(await call(server, "POST", `/api/messenger/rooms/${b.id}/pin`, { token: me.token }));
    const mine = await history(me);
    assert.deepEqual([itemOf(mine, a.id).muted, itemOf(mine, a.id).pinned], [true, false]);
    assert.deepEqual([itemOf(mine, b.id).muted, itemOf(mine, b.id).pinned], [false, true]);
    const theirs = await history(peer);
    for (const id of [a.id, b.id]) assert.deepEqual([itemOf(theirs, id).muted, itemOf(theirs, id).pinned], [false, false]);
    await assertOk(await call(server, "POST", `/api/messenger/rooms/${a.id}/unmute`, { token: me.token }));
    assert.equal(itemOf(await history(me), a.id).muted, false);
  });

  it("leaves out deleted rooms", async () => {
    const me = await user("Admin");
    const member = await user("Member");
    const kept = await group(me, "Kept", [member]);
    const gone = await group(me, "Gone", [member]);
    await assertOk(await call(server, "DELETE", `/api/messenger/rooms/${gone.id}`, { token: me.token }));
    for (const who of [me, member]) {
      const data = await history(who);
      assert.deepEqual(roomIdsOf(data), [kept.id]);
      assert.equal(data.count, 1);
      assert.deepEqual(roomIdsOf(await history(who, "?keyword=Gone")), []);
    }
  });

  it("shows the requester's copy: deleted for them, or for everyone", async () => {
    const me = await user("Deleter");
    const peer = await user("Peer");
    const room = await privateRoom(me, peer);
    const msg = await send(peer, room.id, "secret");
    await assertOk(await call(server, "DELETE", `/api/messenger/messages/${msg.id}?target=user`, { token: me.token }));
    const mine = itemOf(await history(me), room.id).lastMessage;
    assert.equal(mine.id, msg.id);
    assert.equal(mine.deleted, true);
    assert.deepEqual(mine.body, { text: "Deleted message" });
    const theirs = itemOf(await history(peer), room.id).lastMessage;
    assert.equal(theirs.deleted, false);
    assert.equal(theirs.body.text, "secret");
    await assertOk(await call(server, "DELETE", `/api/messenger/messages/${msg.id}?target=all`, { token: peer.token }));
    const after = itemOf(await history(peer), room.id).lastMessage;
    assert.equal(after.deleted, true);
    assert.deepEqual(after.body, { text: "Deleted message" });
  });

  it("represents a room by the latest message the requester can see when a block hides newer ones", async () => {
    const me = await user("Blocker");
    const peer = await user("Blocked");
    const other = await user("Other");
    const p = await privateRoom(me, peer);
    const q = await privateRoom(me, other);
    const early = await send(peer, p.id, "before the block");
    const qMsg = await send(other, q.id, "in between");
    await assertOk(await call(server, "POST", "/api/messenger/blocks", { token: me.token, body: { blockedId: peer.user.id } }));
    const hidden = await send(peer, p.id, "after the block");

    const mine = await history(me);
    // Q's message is newer than the last message of P that the requester holds.
    assert.deepEqual(roomIdsOf(mine), [q.id, p.id]);
    assert.equal(itemOf(mine, p.id).lastMessage.id, early.id);
    assert.equal(itemOf(mine, p.id).unreadCount, 1);
    assert.equal(itemOf(mine, q.id).lastMessage.id, qMsg.id);
    const theirs = await history(peer);
    assert.equal(itemOf(theirs, p.id).lastMessage.id, hidden.id);
    // history/roomId agrees.
    assert.equal((await roomItem(me, p.id)).lastMessage.id, early.id);
    assert.equal((await roomItem(peer, p.id)).lastMessage.id, hidden.id);
  });

  it("skips a room whose only messages are hidden from the requester", async () => {
    const me = await user("Blocker");
    const peer = await user("Blocked");
    const p = await privateRoom(me, peer);
    await assertOk(await call(server, "POST", "/api/messenger/blocks", { token: me.token, body: { blockedId: peer.user.id } }));
    const hidden = await send(peer, p.id, "never delivered");
    const mine = await history(me);
    assert.deepEqual(mine.list, []);
    assert.equal(mine.count, 0);
    assert.equal(itemOf(await history(peer), p.id).lastMessage.id, hidden.id);
    const item = await roomItem(me, p.id);
    assert.equal(item.lastMessage, null);
    assert.equal(item.unreadCount, 0);
  });

  it("shows a member added later the messages from their joining on", async () => {
    const admin = await user("Admin");
    const a = await user("A");
    const late = await user("Late");
    const room = await group(admin, "Growing", [a]);
    const before = await send(a, room.id, "before you came");
    afterMillisecond(before.createdAt);
    await assertOk(await call(server, "PUT", `/api/messenger/rooms/${room.id}`, { token: admin.token, body: { action: "addGroupUsers", userIds: [late.user.id] } }));
    const item = itemOf(await history(late), room.id);
    assert.equal(item.lastMessage.type, "system");
    assert.equal(item.lastMessage.body.type, "added_group_members");
    assert.equal(item.unreadCount, 1);
  });

  it("drops a room the requester left", async () => {
    const admin = await user("Admin");
    const leaver = await user("Leaver");
    const room = await group(admin, "Leave me", [leaver]);
    assert.deepEqual(roomIdsOf(await history(leaver)), [room.id]);
    await assertOk(await call(server, "POST", `/api/messenger/rooms/${room.id}/leave`, { token: leaver.token }));
    assert.deepEqual((await history(leaver)).list, []);
    assertError(await call(server, "GET", `${HISTORY}/roomId/${room.id}`, { token: leaver.token }), 404);
  });

  it("is a read: no events", async () => {
    const me = await user("Quiet");
    const peer = await user("Peer");
    const room = await privateRoom(me, peer);
    await send(peer, room.id, "x");
    const before = server.events.events.length;
    await history(me);
    await history(me, "?keyword=Pe");
    await roomItem(me, room.id);
    assert.equal(server.events.events.length, before);
  });
});

describe("GET /history/roomId/:roomId", () => {
  it("answers 400 for an invalid roomId", async () => {
    const me = await user("Me");
    for (const bad of ["abc", "0", "-1", "1.5", "12abc"]) {
      assertError(await call(server, "GET", `${HISTORY}/roomId/${bad}`, { token: me.token }), 400);
    }
  });

  it("answers 404 for an unknown room and for a room the requester is not in", async () => {
    const me = await user("Me");
    const owner = await user("Owner");
    const peer = await user("Peer");
    const room = await privateRoom(owner, peer);
    await send(owner, room.id, "private matter");
    const g = await group(owner, "Closed", [peer]);
    assertError(await call(server, "GET", `${HISTORY}/roomId/987654321`, { token: me.token }), 404);
    assertError(await call(server, "GET", `${HISTORY}/roomId/${room.id}`, { token: me.token }), 404);
    assertError(await call(server, "GET", `${HISTORY}/roomId/${g.id}`, { token: me.token }), 404);
    assertError(await call(server, "GET", `${HISTORY}/roomId/${room.id}`), 401);
  });

  it("returns the room's item with the latest message, flags and unread count", async () => {
    const me = await user("Me");
    const peer = await user("Peer");
    const room = await privateRoom(me, peer);
    await send(peer, room.id, "a");
    const last = await send(peer, room.id, "b");
    await assertOk(await call(server, "POST", `/api/messenger/rooms/${room.id}/pin`, { token: me.token }));
    const item = await roomItem(me, room.id);
    assert.deepEqual(item, { unreadCount: 2, roomId: room.id, lastMessage: last, muted: false, pinned: true });
    // The same as the room's entry in the list.
    const listed = itemOf(await history(me), room.id);
    assert.deepEqual({ ...item }, { ...listed });
  });

  it("returns lastMessage null for a room without messages", async () => {
    const me = await user("Me");
    const room = await privateRoom(me, await user("Peer"));
    assert.deepEqual(await roomItem(me, room.id), { unreadCount: 0, roomId: room.id, lastMessage: null, muted: false, pinned: false });
  });

  it("uses this device's copy: null for a device created after the message", async () => {
    const me = await user("TwoDevices");
    const peer = await user("Peer");
    const room = await privateRoom(me, peer);
    const msg = await send(peer, room.id, "old news");
    afterMillisecond(msg.createdAt);
    const laptop = await signUp(server, { phone: me.phone, headers: { "device-type": "browser" } });
    assert.equal(laptop.user.id, me.user.id);
    assert.equal((await roomItem(me, room.id)).lastMessage.id, msg.id);
    const onLaptop = await roomItem(laptop, room.id);
    assert.equal(onLaptop.lastMessage, null);
    assert.equal(onLaptop.unreadCount, 1);
    // The user-level list still shows it on the new device (§9.1).
    assert.equal(itemOf(await history(laptop), room.id).lastMessage.id, msg.id);
    const fresh = await send(peer, room.id, "news");
    assert.equal((await roomItem(laptop, room.id)).lastMessage.id, fresh.id);
  });

  it("still answers for a deleted room the requester is in", async () => {
    const me = await user("Admin");
    const g = await group(me, "To delete", [await user("M")]);
    await assertOk(await call(server, "DELETE", `/api/messenger/rooms/${g.id}`, { token: me.token }));
    const item = await roomItem(me, g.id);
    assert.equal(item.roomId, g.id);
    assert.equal(item.lastMessage.body.type, "created_group");
  });
});
