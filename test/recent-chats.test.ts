// Recent chats (API.md §4.20): up to 3 private-chat peers and 3 group rooms, by their latest
// non-deleted message, newest first; blocks in team mode, contacts and bots otherwise.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { assertOk, assertError, call, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";

const RECENT = "/api/messenger/recent-chats";

/** Calls bound to one server. */
function client(server: TestServer) {
  const createRoom = async (who: SignedUp, body: Record<string, unknown>) => (await assertOk(await call(server, "POST", "/api/messenger/rooms", { token: who.token, body }))).room;
  return {
    user: (displayName?: string) => signUp(server, { displayName }),
    createRoom,
    privateRoom: (who: SignedUp, peer: SignedUp) => createRoom(who, { userIds: [peer.user.id] }),
    group: (who: SignedUp, name: string, others: SignedUp[] = []) => createRoom(who, { name, type: "group", userIds: others.map((o) => o.user.id) }),
    send: async (who: SignedUp, roomId: number, text: string) =>
      (await assertOk(await call(server, "POST", "/api/messenger/messages", { token: who.token, body: { roomId, type: "text", body: { text } } }))).message,
    recent: async (who: SignedUp) => assertOk(await call(server, "GET", RECENT, { token: who.token })),
    block: async (who: SignedUp, blocked: SignedUp) => assertOk(await call(server, "POST", "/api/messenger/blocks", { token: who.token, body: { blockedId: blocked.user.id } })),
    unblock: async (who: SignedUp, blocked: SignedUp) => assertOk(await call(server, "DELETE", `/api/messenger/blocks/userId/${blocked.user.id}`, { token: who.token })),
    deleteMessage: async (who: SignedUp, id: number, target: "user" | "all") =>
      assertOk(await call(server, "DELETE", `/api/messenger/messages/${id}?target=${target}`, { token: who.token })),
  };
}

const userIds = (data: any) => data.recentUserChats.map((u: any) => u.id);
const groupIds = (data: any) => data.recentGroupChats.map((r: any) => r.id);

