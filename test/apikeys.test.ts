// Room API keys management (API.md §2.4, §4.17; upstream 18_messenger_api_key.ts), black-box over HTTP.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { call, startTestServer, type SignedUp, type TestServer } from "./helpers.js";
import { assertError, assertOk, eventsFrom, groupRoom, ofType, privateRoom, reaches, sendText, users } from "./room-helpers.js";

const API_KEY_KEYS = ["avatarFileId", "createdAt", "displayName", "id", "modifiedAt", "roomId", "token", "userId"];
const NOT_ALLOWED = "not in room or he is not admin";

describe("api keys (§4.17)", () => {
  let server: TestServer;
  let alice: SignedUp; // admin of `group`
  let bob: SignedUp; // plain member of `group`
  let carol: SignedUp; // outsider, admin of `foreign`
  let group: any;
  let foreign: any;

  const create = (who: SignedUp, roomId: number | string, body?: unknown) => call(server, "POST", `/api/messenger/api-keys/roomId/${roomId}`, { token: who.token, body });
  const list = (who: SignedUp, roomId: number | string) => call(server, "GET", `/api/messenger/api-keys/roomId/${roomId}`, { token: who.token });
  const update = (who: SignedUp, id: number | string, body?: unknown) => call(server, "PUT", `/api/messenger/api-keys/${id}`, { token: who.token, body });
  const remove = (who: SignedUp, id: number | string) => call(server, "DELETE", `/api/messenger/api-keys/${id}`, { token: who.token });
  const apiKey = async (who: SignedUp, roomId: number, displayName = "Bot") => assertOk(await create(who, roomId, { displayName })).apiKey;
  const room = async (who: SignedUp, id: number) => assertOk(await call(server, "GET", `/api/messenger/rooms/${id}`, { token: who.token })).room;
  const userOf = async (who: SignedUp, id: number) => assertOk(await call(server, "GET", `/api/messenger/users/${id}`, { token: who.token })).user;

  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
    [alice, bob, carol] = await users(server, "Alice", "Bob", "Carol");
    group = await groupRoom(server, alice, [bob], "Team");
    foreign = await groupRoom(server, carol, [], "Carol's");
  });
  after(() => server.close());

  describe("POST /api-keys/roomId/:roomId", () => {
    it("displayName is required (400); with it the key is created", async () => {
      assertError(await create(alice, group.id, {}), 400, "displayName");
      assertError(await create(alice, group.id), 400);
      assertError(await create(alice, group.id, { displayName: "" }), 400, "displayName");
      assertError(await create(alice, group.id, { displayName: "   " }), 400, "displayName");
      assertError(await create(alice, group.id, { displayName: 7 }), 400, "displayName");
      assertOk(await create(alice, group.id, { displayName: "Helper" }));
    });

    it("validation comes before the access check; a malformed room id is 400", async () => {
      assertError(await create(carol, group.id, {}), 400, "displayName");
      assertError(await create(alice, "abc", { displayName: "Bot" }), 400, "roomId");
    });

    it("user must be in the room (403), unknown room too; nothing is created", async () => {
      const events = eventsFrom(server);
      assertError(await create(alice, foreign.id, { displayName: "Intruder" }), 403, NOT_ALLOWED);
      assertError(await create(alice, 999_999, { displayName: "Intruder" }), 403, NOT_ALLOWED);
      assert.deepEqual(events(), []);
      assert.deepEqual(assertOk(await list(carol, foreign.id)).apiKeys, []);
      assert.deepEqual(
        (await room(carol, foreign.id)).users.map((u: any) => u.userId),
        [carol.user.id],
      );
    });

    it("user must be an admin of a group room (403)", async () => {
      assertError(await create(bob, group.id, { displayName: "Bob's bot" }), 403, NOT_ALLOWED);
    });

    it("api key is stored: ApiKey model with roomId, a secret token and the bot's id and name", async () => {
      const before = Date.now();
      const k = await apiKey(alice, group.id, "Reporter");
      assert.deepEqual(Object.keys(k).sort(), API_KEY_KEYS);
      assert.equal(k.roomId, group.id);
      assert.equal(k.displayName, "Reporter");
      assert.equal(k.avatarFileId, 0);
      assert.equal(typeof k.token, "string");
      assert.ok(k.token.length >= 32, "CSPRNG token of 32+ characters");
      assert.ok(Number.isInteger(k.userId) && ![alice, bob, carol].some((u) => u.user.id === k.userId), "a new user");
      assert.ok(Number.isInteger(k.createdAt) && k.createdAt >= before, "createdAt is epoch ms");
      const other = await apiKey(alice, group.id, "Reporter");
      assert.notEqual(other.token, k.token);
      assert.notEqual(other.userId, k.userId, "one bot user per key");
      assert.deepEqual(
        assertOk(await list(alice, group.id)).apiKeys.find((x: any) => x.id === k.id),
        k,
      );
    });

    it("creates a bot user for the key: isBot, verified, named after the key", async () => {
      const k = await apiKey(alice, group.id, "Weather bot");
      const bot = await userOf(bob, k.userId);
      assert.equal(bot.id, k.userId);
      assert.equal(bot.displayName, "Weather bot");
      assert.equal(bot.isBot, true);
      assert.equal(bot.verified, true);
      assert.equal(bot.deleted, false);
      assert.equal(bot.telephoneNumber, null);
    });

    it("inserts the bot into the room as a non-admin member and announces UPDATE_ROOM", async () => {
      const r = await groupRoom(server, alice, [bob], "Bots welcome");
      const events = eventsFrom(server);
      const k = await apiKey(alice, r.id, "Greeter");
      const detail = await room(bob, r.id);
      const member = detail.users.find((u: any) => u.userId === k.userId);
      assert.ok(member, "bot is a member");
      assert.equal(member.isAdmin, false);
      assert.equal(member.roomId, r.id);
      assert.equal(member.user.isBot, true);
      assert.equal(member.user.displayName, "Greeter");
      assert.equal(detail.users.length, 3);
      assert.ok(detail.modifiedAt > r.modifiedAt, "room modifiedAt moves (room sync picks it up)");

      const updates = ofType(events(), "UPDATE_ROOM");
      for (const who of [alice, bob]) {
        const mine = updates.filter((e) => reaches(e, who));
        assert.equal(mine.length, 1, `one UPDATE_ROOM for ${who.user.displayName}`);
        assert.ok((mine[0].data.room as any).users.some((u: any) => u.userId === k.userId));
      }
      assert.ok(!updates.some((e) => reaches(e, carol)));
      assert.deepEqual(ofType(events(), "NEW_MESSAGE"), [], "no system message");

      const synced = assertOk(await call(server, "GET", `/api/messenger/rooms/sync/${r.modifiedAt}`, { token: bob.token })).list;
      assert.ok(
        synced.some((x: any) => x.id === r.id && x.users.length === 3),
        "room sync shows the new member",
      );
      // A message sent now counts the bot among the room's users.
      assert.equal((await sendText(server, bob, r.id, "hello bot")).totalUserCount, 3);
    });

    it("either member of a private room may create one", async () => {
      const dm = await privateRoom(server, bob, carol);
      const k = await apiKey(carol, dm.id, "Our bot");
      assert.equal(k.roomId, dm.id);
      assert.ok(assertOk(await list(bob, dm.id)).apiKeys.some((x: any) => x.id === k.id));
    });

    it("a bot in a private room keeps it the private room of its two people", async () => {
      const [p, q] = await users(server, "P", "Q");
      const dm = await privateRoom(server, p, q);
      await apiKey(p, dm.id, "Helper");
      const found = assertOk(await call(server, "GET", `/api/messenger/rooms/users/${q.user.id}`, { token: p.token })).room;
      assert.equal(found.id, dm.id);
      assertError(await call(server, "POST", "/api/messenger/rooms", { token: p.token, body: { userIds: [q.user.id] } }), 409);
    });

    it("the key is not a device token: the messenger API refuses it", async () => {
      const k = await apiKey(alice, group.id);
      assertError(await call(server, "GET", "/api/messenger/me", { token: k.token }), 401);
      assertError(await call(server, "GET", `/api/messenger/api-keys/roomId/${group.id}`, { token: k.token }), 401);
    });
  });

  describe("GET /api-keys/roomId/:roomId", () => {
    it("user must be in the room (403), an admin of a group (403); malformed id 400", async () => {
      const theirs = await apiKey(carol, foreign.id, "Carol's bot");
      const res = await list(alice, foreign.id);
      assertError(res, 403, NOT_ALLOWED);
      assert.ok(!res.text.includes(theirs.token), "no token leaks");
      assertError(await list(bob, group.id), 403, NOT_ALLOWED);
      assertError(await list(alice, 999_999), 403, NOT_ALLOWED);
      assertError(await list(alice, "-1"), 400, "roomId");
    });

    it("returns the room's keys by id, and only that room's", async () => {
      const r = await groupRoom(server, alice, [bob], "Listing");
      assert.deepEqual(assertOk(await list(alice, r.id)).apiKeys, []);
      const a = await apiKey(alice, r.id, "A");
      const b = await apiKey(alice, r.id, "B");
      await apiKey(alice, group.id, "elsewhere");
      assert.deepEqual(assertOk(await list(alice, r.id)).apiKeys, [a, b]);
    });
  });

  describe("PUT /api-keys/:id", () => {
    it("displayName is required (400), before 404/403", async () => {
      const k = await apiKey(alice, group.id);
      assertError(await update(alice, k.id, {}), 400, "displayName");
      assertError(await update(alice, k.id, { displayName: "" }), 400, "displayName");
      assertError(await update(carol, k.id, {}), 400, "displayName");
      assertError(await update(alice, 999_999, {}), 400, "displayName");
    });

    it("user must be in the room / an admin (403); unknown 404; malformed id 400", async () => {
      const theirs = await apiKey(carol, foreign.id, "Theirs");
      const ours = await apiKey(alice, group.id, "Ours");
      assertError(await update(alice, theirs.id, { displayName: "Hijacked" }), 403, NOT_ALLOWED);
      assertError(await update(bob, ours.id, { displayName: "Hijacked" }), 403, NOT_ALLOWED);
      assertError(await update(alice, 999_999, { displayName: "x" }), 404, "Not found");
      assertError(await update(alice, "x", { displayName: "x" }), 400, "id");
      assert.equal((await userOf(alice, theirs.userId)).displayName, "Theirs");
      assert.equal((await userOf(alice, ours.userId)).displayName, "Ours");
    });

    it("update is stored: the bot user is renamed, token kept, USER_UPDATE announced", async () => {
      const k = await apiKey(alice, group.id, "Old name");
      const events = eventsFrom(server);
      const u = assertOk(await update(alice, k.id, { displayName: "New name" })).apiKey;
      assert.deepEqual(Object.keys(u).sort(), API_KEY_KEYS);
      assert.equal(u.id, k.id);
      assert.equal(u.displayName, "New name");
      assert.equal(u.token, k.token);
      assert.equal(u.userId, k.userId);
      assert.equal(u.roomId, k.roomId);
      assert.equal(u.createdAt, k.createdAt);
      assert.ok(u.modifiedAt > k.modifiedAt, "modifiedAt moves");
      assert.equal((await userOf(bob, k.userId)).displayName, "New name");
      assert.deepEqual(
        assertOk(await list(alice, group.id)).apiKeys.find((x: any) => x.id === k.id),
        u,
      );
      const announced = ofType(events(), "USER_UPDATE");
      assert.equal(announced.length, 1);
      assert.equal((announced[0].data.user as any).id, k.userId);
      assert.equal((announced[0].data.user as any).displayName, "New name");
      assert.ok(reaches(announced[0], alice) && reaches(announced[0], bob));
    });
  });

  describe("DELETE /api-keys/:id", () => {
    it("user must be in the room / an admin (403); unknown 404; malformed id 400", async () => {
      const theirs = await apiKey(carol, foreign.id);
      const ours = await apiKey(alice, group.id);
      assertError(await remove(alice, theirs.id), 403, NOT_ALLOWED);
      assertError(await remove(bob, ours.id), 403, NOT_ALLOWED);
      assertError(await remove(alice, 999_999), 404, "Not found");
      assertError(await remove(alice, "abc"), 400, "id");
      assert.ok(assertOk(await list(carol, foreign.id)).apiKeys.some((k: any) => k.id === theirs.id));
      assert.ok(assertOk(await list(alice, group.id)).apiKeys.some((k: any) => k.id === ours.id));
    });

    it("deletes the key, removes the bot from the room, keeps the bot user; UPDATE_ROOM to members", async () => {
      const r = await groupRoom(server, alice, [bob], "Goodbye bot");
      const k = await apiKey(alice, r.id, "Leaving");
      const joined = await room(alice, r.id);
      const events = eventsFrom(server);
      assert.deepEqual(assertOk(await remove(alice, k.id)), { deleted: true, roomId: r.id });

      assert.deepEqual(assertOk(await list(alice, r.id)).apiKeys, []);
      const detail = await room(alice, r.id);
      assert.deepEqual(detail.users.map((u: any) => u.userId).sort(), [alice.user.id, bob.user.id].sort(), "bot is removed from the room");
      assert.ok(detail.modifiedAt > joined.modifiedAt, "room modifiedAt moves");
      const bot = await userOf(alice, k.userId);
      assert.equal(bot.isBot, true, "bot user kept");
      assert.equal(bot.deleted, false);

      const updates = ofType(events(), "UPDATE_ROOM");
      for (const who of [alice, bob]) {
        const mine = updates.filter((e) => reaches(e, who));
        assert.equal(mine.length, 1);
        assert.ok(!(mine[0].data.room as any).users.some((u: any) => u.userId === k.userId));
      }
      assertError(await remove(alice, k.id), 404, "Not found");
      assertError(await update(alice, k.id, { displayName: "x" }), 404, "Not found");
      assert.equal((await sendText(server, bob, r.id, "bot gone")).totalUserCount, 2);
    });
  });

  describe("the access rule follows the membership", () => {
    it("a promoted member gains access, a demoted one loses it", async () => {
      const r = await groupRoom(server, alice, [bob], "Rights");
      const k = await apiKey(alice, r.id);
      assertOk(await call(server, "PUT", `/api/messenger/rooms/${r.id}`, { token: alice.token, body: { action: "addGroupAdmins", userIds: [bob.user.id] } }));
      assert.deepEqual(
        assertOk(await list(bob, r.id)).apiKeys.map((x: any) => x.id),
        [k.id],
      );
      assertOk(await call(server, "PUT", `/api/messenger/rooms/${r.id}`, { token: alice.token, body: { action: "removeGroupAdmins", userIds: [bob.user.id] } }));
      assertError(await remove(bob, k.id), 403, NOT_ALLOWED);
    });

    it("requires an access token", async () => {
      assertError(await call(server, "GET", `/api/messenger/api-keys/roomId/${group.id}`), 401);
      assertError(await call(server, "POST", `/api/messenger/api-keys/roomId/${group.id}`, { body: { displayName: "x" } }), 401);
    });
  });
});
