// Phone numbers and user ids of strangers (issue 10, item 2), in contact mode (TEAM_MODE=0):
// a requester adds only users it can see (contacts, members of a room it is in), an unknown and
// a hidden id are refused alike, and a user object carries a telephone number (its hash, an
// e-mail address) only for a requester who knows the user — itself or one of its contacts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { assertError, assertOk, call, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";
import { addContacts, eventsFrom, ofType, reaches } from "./room-helpers.js";

const ROOMS = "/api/messenger/rooms";
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

describe("privacy of strangers (contact mode)", () => {
  let server: TestServer;
  let alice: SignedUp, bob: SignedUp, carol: SignedUp, stranger: SignedUp;
  let group: any;

  const create = (who: SignedUp, body: Record<string, unknown>) => call(server, "POST", ROOMS, { token: who.token, body: { name: "G", type: "group", ...body } });
  const roomsOf = async (who: SignedUp) => assertOk(await call(server, "GET", ROOMS, { token: who.token })).list;
  const memberUser = (room: any, user: SignedUp) => room.users.find((u: any) => u.userId === user.user.id).user;
  const assertHidden = (u: any, who: SignedUp) => {
    assert.equal(u.id, who.user.id);
    assert.equal(u.telephoneNumber, null);
    assert.equal(u.telephoneNumberHashed, null);
    assert.equal(u.emailAddress, null);
    assert.equal(u.displayName, who.user.displayName, "the rest of the user stays");
  };
  const assertShown = (u: any, who: SignedUp) => {
    assert.equal(u.telephoneNumber, who.phone);
    assert.equal(u.telephoneNumberHashed, sha256(who.phone));
  };

  before(async () => {
    server = await startTestServer();
    [alice, bob, carol, stranger] = await Promise.all(["Alice", "Bob", "Carol", "Stranger"].map((displayName) => signUp(server, { displayName })));
    // Alice knows Bob and Carol; Bob and Carol do not know each other (nor Alice).
    await addContacts(server, alice, bob, carol);
    assertOk(await call(server, "PUT", "/api/messenger/me", { token: carol.token, body: { emailAddress: `c-${randomBytes(4).toString("hex")}@example.com` } }));
    group = assertOk(await create(alice, { userIds: [bob.user.id, carol.user.id] })).room;
  });
  after(() => server.close());

  it("a user who is no contact and shares no room cannot be added: the same 400 as an unknown id, and no room", async () => {
    const hidden = await create(bob, { userIds: [stranger.user.id] });
    const unknown = await create(bob, { userIds: [stranger.user.id + 100_000] });
    assertError(hidden, 400);
    assertError(unknown, 400);
    assert.equal(hidden.body.message.replace(String(stranger.user.id), "<id>"), unknown.body.message.replace(String(stranger.user.id + 100_000), "<id>"));
    assertError(await create(bob, { userIds: [], adminUserIds: [stranger.user.id] }), 400);
    assertError(await call(server, "POST", ROOMS, { token: bob.token, body: { userIds: [stranger.user.id] } }), 400);
    assert.deepEqual(
      (await roomsOf(bob)).map((r: any) => r.id),
      [group.id],
      "no room was created",
    );
    assert.deepEqual(await roomsOf(stranger), []);
  });

  it("nor added to an existing group, where members of shared rooms can be", async () => {
    const own = assertOk(await create(bob, {})).room;
    const put = (userIds: number[]) => call(server, "PUT", `${ROOMS}/${own.id}`, { token: bob.token, body: { action: "addGroupUsers", userIds } });
    assertError(await put([stranger.user.id]), 400, /doesn't exist/);
    assertError(await put([carol.user.id, stranger.user.id]), 400, /doesn't exist/);
    assert.equal(assertOk(await call(server, "GET", `${ROOMS}/${own.id}`, { token: bob.token })).room.users.length, 1, "nobody was added");
    // Carol shares a group with Bob: he may add her (and she then sees the room).
    const added = assertOk(await put([carol.user.id])).room;
    assert.deepEqual(added.users.map((u: any) => u.userId).sort(), [bob.user.id, carol.user.id].sort());
    assert.ok((await roomsOf(carol)).some((r: any) => r.id === own.id));
  });

  it("room members a requester does not know come without number, hash or e-mail", async () => {
    const seenByBob = assertOk(await call(server, "GET", `${ROOMS}/${group.id}`, { token: bob.token })).room;
    assertHidden(memberUser(seenByBob, carol), carol);
    assertHidden(memberUser(seenByBob, alice), alice);
    assertShown(memberUser(seenByBob, bob), bob);
    const listed = (await roomsOf(bob)).find((r: any) => r.id === group.id);
    assertHidden(memberUser(listed, carol), carol);
    // Alice has both in her phone book.
    const seenByAlice = assertOk(await call(server, "GET", `${ROOMS}/${group.id}`, { token: alice.token })).room;
    assertShown(memberUser(seenByAlice, bob), bob);
    assertShown(memberUser(seenByAlice, carol), carol);
    assert.ok(memberUser(seenByAlice, carol).emailAddress);
  });

  it("so do the room events each member receives", async () => {
    const events = eventsFrom(server);
    assertOk(await call(server, "PUT", `${ROOMS}/${group.id}`, { token: alice.token, body: { action: "changeGroupName", name: "Renamed" } }));
    const updates = ofType(events(), "UPDATE_ROOM");
    const toBob = updates.find((e) => reaches(e, bob))!.data.room as any;
    const toAlice = updates.find((e) => reaches(e, alice))!.data.room as any;
    assertHidden(memberUser(toBob, carol), carol);
    assertShown(memberUser(toAlice, carol), carol);
  });

  it("user sync and USER_UPDATE give room-mates the user without contact details", async () => {
    const synced = assertOk(await call(server, "GET", "/api/messenger/users/sync/0", { token: bob.token })).list;
    assertHidden(
      synced.find((u: any) => u.id === carol.user.id),
      carol,
    );
    assertShown(
      synced.find((u: any) => u.id === bob.user.id),
      bob,
    );

    const events = eventsFrom(server);
    assertOk(await call(server, "PUT", "/api/messenger/me", { token: carol.token, body: { displayName: "Carol" } }));
    const updates = ofType(events(), "USER_UPDATE");
    const toBob = updates.filter((e) => reaches(e, bob));
    const toAlice = updates.filter((e) => reaches(e, alice));
    assert.equal(toBob.length, 1);
    assert.equal(toAlice.length, 1);
    assertHidden(toBob[0].data.user, carol);
    assertShown(toAlice[0].data.user as any, carol);
    assert.ok(!updates.some((e) => reaches(e, stranger)));
  });

  it("the block list shows a blocked stranger without number", async () => {
    assertOk(await call(server, "POST", "/api/messenger/blocks", { token: bob.token, body: { blockedId: stranger.user.id } }));
    const blocked = assertOk(await call(server, "GET", "/api/messenger/blocks", { token: bob.token })).blockedUsers;
    assertHidden(
      blocked.find((u: any) => u.id === stranger.user.id),
      stranger,
    );
  });
});

describe("privacy in team mode", () => {
  it("everyone sees everyone: any user may be added and numbers are shown", async () => {
    const server = await startTestServer({ TEAM_MODE: "1" });
    try {
      const [a, b] = await Promise.all([signUp(server), signUp(server)]);
      const room = assertOk(await call(server, "POST", ROOMS, { token: a.token, body: { name: "G", type: "group", userIds: [b.user.id] } })).room;
      const seen = room.users.find((u: any) => u.userId === b.user.id).user;
      assert.equal(seen.telephoneNumber, b.phone);
      assertError(await call(server, "POST", ROOMS, { token: a.token, body: { userIds: [b.user.id + 100_000] } }), 400, `ids: ${b.user.id + 100_000}`);
    } finally {
      await server.close();
    }
  });
});