describe("GET /recent-chats (team mode)", () => {
  let server: TestServer;
  let c: ReturnType<typeof client>;
  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
    c = client(server);
  });
  after(async () => {
    await server?.close();
  });

  it("requires an access token", async () => {
    assertError(await call(server, "GET", RECENT), 401);
  });

  it("is empty for a user without chats", async () => {
    const me = await c.user("Newcomer");
    assert.deepEqual(await c.recent(me), { recentUserChats: [], recentGroupChats: [] });
  });

  it("returns up to 3 group rooms as raw rows with ISO times, most recent first", async () => {
    const me = await c.user("Grouper");
    const a = await c.user("A");
    const g1 = await c.group(me, "One", [a]);
    const g2 = await c.group(me, "Two", [a]);
    const g3 = await c.group(me, "Three", [a]);
    const g4 = await c.group(me, "Four", [a]);
    // Latest activity: g2, then g4, then g1; g3 only has its creation message (older).
    await c.send(a, g1.id, "1");
    await c.send(me, g4.id, "4");
    await c.send(a, g2.id, "2");
    const data = await c.recent(me);
    assert.deepEqual(groupIds(data), [g2.id, g4.id, g1.id]);
    assert.deepEqual(data.recentUserChats, []);
    const row = data.recentGroupChats[0];
    assert.deepEqual(Object.keys(row).sort(), ["avatarFileId", "createdAt", "deleted", "id", "modifiedAt", "name", "type"]);
    assert.deepEqual(row, {
      id: g2.id,
      type: "group",
      name: "Two",
      avatarFileId: 0,
      createdAt: new Date(g2.createdAt).toISOString(),
      modifiedAt: new Date(g2.modifiedAt).toISOString(),
      deleted: false,
    });
    // The other member has the same rooms in the same order.
    assert.deepEqual(groupIds(await c.recent(a)), [g2.id, g4.id, g1.id]);
    // g3 moves to the front with a new message.
    await c.send(a, g3.id, "3");
    assert.deepEqual(groupIds(await c.recent(me)), [g3.id, g2.id, g4.id]);
  });

  it("ranks by the latest non-deleted message and leaves out deleted rooms", async () => {
    const me = await c.user("Ranker");
    const a = await c.user("A");
    const old = await c.group(me, "Old", [a]);
    const mid = await c.group(me, "Mid", [a]);
    const gone = await c.group(me, "Gone", [a]);
    await c.send(a, old.id, "old");
    await c.send(a, mid.id, "mid");
    const last = await c.send(a, old.id, "newest, then deleted");
    await c.send(a, gone.id, "in a room about to be deleted");
    assert.deepEqual(groupIds(await c.recent(me)), [gone.id, old.id, mid.id]);
    await assertOk(await call(server, "DELETE", `/api/messenger/rooms/${gone.id}`, { token: me.token }));
    assert.deepEqual(groupIds(await c.recent(me)), [old.id, mid.id]);
    // Deleted for everyone: Old now ranks by its earlier message, behind Mid.
    await c.deleteMessage(a, last.id, "all");
    assert.deepEqual(groupIds(await c.recent(me)), [mid.id, old.id]);
    assert.deepEqual(groupIds(await c.recent(a)), [mid.id, old.id]);
  });

  it("ignores messages deleted for the requester only, and rooms without such messages", async () => {
    const me = await c.user("Forgetter");
    const a = await c.user("A");
    const g = await c.group(me, "Only me deleted", [a]);
    const history = await assertOk(await call(server, "GET", `/api/messenger/messages/roomId/${g.id}`, { token: me.token }));
    assert.equal(history.list.length, 1);
    await c.deleteMessage(me, history.list[0].id, "user");
    assert.deepEqual(groupIds(await c.recent(me)), []);
    assert.deepEqual(groupIds(await c.recent(a)), [g.id]);
  });

  it("returns up to 3 private-chat peers as users, most recent first (not by id)", async () => {
    const me = await c.user("Chatter");
    const p1 = await c.user("P1");
    const p2 = await c.user("P2");
    const p3 = await c.user("P3");
    const p4 = await c.user("P4");
    const quiet = await c.user("Quiet");
    const r1 = await c.privateRoom(me, p1);
    const r2 = await c.privateRoom(me, p2);
    const r3 = await c.privateRoom(me, p3);
    const r4 = await c.privateRoom(p4, me);
    await c.privateRoom(me, quiet); // no messages: not a recent chat
    await c.send(me, r3.id, "3");
    await c.send(p1, r1.id, "1");
    await c.send(me, r4.id, "4");
    await c.send(p2, r2.id, "2");
    const data = await c.recent(me);
    assert.deepEqual(userIds(data), [p2.user.id, p4.user.id, p1.user.id]);
    assert.deepEqual(data.recentGroupChats, []);
    const u = data.recentUserChats[0];
    assert.equal(u.displayName, "P2");
    assert.equal(u.verified, true);
    assert.equal(u.isBot, false);
    assert.equal(typeof u.createdAt, "number");
    assert.ok(!userIds(data).includes(me.user.id));
    // The peer's view: the requester is its only recent chat.
    assert.deepEqual(userIds(await c.recent(p1)), [me.user.id]);
  });

  it("leaves out peers the requester blocked (not those who blocked the requester)", async () => {
    const me = await c.user("Blocker");
    const bad = await c.user("Bad");
    const good = await c.user("Good");
    const rb = await c.privateRoom(me, bad);
    const rg = await c.privateRoom(me, good);
    await c.send(me, rg.id, "g");
    await c.send(bad, rb.id, "b");
    assert.deepEqual(userIds(await c.recent(me)), [bad.user.id, good.user.id]);
    await c.block(me, bad);
    assert.deepEqual(userIds(await c.recent(me)), [good.user.id]);
    // The blocked user still sees the blocker.
    assert.deepEqual(userIds(await c.recent(bad)), [me.user.id]);
    await c.unblock(me, bad);
    assert.deepEqual(userIds(await c.recent(me)), [bad.user.id, good.user.id]);
  });

  it("does not apply blocks to group rooms", async () => {
    const me = await c.user("Blocker");
    const bad = await c.user("Bad");
    const g = await c.group(me, "With a blocked member", [bad]);
    await c.block(me, bad);
    await c.send(bad, g.id, "still delivered in groups");
    assert.deepEqual(groupIds(await c.recent(me)), [g.id]);
  });

  it("leaves out deleted users", async () => {
    const me = await c.user("Survivor");
    const leaving = await c.user("Leaving");
    const r = await c.privateRoom(me, leaving);
    await c.send(leaving, r.id, "bye");
    assert.deepEqual(userIds(await c.recent(me)), [leaving.user.id]);
    await assertOk(await call(server, "DELETE", "/api/messenger/me", { token: leaving.token }));
    assert.deepEqual(userIds(await c.recent(me)), []);
  });

  it("shows only the requester's rooms", async () => {
    const stranger = await c.user("Stranger");
    const a = await c.user("A");
    const b = await c.user("B");
    const g = await c.group(a, "Not yours", [b]);
    await c.send(a, g.id, "x");
    await c.send(a, (await c.privateRoom(a, b)).id, "y");
    assert.deepEqual(await c.recent(stranger), { recentUserChats: [], recentGroupChats: [] });
  });

  it("is a read: no events", async () => {
    const me = await c.user("Quiet");
    const before = server.events.events.length;
    await c.recent(me);
    assert.equal(server.events.events.length, before);
  });
});

