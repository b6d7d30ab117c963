// The management API (docs/management.md) black-box over HTTP and SSE: sign-in and its security
// rules, every route with its errors, and that operators' changes reach the messenger exactly as
// the users' own would.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { hashPassword } from "../src/crypto.js";
import { assertError, assertOk, call, newPhone, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";
import { addContacts, groupRoom } from "./room-helpers.js";
import { openStream, type Stream } from "./sse-client.js";

const ADMIN = { ADMIN_USERNAME: "root", ADMIN_PASSWORD: "correct horse battery" };
const M = "/api/management";

async function signIn(server: TestServer, username = "root", password = "correct horse battery") {
  return call(server, "POST", `${M}/auth`, { body: { username, password } });
}

async function adminToken(server: TestServer): Promise<string> {
  return assertOk(await signIn(server)).token;
}

/** One management call with the token in the header the admin app sends. */
const admin = (server: TestServer, token: string) => (method: string, path: string, body?: unknown) =>
  call(server, method, `${M}${path}`, { body, headers: { adminAccessToken: token } });

/** Resolves once the server has ended the stream (a raw reader of /api/sse). */
async function rawStream(server: TestServer, token: string): Promise<{ ended: Promise<true> }> {
  const res = await fetch(`${server.url}/api/sse`, { headers: { accesstoken: token } });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  await reader.read();
  const ended = (async () => {
    while (!(await reader.read()).done);
    return true as const;
  })();
  return { ended };
}

describe("management API switched off", () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  it("answers 404 on every management path without ADMIN_USERNAME", async () => {
    assertError(await signIn(server), 404);
    assertError(await call(server, "GET", `${M}/counts`, { headers: { adminaccesstoken: "x" } }), 404);
  });
});

describe("management sign-in", () => {
  let server: TestServer;
  let alice: SignedUp;
  before(async () => {
    server = await startTestServer(ADMIN);
    alice = await signUp(server, { displayName: "Alice" });
  });
  after(() => server.close());

  it("refuses wrong credentials with 403 and bad bodies with 400", async () => {
    assertError(await signIn(server, "root", "wrong"), 403, "Invalid username or password");
    assertError(await signIn(server, "admin", "correct horse battery"), 403, "Invalid username or password");
    assertError(await call(server, "POST", `${M}/auth`, { body: { username: "root" } }), 400, "password");
  });

  it("gives a token that works in adminAccessToken (and admin-accesstoken), with its expiry", async () => {
    const data = assertOk(await signIn(server));
    assert.equal(typeof data.token, "string");
    assert.ok(data.expireDate > Date.now());
    assert.deepEqual(assertOk(await admin(server, data.token)("GET", "/auth/check")), { valid: true });
    assertOk(await call(server, "GET", `${M}/auth/check`, { headers: { "admin-accesstoken": data.token } }));
  });

  it("answers 401 without a token and for a wrong one", async () => {
    assertError(await call(server, "GET", `${M}/counts`), 401);
    assertError(await admin(server, "not-a-token")("GET", "/counts"), 401, "Invalid admin access token");
  });

  it("never takes a device token, and the messenger API never takes an admin token", async () => {
    assertError(await admin(server, alice.token)("GET", "/counts"), 401);
    assertError(await call(server, "GET", `${M}/counts`, { token: alice.token }), 401);
    const token = await adminToken(server);
    assertError(await call(server, "GET", "/api/messenger/me", { token }), 401);
    assertError(await call(server, "GET", "/api/messenger/me", { headers: { adminaccesstoken: token } }), 401);
  });

  it("logout kills the token", async () => {
    const token = await adminToken(server);
    assertOk(await admin(server, token)("POST", "/auth/logout"));
    assertError(await admin(server, token)("GET", "/auth/check"), 401);
  });

  it("accepts ADMIN_PASSWORD_HASH instead of a clear password", async () => {
    const other = await startTestServer({ ADMIN_USERNAME: "ops", ADMIN_PASSWORD_HASH: hashPassword("s3cret!") });
    try {
      assertError(await signIn(other, "ops", "wrong"), 403);
      assertOk(await signIn(other, "ops", "s3cret!"));
    } finally {
      await other.close();
    }
  });

  it("an expired token is refused", async () => {
    const other = await startTestServer({ ...ADMIN, ADMIN_TOKEN_TTL: "1" });
    try {
      const { token, expireDate } = assertOk(await signIn(other));
      assertOk(await admin(other, token)("GET", "/auth/check"));
      while (Date.now() <= expireDate) await new Promise((r) => setTimeout(r, expireDate - Date.now() + 5));
      assertError(await admin(other, token)("GET", "/auth/check"), 401, "Expired");
    } finally {
      await other.close();
    }
  });

  it("rate-limits sign-in attempts per IP, right password or not", async () => {
    const other = await startTestServer({ ...ADMIN, RATE_LIMIT: "on" });
    try {
      for (let i = 0; i < 10; i++) assertError(await signIn(other, "root", `guess ${i}`), 403);
      assertError(await signIn(other), 429);
    } finally {
      await other.close();
    }
  });
});

