// The bot API (§8.2): room API keys post messages with the normal fan-out.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { call, startTestServer, type SignedUp, type TestServer } from "./helpers.js";
import { assertError, assertOk, eventsFrom, groupRoom, history, ofType, users } from "./room-helpers.js";

describe("bot API", () => {
  let server: TestServer;
  let alice: SignedUp, bob: SignedUp, carol: SignedUp;
  let room: any, otherRoom: any;
  let key: any;

  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
    [alice, bob, carol] = await users(server, "Alice", "Bob", "Carol");
    room = await groupRoom(server, alice, [bob, carol], "Bots welcome");
    otherRoom = await groupRoom(server, alice, [bob], "No bots");
    key = assertOk(await call(server, "POST", `/api/messenger/api-keys/roomId/${room.id}`, { token: alice.token, body: { displayName: "Helper bot" } })).apiKey;
  });
  after(() => server.close());

  const botSend = (body: unknown, token = key.token) => call(server, "POST", "/api/messaging/messages", { token, body });

  it("needs a valid API key; device tokens and API keys do not mix", async () => {
    assertError(await botSend({ roomId: room.id, type: "text", body: { text: "x" } }, ""), 401);
    assertError(await botSend({ roomId: room.id, type: "text", body: { text: "x" } }, "not-a-key"), 401);
    assertError(await botSend({ roomId: room.id, type: "text", body: { text: "x" } }, alice.token), 401);
    assertError(await call(server, "GET", "/api/messenger/me", { token: key.token }), 401);
  });

  it("GET /api/messaging/test/auth describes the bot", async () => {
    const data = assertOk(await call(server, "GET", "/api/messaging/test/auth", { token: key.token }));
    assert.equal(data.user.id, key.userId);
    assert.equal(data.user.isBot, true);
    assert.equal(data.user.displayName, "Helper bot");
    assert.equal(data.roomId, room.id);
  });

  it("a bot message reaches every member's devices with counters, records and unread counts", async () => {
    const seen = eventsFrom(server);
    const message = assertOk(await botSend({ roomId: room.id, type: "text", body: { text: "beep" }, localId: "bot-1" })).message;
    assert.equal(message.fromUserId, key.userId);
    assert.equal(message.totalUserCount, 4);
    assert.equal(message.deliveredCount, 1);
    assert.equal(message.seenCount, 1);
    const news = ofType(seen(), "NEW_MESSAGE");
    assert.equal(news.length, 1);
    assert.deepEqual([...news[0].userIds].sort(), [alice.user.id, bob.user.id, carol.user.id, key.userId].sort());
    assert.deepEqual(news[0].excludeDeviceIds, [], "a bot has no sending device: every device gets it");
    for (const who of [alice, bob, carol]) {
      assert.equal((await history(server, who, room.id))[0].body.text, "beep");
    }
    const detail = assertOk(await call(server, "GET", `/api/messenger/rooms/${room.id}`, { token: bob.token })).room;
    assert.ok(detail.unreadCount >= 1, "bot messages count as unread");
    const again = assertOk(await botSend({ roomId: room.id, type: "text", body: { text: "beep" }, localId: "bot-1" })).message;
    assert.equal(again.id, message.id, "localId makes retries idempotent for bots too");
  });

  it("applies the same room and body rules", async () => {
    assertError(await botSend({ roomId: otherRoom.id, type: "text", body: { text: "x" } }), 400);
    assertError(await botSend({ roomId: 987654, type: "text", body: { text: "x" } }), 400);
    assertError(await botSend({ roomId: room.id, type: "text", body: {} }), 400);
    assertError(await botSend({ roomId: room.id, type: "image", body: {} }), 400);
    assertError(await botSend({ roomId: room.id, type: "sticker", body: { text: "x" } }), 400);
    assertError(await botSend({ roomId: "1", type: "text", body: { text: "x" } }), 400);
    const doomed = await groupRoom(server, alice, [bob], "Doomed");
    const k2 = assertOk(await call(server, "POST", `/api/messenger/api-keys/roomId/${doomed.id}`, { token: alice.token, body: { displayName: "Doomed bot" } })).apiKey;
    assertOk(await call(server, "DELETE", `/api/messenger/rooms/${doomed.id}`, { token: alice.token }));
    assertError(await botSend({ roomId: doomed.id, type: "text", body: { text: "x" } }, k2.token), 403);
  });

  it("a deleted key stops working", async () => {
    const k3 = assertOk(await call(server, "POST", `/api/messenger/api-keys/roomId/${room.id}`, { token: alice.token, body: { displayName: "Short-lived" } })).apiKey;
    assertOk(await botSend({ roomId: room.id, type: "text", body: { text: "hi" } }, k3.token));
    assertOk(await call(server, "DELETE", `/api/messenger/api-keys/${k3.id}`, { token: alice.token }));
    assertError(await botSend({ roomId: room.id, type: "text", body: { text: "hi" } }, k3.token), 401);
  });
});