describe("GET /recent-chats (contacts mode)", () => {
  let server: TestServer;
  let c: ReturnType<typeof client>;
  before(async () => {
    server = await startTestServer({ TEAM_MODE: "0" });
    c = client(server);
  });
  after(async () => {
    await server?.close();
  });

  /** `who` uploads the phone numbers of `contacts` (one page, §3.4). */
  async function addContacts(who: SignedUp, contacts: SignedUp[]): Promise<void> {
    await assertOk(
      await call(server, "POST", "/api/messenger/contacts", {
        token: who.token,
        body: { contacts: contacts.map((u) => u.user.telephoneNumberHashed) },
      }),
    );
  }

  it("considers only private rooms whose peer is one of the requester's contacts", async () => {
    const me = await c.user("Me");
    const friend = await c.user("Friend");
    const stranger = await c.user("Stranger");
    await addContacts(me, [friend]);
    await addContacts(stranger, [me]);
    const rf = await c.privateRoom(me, friend);
    // The stranger has the requester as a contact and opens a room; not the other way round.
    const rs = await c.privateRoom(stranger, me);
    await c.send(me, rf.id, "hi friend");
    await c.send(stranger, rs.id, "hi, remember me?");
    assert.deepEqual(userIds(await c.recent(me)), [friend.user.id]);
    assert.deepEqual(userIds(await c.recent(stranger)), [me.user.id]);
    // Once the stranger is a contact, the room counts.
    await addContacts(me, [friend, stranger]);
    assert.deepEqual(userIds(await c.recent(me)), [stranger.user.id, friend.user.id]);
  });

  it("leaves out bots even when they are contacts", async () => {
    const me = await c.user("Admin");
    const friend = await c.user("Friend");
    await addContacts(me, [friend]);
    const g = await c.group(me, "Has a bot", [friend]);
    const key = await assertOk(await call(server, "POST", `/api/messenger/api-keys/roomId/${g.id}`, { token: me.token, body: { displayName: "Helper bot" } }));
    const botId: number = key.apiKey.userId;
    // Fixture: bots cannot be phone-book contacts through the API (they have no number); the
    // server-side bot agents that would be (§8.3) are not part of this server.
    const now = Date.now();
    await server.ctx.db.insertInto("contacts").values({ userId: me.user.id, contactId: botId, createdAt: now, modifiedAt: now }).execute();
    const rb = await c.createRoom(me, { userIds: [botId] });
    assert.equal(rb.type, "private");
    const rf = await c.privateRoom(me, friend);
    await c.send(me, rf.id, "to friend");
    await c.send(me, rb.id, "to bot");
    assert.deepEqual(userIds(await c.recent(me)), [friend.user.id]);
    assert.deepEqual(groupIds(await c.recent(me)), [g.id]);
  });

  it("ranks a blocked contact by the messages the requester received, not hidden ones", async () => {
    const me = await c.user("Me");
    const blocked = await c.user("Blocked");
    const other = await c.user("Other");
    await addContacts(me, [blocked, other]);
    const rb = await c.privateRoom(me, blocked);
    const ro = await c.privateRoom(me, other);
    await c.send(blocked, rb.id, "before the block");
    await c.send(other, ro.id, "later");
    await c.block(me, blocked);
    await c.send(blocked, rb.id, "hidden from me");
    assert.deepEqual(userIds(await c.recent(me)), [other.user.id, blocked.user.id]);
    // Only hidden messages: not a recent chat at all.
    const silenced = await c.user("Silenced");
    await addContacts(me, [silenced]);
    const rsil = await c.privateRoom(me, silenced);
    await c.block(me, silenced);
    await c.send(silenced, rsil.id, "never delivered");
    assert.deepEqual(userIds(await c.recent(me)), [other.user.id, blocked.user.id]);
  });
});