describe("management users, devices and bots", () => {
  let server: TestServer;
  let adm: ReturnType<typeof admin>;
  let alice: SignedUp;
  let bob: SignedUp;
  before(async () => {
    server = await startTestServer(ADMIN);
    adm = admin(server, await adminToken(server));
    alice = await signUp(server, { displayName: "Alice Admintest" });
    bob = await signUp(server, { displayName: "Bob Admintest" });
  });
  after(() => server.close());

  it("counts users, bots and groups", async () => {
    const before = assertOk(await adm("GET", "/counts"));
    assertOk(await adm("POST", "/users/bot", { displayName: "Counter bot" }));
    const after = assertOk(await adm("GET", "/counts"));
    assert.equal(after.bots, before.bots + 1);
    assert.equal(after.users, before.users);
    assert.ok(after.users >= 2);
    assert.equal(typeof after.groups, "number");
  });

  it("lists users by name with keyword and pages, bots apart", async () => {
    const list = assertOk(await adm("GET", "/users?page=1&keyword=admintest"));
    assert.deepEqual(
      list.list.map((u: any) => u.displayName),
      ["Alice Admintest", "Bob Admintest"],
    );
    assert.equal(list.count, 2);
    assert.equal(typeof list.limit, "number");
    assert.equal(assertOk(await adm("GET", "/users?page=2&keyword=admintest")).list.length, 0);
    const bots = assertOk(await adm("GET", "/users?bots=1"));
    assert.ok(bots.list.length >= 1 && bots.list.every((u: any) => u.isBot === true));
    assert.ok(assertOk(await adm("GET", "/users")).list.every((u: any) => u.isBot === false));
  });

  it("creates, shows and edits a user; refuses duplicates, bad bodies and unknown ids", async () => {
    const phone = newPhone();
    const { user } = assertOk(await adm("POST", "/users", { displayName: "Carol", telephoneNumber: phone, emailAddress: "carol@example.com" }));
    assert.equal(user.verified, true);
    assert.equal(user.telephoneNumber, phone);
    assertError(await adm("POST", "/users", { displayName: "Again", telephoneNumber: phone }), 400, "telephoneNumber");
    assertError(await adm("POST", "/users", { telephoneNumber: newPhone() }), 400, "displayName");
    assert.equal(assertOk(await adm("GET", `/users/${user.id}`)).user.displayName, "Carol");
    assertError(await adm("GET", "/users/999999"), 404);
    assertError(await adm("GET", "/users/abc"), 400, "userId");
    const edited = assertOk(await adm("PUT", `/users/${user.id}`, { displayName: "Carol B", verified: false })).user;
    assert.equal(edited.displayName, "Carol B");
    assert.equal(edited.verified, false);
    assertError(await adm("PUT", `/users/${user.id}`, { emailAddress: "x" + "y".repeat(300) }), 400, "emailAddress");
    assertError(await adm("PUT", `/users/${bob.user.id}`, { emailAddress: "carol@example.com" }), 400, "email");
    assertError(await adm("PUT", "/users/999999", { displayName: "x" }), 404);
  });

  it("an edit reaches others as USER_UPDATE and the messenger API shows it", async () => {
    await addContacts(server, alice, bob);
    const room = await groupRoom(server, alice, [bob]);
    const stream = await openStream(server.url, alice.token);
    try {
      assertOk(await adm("PUT", `/users/${bob.user.id}`, { displayName: "Bobby Admintest" }));
      const event = await stream.next((e) => e.type === "USER_UPDATE" && e.user.id === bob.user.id);
      assert.equal(event.user.displayName, "Bobby Admintest");
      const rooms = assertOk(await call(server, "GET", `/api/messenger/rooms/${room.id}`, { token: alice.token }));
      assert.ok(rooms.room.users.some((u: any) => u.user.displayName === "Bobby Admintest"));
    } finally {
      stream.close();
    }
  });

  it("lists a user's groups and devices", async () => {
    await addContacts(server, alice, bob);
    const room = await groupRoom(server, alice, [bob], "Devices group");
    const { rooms } = assertOk(await adm("GET", `/users/${alice.user.id}/groups`));
    assert.ok(rooms.some((r: any) => r.id === room.id && r.users.length === 2));
    const { devices } = assertOk(await adm("GET", `/users/${alice.user.id}/devices`));
    assert.equal(devices.length, 1);
    assert.equal(devices[0].token, null);
    assert.ok(devices[0].tokenExpiredAt > Date.now());
    assertError(await adm("GET", "/users/999999/devices"), 404);
    assertError(await adm("GET", "/users/999999/groups"), 404);
  });

  it("expiring a device kills its token and closes its streams", async () => {
    const dave = await signUp(server, { displayName: "Dave" });
    const stream = await rawStream(server, dave.token);
    assertError(await adm("PUT", `/users/${alice.user.id}/devices/${dave.device.id}/expire`), 404, "Device");
    assertError(await adm("PUT", `/users/${dave.user.id}/devices/x/expire`), 400, "deviceId");
    assert.deepEqual(assertOk(await adm("PUT", `/users/${dave.user.id}/devices/${dave.device.id}/expire`)), { expired: true });
    assert.equal(await stream.ended, true);
    assertError(await call(server, "GET", "/api/messenger/me", { token: dave.token }), 401);
    const { devices } = assertOk(await adm("GET", `/users/${dave.user.id}/devices`));
    assert.ok(devices[0].tokenExpiredAt <= Date.now());
  });

  it("deleting a user is DELETE /me: token dead, streams closed, others see the account anonymised", async () => {
    const erin = await signUp(server, { displayName: "Erin" });
    await addContacts(server, alice, erin);
    const room = await groupRoom(server, alice, [erin], "Erin's group");
    const watcher = await openStream(server.url, alice.token);
    const erinStream = await rawStream(server, erin.token);
    try {
      assert.deepEqual(assertOk(await adm("DELETE", `/users/${erin.user.id}`)), { deleted: true });
      const event = await watcher.next((e) => e.type === "USER_UPDATE" && e.user.id === erin.user.id);
      assert.equal(event.user.deleted, true);
      assert.equal(event.user.displayName, `Deleted user ${erin.user.id}`);
      assert.equal(await erinStream.ended, true);
      assertError(await call(server, "GET", "/api/messenger/me", { token: erin.token }), 401);
      const seen = assertOk(await call(server, "GET", `/api/messenger/rooms/${room.id}`, { token: alice.token }));
      assert.ok(!seen.room.users.some((u: any) => u.userId === erin.user.id), "left the group as with DELETE /me");
      assertError(await adm("DELETE", `/users/${erin.user.id}`), 404);
      assert.equal(assertOk(await adm("GET", `/users/${erin.user.id}`)).user.deleted, true);
    } finally {
      watcher.close();
    }
  });

  it("creates a bot whose token signs in to the messenger API; edits it; renews its token", async () => {
    assertError(await adm("POST", "/users/bot", { displayName: "" }), 400, "displayName");
    assertError(await adm("POST", "/users/bot", { displayName: "Hook", webhookUrl: "not a url" }), 400, "webhookUrl");
    const { user } = assertOk(await adm("POST", "/users/bot", { displayName: "Helper", webhookUrl: "https://bots.example.com/hook", shortDescription: "helps" }));
    assert.equal(user.isBot, true);
    assert.equal(user.webhookUrl, "https://bots.example.com/hook");
    const token = user.device[0].token;
    const me = assertOk(await call(server, "GET", "/api/messenger/me", { token }));
    assert.equal(me.user.id, user.id);
    assert.equal(me.user.isBot, true);

    const shown = assertOk(await adm("GET", `/users/bot/${user.id}`)).user;
    assert.equal(shown.device.length, 1);
    assert.equal(shown.device[0].token, null, "the token is shown once");
    assertError(await adm("GET", `/users/bot/${alice.user.id}`), 404, "Bot");

    const edited = assertOk(await adm("PUT", `/users/bot/${user.id}`, { displayName: "Helper 2", webhookUrl: "", avatarFileId: 0, accessToken: "ignored" })).user;
    assert.equal(edited.displayName, "Helper 2");
    assert.equal(edited.webhookUrl, null);

    const stream = await rawStream(server, token);
    const renewed = assertOk(await adm("PUT", `/users/bot/renewAccessToken/${user.id}`)).device;
    assert.equal(renewed.userId, user.id);
    assert.notEqual(renewed.token, token);
    assert.equal(await stream.ended, true);
    assertError(await call(server, "GET", "/api/messenger/me", { token }), 401);
    assertOk(await call(server, "GET", "/api/messenger/me", { token: renewed.token }));
    assertError(await adm("PUT", `/users/bot/renewAccessToken/${alice.user.id}`), 404);
  });

  it("records every change in the audit trail, newest first", async () => {
    const page = assertOk(await adm("GET", "/audit"));
    assert.ok(page.count >= 5);
    assert.equal(typeof page.limit, "number");
    const actions = page.list.map((e: any) => e.action);
    for (const a of ["admin.login", "user.create", "user.update", "device.expire", "user.delete", "bot.create", "bot.renewToken"]) assert.ok(actions.includes(a), a);
    assert.ok(page.list.every((e: any) => e.actor === "admin:root"));
    const ids = page.list.map((e: any) => e.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a: number, b: number) => b - a),
    );
  });
});

