// Room webhooks management (API.md §4.17; upstream 19_messenger_webhook.ts), black-box over HTTP.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { call, startTestServer, type SignedUp, type TestServer } from "./helpers.js";
import { assertError, assertOk, eventsFrom, groupRoom, privateRoom, users } from "./room-helpers.js";

const WEBHOOK_KEYS = ["createdAt", "id", "modifiedAt", "roomId", "url", "verifySignature"];
const NOT_ALLOWED = "not in room or he is not admin";

describe("webhooks (§4.17)", () => {
  let server: TestServer;
  let alice: SignedUp; // admin of `group`
  let bob: SignedUp; // plain member of `group`, peer of `dm`
  let carol: SignedUp; // outsider, admin of `foreign`
  let group: any;
  let dm: any;
  let foreign: any;

  const create = (who: SignedUp, roomId: number | string, body?: unknown) => call(server, "POST", `/api/messenger/webhooks/roomId/${roomId}`, { token: who.token, body });
  const list = (who: SignedUp, roomId: number | string) => call(server, "GET", `/api/messenger/webhooks/roomId/${roomId}`, { token: who.token });
  const update = (who: SignedUp, id: number | string, body?: unknown) => call(server, "PUT", `/api/messenger/webhooks/${id}`, { token: who.token, body });
  const remove = (who: SignedUp, id: number | string) => call(server, "DELETE", `/api/messenger/webhooks/${id}`, { token: who.token });
  const webhook = async (who: SignedUp, roomId: number, url = "http://link.ba") => assertOk(await create(who, roomId, { url })).webhook;

  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
    [alice, bob, carol] = await users(server, "Alice", "Bob", "Carol");
    group = await groupRoom(server, alice, [bob], "Team");
    dm = await privateRoom(server, alice, bob);
    foreign = await groupRoom(server, carol, [], "Carol's");
  });
  after(() => server.close());

  describe("POST /webhooks/roomId/:roomId", () => {
    it("url is required (400); http://link.ba is accepted", async () => {
      assertError(await create(alice, group.id, {}), 400, "url");
      assertError(await create(alice, group.id), 400);
      assertError(await create(alice, group.id, { url: 5 }), 400, "url");
      const w = await webhook(alice, group.id, "http://link.ba");
      assert.equal(w.url, "http://link.ba");
    });

    it("url must be valid: `not valid` is 400 Url not valid", async () => {
      assertError(await create(alice, group.id, { url: "not valid" }), 400, "Url not valid");
    });

    it("accepts the URL forms of §4.17", async () => {
      for (const url of [
        "http://link.ba",
        "https://link.ba",
        "link.ba",
        "www.example.com",
        "https://hooks.example.co.uk/services/T000/B000?x=1&y=2#frag",
        "http://127.0.0.1:8080/hook",
        "10.0.0.1",
        "https://api.example.com:8443",
        "HTTPS://EXAMPLE.COM/Path",
        "https://my-host.example.io/a/b.json",
      ]) {
        const w = assertOk(await create(alice, group.id, { url })).webhook;
        assert.equal(w.url, url, "stored as given");
      }
    });

    it("refuses what is not a URL of §4.17, localhost included", async () => {
      for (const url of [
        "",
        "not valid",
        "http://localhost:3000/hook",
        "localhost",
        "http://example",
        "http://example.c",
        "ftp://example.com",
        "http://256.1.1.1/",
        "http://1.2.3/",
        "http://example.com:99999/",
        "http://example.com:port/",
        "http://exa mple.com",
        "http://example.com/a b",
        "javascript:alert(1)",
        "http://-example.com",
        "http://example..com",
        "//example.com",
        "http://user:pass@example.com",
      ]) {
        assertError(await create(alice, group.id, { url }), 400, "Url not valid");
      }
    });

    it("validation comes before the access check; a malformed room id is 400", async () => {
      assertError(await create(carol, group.id, { url: "not valid" }), 400, "Url not valid");
      assertError(await create(carol, group.id, {}), 400, "url");
      assertError(await create(alice, "abc", { url: "http://link.ba" }), 400, "roomId");
    });

    it("user must be in the room (403), unknown room too; nothing is written", async () => {
      assertError(await create(alice, foreign.id, { url: "http://link.ba" }), 403, NOT_ALLOWED);
      assertError(await create(alice, 999_999, { url: "http://link.ba" }), 403, NOT_ALLOWED);
      assert.deepEqual(assertOk(await list(carol, foreign.id)).webhooks, []);
    });

    it("user must be an admin of a group room (403)", async () => {
      assertError(await create(bob, group.id, { url: "http://link.ba" }), 403, NOT_ALLOWED);
    });

    it("either member of a private room may add one", async () => {
      const w = await webhook(bob, dm.id, "https://bob.example.com/hook");
      assert.equal(w.roomId, dm.id);
      assert.ok(assertOk(await list(alice, dm.id)).webhooks.some((x: any) => x.id === w.id));
    });

    it("webhook is stored: model shape, url and roomId, a fresh 16-character secret each time", async () => {
      const before = Date.now();
      const a = await webhook(alice, group.id, "https://a.example.com/in");
      const b = await webhook(alice, group.id, "https://a.example.com/in");
      assert.deepEqual(Object.keys(a).sort(), WEBHOOK_KEYS);
      assert.equal(a.url, "https://a.example.com/in");
      assert.equal(a.roomId, group.id);
      assert.match(a.verifySignature, /^[A-Za-z0-9]{16}$/);
      assert.match(b.verifySignature, /^[A-Za-z0-9]{16}$/);
      assert.notEqual(a.verifySignature, b.verifySignature);
      assert.notEqual(a.id, b.id);
      assert.ok(Number.isInteger(a.createdAt) && a.createdAt >= before, "createdAt is epoch ms");
      assert.equal(a.modifiedAt, a.createdAt);
      const stored = assertOk(await list(alice, group.id)).webhooks;
      assert.deepEqual(
        stored.find((w: any) => w.id === a.id),
        a,
      );
    });

    it("emits no real-time events", async () => {
      const events = eventsFrom(server);
      const w = await webhook(alice, group.id);
      assertOk(await update(alice, w.id, { url: "http://other.ba" }));
      assertOk(await remove(alice, w.id));
      assert.deepEqual(events(), []);
    });
  });

  describe("GET /webhooks/roomId/:roomId", () => {
    it("user must be in the room (403), an admin of a group (403); malformed id 400", async () => {
      await webhook(carol, foreign.id, "https://carol.example.com");
      const res = await list(alice, foreign.id);
      assertError(res, 403, NOT_ALLOWED);
      assert.ok(!res.text.includes("carol.example.com"));
      assertError(await list(bob, group.id), 403, NOT_ALLOWED);
      assertError(await list(alice, 999_999), 403, NOT_ALLOWED);
      assertError(await list(alice, "1.5"), 400, "roomId");
    });

    it("returns the room's webhooks by id, and only that room's", async () => {
      const room = await groupRoom(server, alice, [bob], "Hooks");
      assert.deepEqual(assertOk(await list(alice, room.id)).webhooks, []);
      const a = await webhook(alice, room.id, "http://one.ba");
      const b = await webhook(alice, room.id, "http://two.ba");
      await webhook(alice, group.id, "http://elsewhere.ba");
      assert.deepEqual(assertOk(await list(alice, room.id)).webhooks, [a, b]);
    });
  });

  describe("PUT /webhooks/:id", () => {
    it("url is required and must be valid (400), checked before 404/403", async () => {
      const w = await webhook(alice, group.id);
      assertError(await update(alice, w.id, {}), 400, "url");
      assertError(await update(alice, w.id, { url: "not valid" }), 400, "Url not valid");
      assertError(await update(alice, w.id, { url: "http://localhost/x" }), 400, "Url not valid");
      assertError(await update(carol, w.id, { url: "not valid" }), 400, "Url not valid");
      assertError(await update(alice, 999_999, { url: "not valid" }), 400, "Url not valid");
    });

    it("user must be in the room / an admin (403); unknown 404; malformed id 400", async () => {
      const theirs = await webhook(carol, foreign.id, "http://carol.ba");
      const ours = await webhook(alice, group.id, "http://ours.ba");
      assertError(await update(alice, theirs.id, { url: "http://mine.ba" }), 403, NOT_ALLOWED);
      assertError(await update(bob, ours.id, { url: "http://mine.ba" }), 403, NOT_ALLOWED);
      assertError(await update(alice, 999_999, { url: "http://mine.ba" }), 404, "Not found");
      assertError(await update(alice, "x", { url: "http://mine.ba" }), 400, "id");
      assert.equal(assertOk(await list(carol, foreign.id)).webhooks.find((w: any) => w.id === theirs.id).url, "http://carol.ba");
      assert.equal(assertOk(await list(alice, group.id)).webhooks.find((w: any) => w.id === ours.id).url, "http://ours.ba");
    });

    it("update is stored: new url, same secret and createdAt, modifiedAt moves", async () => {
      const w = await webhook(alice, group.id, "http://before.ba");
      const u = assertOk(await update(alice, w.id, { url: "https://after.ba/hook" })).webhook;
      assert.deepEqual(Object.keys(u).sort(), WEBHOOK_KEYS);
      assert.equal(u.id, w.id);
      assert.equal(u.url, "https://after.ba/hook");
      assert.equal(u.verifySignature, w.verifySignature);
      assert.equal(u.roomId, w.roomId);
      assert.equal(u.createdAt, w.createdAt);
      assert.ok(u.modifiedAt > w.modifiedAt, "modifiedAt moves");
      assert.deepEqual(
        assertOk(await list(alice, group.id)).webhooks.find((x: any) => x.id === w.id),
        u,
      );
    });
  });

  describe("DELETE /webhooks/:id", () => {
    it("user must be in the room / an admin (403); unknown 404; malformed id 400", async () => {
      const theirs = await webhook(carol, foreign.id);
      const ours = await webhook(alice, group.id);
      assertError(await remove(alice, theirs.id), 403, NOT_ALLOWED);
      assertError(await remove(bob, ours.id), 403, NOT_ALLOWED);
      assertError(await remove(alice, 999_999), 404, "Not found");
      assertError(await remove(alice, "abc"), 400, "id");
      assert.ok(assertOk(await list(carol, foreign.id)).webhooks.some((w: any) => w.id === theirs.id));
      assert.ok(assertOk(await list(alice, group.id)).webhooks.some((w: any) => w.id === ours.id));
    });

    it("deletes from the database", async () => {
      const w = await webhook(alice, group.id);
      assert.deepEqual(assertOk(await remove(alice, w.id)), { deleted: true });
      assert.ok(!assertOk(await list(alice, group.id)).webhooks.some((x: any) => x.id === w.id));
      assertError(await remove(alice, w.id), 404, "Not found");
      assertError(await update(alice, w.id, { url: "http://link.ba" }), 404, "Not found");
    });
  });

  describe("the access rule follows the membership", () => {
    it("a promoted member gains access, a demoted or departed one loses it", async () => {
      const room = await groupRoom(server, alice, [bob, carol], "Rights");
      const w = await webhook(alice, room.id);
      assertError(await list(bob, room.id), 403);
      assertOk(await call(server, "PUT", `/api/messenger/rooms/${room.id}`, { token: alice.token, body: { action: "addGroupAdmins", userIds: [bob.user.id] } }));
      assert.deepEqual(assertOk(await list(bob, room.id)).webhooks, [w]);
      assertOk(await update(bob, w.id, { url: "http://bob.ba" }));
      assertOk(await call(server, "PUT", `/api/messenger/rooms/${room.id}`, { token: alice.token, body: { action: "removeGroupAdmins", userIds: [bob.user.id] } }));
      assertError(await list(bob, room.id), 403);
      assertError(await remove(bob, w.id), 403);
      assertOk(await call(server, "POST", `/api/messenger/rooms/${room.id}/leave`, { token: alice.token, body: { adminUserIds: [carol.user.id] } }));
      assertError(await list(alice, room.id), 403);
      assertError(await remove(alice, w.id), 403);
      assertOk(await remove(carol, w.id));
    });

    it("requires an access token", async () => {
      assertError(await call(server, "GET", `/api/messenger/webhooks/roomId/${group.id}`), 401);
      assertError(await call(server, "DELETE", `/api/messenger/webhooks/1`), 401);
    });
  });
});