describe("management groups", () => {
  let server: TestServer;
  let adm: ReturnType<typeof admin>;
  let alice: SignedUp;
  let bob: SignedUp;
  let carol: SignedUp;
  const streams: Stream[] = [];
  before(async () => {
    server = await startTestServer(ADMIN);
    adm = admin(server, await adminToken(server));
    [alice, bob, carol] = await Promise.all(["Alice", "Bob", "Carol"].map((displayName) => signUp(server, { displayName })));
  });
  after(async () => {
    for (const s of streams) s.close();
    await server.close();
  });
  const watch = async (who: SignedUp) => {
    const s = await openStream(server.url, who.token);
    streams.push(s);
    return s;
  };

  it("creates a group its members receive as NEW_ROOM; lists and shows it", async () => {
    const s = await watch(alice);
    assertError(await adm("POST", "/groups", { name: "" }), 400, "name");
    assertError(await adm("POST", "/groups", { name: "Ghosts", userIds: [999999] }), 400, "999999");
    const { group } = assertOk(await adm("POST", "/groups", { name: "Ops room", userIds: [alice.user.id, bob.user.id], adminUserIds: [alice.user.id] }));
    assert.equal(group.type, "group");
    const event = await s.next((e) => e.type === "NEW_ROOM" && e.room.id === group.id);
    assert.deepEqual(
      event.room.users.map((u: any) => [u.userId, u.isAdmin]).sort(),
      [
        [alice.user.id, true],
        [bob.user.id, false],
      ].sort(),
    );
    const list = assertOk(await adm("GET", "/groups?keyword=ops"));
    assert.deepEqual(
      list.list.map((g: any) => g.id),
      [group.id],
    );
    assert.equal(list.count, 1);
    assert.equal(assertOk(await adm("GET", `/groups/${group.id}`)).group.users.length, 2);
    assertError(await adm("GET", "/groups/999999"), 404);
  });

  it("renames a group (UPDATE_ROOM) and adds members", async () => {
    const { group } = assertOk(await adm("POST", "/groups", { name: "Before", userIds: [alice.user.id], adminUserIds: [alice.user.id] }));
    const s = await watch(alice);
    assertError(await adm("PUT", `/groups/${group.id}`, {}), 400, "name");
    assert.equal(assertOk(await adm("PUT", `/groups/${group.id}`, { name: "After", avatarFileId: 0 })).group.name, "After");
    await s.next((e) => e.type === "UPDATE_ROOM" && e.room.id === group.id && e.room.name === "After");
    assertError(await adm("PUT", `/groups/${group.id}/add`, { usersIds: [] }), 400, "usersIds");
    const added = assertOk(await adm("PUT", `/groups/${group.id}/add`, { usersIds: [bob.user.id, carol.user.id, alice.user.id], admin: true }));
    assert.deepEqual(added, { added: [bob.user.id, carol.user.id], groupId: group.id });
    const shown = assertOk(await adm("GET", `/groups/${group.id}`)).group;
    assert.ok(shown.users.every((u: any) => u.isAdmin));
    const rooms = assertOk(await call(server, "GET", `/api/messenger/rooms/${group.id}`, { token: carol.token }));
    assert.equal(rooms.room.name, "After");
  });

  it("removing a member emits the same events as the messenger's remove", async () => {
    // The messenger's own remove, as the reference.
    const mine = await groupRoom(server, alice, [bob, carol], "Reference");
    const sBob = await watch(bob);
    const sCarol = await watch(carol);
    const fromB = sBob.events.length;
    const fromC = sCarol.events.length;
    assertOk(await call(server, "PUT", `/api/messenger/rooms/${mine.id}`, { token: alice.token, body: { action: "removeGroupUsers", userIds: [bob.user.id] } }));
    await sBob.next((e) => e.type === "REMOVED_FROM_ROOM" && e.roomId === mine.id, { from: fromB });
    await sCarol.next((e) => e.type === "UPDATE_ROOM" && e.room.id === mine.id, { from: fromC });
    const note = (roomId: number, from: number) =>
      sCarol.next((e) => e.type === "NEW_MESSAGE" && e.message.roomId === roomId && e.message.body.type === "removed_group_members", { from });
    const reference = (await note(mine.id, fromC)).message.body;

    const theirs = await groupRoom(server, alice, [bob, carol], "Managed");
    const fromB2 = sBob.events.length;
    const fromC2 = sCarol.events.length;
    assertError(await adm("DELETE", `/groups/${theirs.id}/999999`), 404);
    assert.deepEqual(assertOk(await adm("DELETE", `/groups/${theirs.id}/${bob.user.id}`)), { removed: { roomId: theirs.id, userId: bob.user.id } });
    await sBob.next((e) => e.type === "REMOVED_FROM_ROOM" && e.roomId === theirs.id, { from: fromB2 });
    const update = await sCarol.next((e) => e.type === "UPDATE_ROOM" && e.room.id === theirs.id, { from: fromC2 });
    assert.ok(!update.room.users.some((u: any) => u.userId === bob.user.id));
    const managed = (await note(theirs.id, fromC2)).message.body;
    assert.equal(managed.type, reference.type);
    assert.deepEqual(managed.objectIds, reference.objectIds);
    assert.equal(managed.subject, "Administrator");
    const seen = assertOk(await call(server, "GET", `/api/messenger/rooms/${theirs.id}`, { token: carol.token }));
    assert.ok(!seen.room.users.some((u: any) => u.userId === bob.user.id));
    // Alice is its only admin: the group keeps one.
    assertError(await adm("DELETE", `/groups/${theirs.id}/${alice.user.id}`), 400, "admin");
  });

  it("deletes a group (DELETE_ROOM to members); then it is gone", async () => {
    const { group } = assertOk(await adm("POST", "/groups", { name: "Doomed", userIds: [carol.user.id] }));
    const s = await watch(carol);
    assert.deepEqual(assertOk(await adm("DELETE", `/groups/${group.id}`)), { deleted: true });
    await s.next((e) => e.type === "DELETE_ROOM" && e.room.id === group.id);
    assertError(await adm("GET", `/groups/${group.id}`), 404);
    assertError(await adm("DELETE", `/groups/${group.id}`), 404);
    const privateRoom = (await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { userIds: [bob.user.id], type: "private" } })).body.data?.room;
    if (privateRoom) assertError(await adm("GET", `/groups/${privateRoom.id}`), 404);
  });
});
