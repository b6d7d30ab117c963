// Room webhooks being called (API.md §8.1, §13b WEBHOOK_ALLOW_PRIVATE): every webhook of the room,
// the exact body, both signature headers, retries, no blocking by a silent receiver, and the
// SSRF guard. Receivers are local HTTP servers; job state is read through server.ctx.db.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { call, signUp, startTestServer, testDatabase, type SignedUp, type TestServer } from "./helpers.js";
import { uploadFile } from "./uploads.js";
import { assertOk } from "./room-helpers.js";
import { Receiver, waitUntil, type Received } from "./receivers.js";
import { isPublicAddress, postJson, RefusedTargetError } from "../src/providers/safeHttp.js";

const hmac = (secret: string, raw: Buffer) => "sha256=" + createHmac("sha256", secret).update(raw).digest("hex");
const about = (path: string, id: number) => (r: Received) => r.path === path && r.json?.message?.id === id;

async function addWebhook(server: TestServer, who: SignedUp, roomId: number, url: string): Promise<any> {
  return assertOk(await call(server, "POST", `/api/messenger/webhooks/roomId/${roomId}`, { token: who.token, body: { url } })).webhook;
}

async function send(server: TestServer, who: SignedUp, roomId: number, text: string): Promise<any> {
  return assertOk(await call(server, "POST", "/api/messenger/messages", { token: who.token, body: { roomId, type: "text", body: { text } } })).message;
}

async function jobsAbout(server: TestServer, messageId: number) {
  const rows = await server.ctx.db.selectFrom("jobs").selectAll().where("kind", "=", "webhook").execute();
  return rows.filter((r) => JSON.parse(r.payload).messageId === messageId);
}

const drained = (server: TestServer, messageId: number) =>
  waitUntil(async () => (await jobsAbout(server, messageId)).every((j) => j.status === "failed"), `the webhook jobs of message ${messageId} to finish`);

describe("webhook calls (§8.1) with WEBHOOK_ALLOW_PRIVATE=1", () => {
  let server: TestServer;
  const receiver = new Receiver();
  let alice: SignedUp, bob: SignedUp;
  let room: any;
  let aliceAvatar: number, roomAvatar: number;

  before(async () => {
    await receiver.start();
    server = await startTestServer({ WEBHOOK_ALLOW_PRIVATE: "1", JOB_RETRY_BASE_MS: "100", TEAM_MODE: "1" });
    [alice, bob] = await Promise.all([signUp(server, { displayName: "Alice" }), signUp(server, { displayName: "Bob" })]);
    [aliceAvatar, roomAvatar] = [(await uploadFile(server, alice.token)).id, (await uploadFile(server, alice.token)).id];
    assertOk(await call(server, "PUT", "/api/messenger/me", { token: alice.token, body: { avatarFileId: aliceAvatar } }));
    room = assertOk(
      await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: "Team", type: "group", userIds: [bob.user.id], avatarFileId: roomAvatar } }),
    ).room;
  });
  after(async () => {
    await server.close();
    await receiver.stop();
  });

  it("every webhook of the room gets the exact body with Verification-Signature and an HMAC of the body", { timeout: 30_000 }, async () => {
    const one = await addWebhook(server, alice, room.id, `${receiver.url}/one?x=1`);
    const two = await addWebhook(server, alice, room.id, `${receiver.url}/two`);
    const m = await send(server, bob, room.id, "hello hooks");
    const [a] = await receiver.waitFor(about("/one?x=1", m.id), 1, 20_000, "the first webhook");
    const [b] = await receiver.waitFor(about("/two", m.id), 1, 20_000, "the second webhook");
    for (const [got, hook] of [
      [a, one],
      [b, two],
    ] as const) {
      assert.equal(got.method, "POST");
      assert.match(String(got.headers["content-type"]), /^application\/json/);
      assert.equal(got.headers["verification-signature"], hook.verifySignature);
      assert.equal(got.headers["x-spika-signature"], hmac(hook.verifySignature, got.raw), "HMAC-SHA256 of the exact body bytes");
      assert.deepEqual(got.json, {
        message: m,
        fromUser: { displayName: "Bob", avatarFileId: 0 },
        room: { name: "Team", avatarFileId: roomAvatar },
      });
    }
    assert.notEqual(one.verifySignature, two.verifySignature);
    // Cleanup for the next tests: these two stay out of the way.
    for (const hook of [one, two]) assertOk(await call(server, "DELETE", `/api/messenger/webhooks/${hook.id}`, { token: alice.token }));
  });

  it("fromUser is the author (display name and avatar); forwards, shares and bot messages call the webhook too, system messages do not", { timeout: 30_000 }, async () => {
    const hook = await addWebhook(server, alice, room.id, `${receiver.url}/kinds`);
    // A system message (renaming the group), then a user message, a forward and a share.
    assertOk(await call(server, "PUT", `/api/messenger/rooms/${room.id}`, { token: alice.token, body: { action: "changeGroupName", name: "Team 2" } }));
    const m = await send(server, alice, room.id, "after the rename");
    const fwd = assertOk(await call(server, "POST", "/api/messenger/messages/forward", { token: alice.token, body: { messageIds: [m.id], roomIds: [room.id] } })).messages[0];
    const shared = assertOk(
      await call(server, "POST", "/api/messenger/messages/share", { token: bob.token, body: { roomIds: [room.id], messages: [{ type: "text", body: { text: "shared in" } }] } }),
    ).messages[0];
    const key = assertOk(await call(server, "POST", `/api/messenger/api-keys/roomId/${room.id}`, { token: alice.token, body: { displayName: "Helper bot" } })).apiKey;
    const byBot = assertOk(await call(server, "POST", "/api/messaging/messages", { token: key.token, body: { roomId: room.id, type: "text", body: { text: "beep" } } })).message;
    const [plain] = await receiver.waitFor(about("/kinds", m.id), 1, 20_000, "the user message");
    const [bot] = await receiver.waitFor(about("/kinds", byBot.id), 1, 20_000, "the bot message");
    assert.equal(bot.json.message.fromUserId, key.userId);
    assert.equal(bot.json.fromUser.displayName, "Helper bot");
    const [forwarded] = await receiver.waitFor(about("/kinds", fwd.id), 1, 20_000, "the forward");
    const [share] = await receiver.waitFor(about("/kinds", shared.id), 1, 20_000, "the share");
    assert.deepEqual(plain.json.fromUser, { displayName: "Alice", avatarFileId: aliceAvatar });
    assert.deepEqual(plain.json.room, { name: "Team 2", avatarFileId: roomAvatar });
    assert.equal(forwarded.json.message.isForwarded, true);
    assert.deepEqual(forwarded.json.message, fwd);
    assert.deepEqual(share.json.fromUser, { displayName: "Bob", avatarFileId: 0 });
    // The rename's system message has no webhook job at all, and nothing of type system came in.
    const list = assertOk(await call(server, "GET", `/api/messenger/messages/roomId/${room.id}`, { token: alice.token })).list;
    const system = list.find((x: any) => x.type === "system" && x.body.type === "updated_group_name");
    assert.ok(system, "the rename made a system message");
    assert.deepEqual(await jobsAbout(server, system.id), []);
    assert.equal(receiver.received.filter((r) => r.path === "/kinds" && r.json?.message?.type === "system").length, 0);
    assertOk(await call(server, "DELETE", `/api/messenger/webhooks/${hook.id}`, { token: alice.token }));
  });

  it("a receiver error is retried: the same body and signatures come again", { timeout: 30_000 }, async () => {
    const hook = await addWebhook(server, alice, room.id, `${receiver.url}/once-500`);
    let n = 0;
    receiver.answer = (r) => (r.path === "/once-500" && ++n === 1 ? { status: 500 } : { status: 200 });
    try {
      const m = await send(server, alice, room.id, "again please");
      const [first, second] = await receiver.waitFor(about("/once-500", m.id), 2, 20_000, "the retry");
      assert.equal(first.status, 500);
      assert.equal(second.status, 200);
      assert.equal(second.text, first.text);
      assert.equal(second.headers["verification-signature"], hook.verifySignature);
      assert.equal(second.headers["x-spika-signature"], first.headers["x-spika-signature"]);
      await drained(server, m.id);
      assert.deepEqual(await jobsAbout(server, m.id), [], "done jobs are removed");
    } finally {
      receiver.answer = () => ({ status: 200 });
      assertOk(await call(server, "DELETE", `/api/messenger/webhooks/${hook.id}`, { token: alice.token }));
    }
  });

  it("a receiver that never answers does not hold up other webhooks", { timeout: 30_000 }, async () => {
    const silent = new Receiver();
    await silent.start();
    silent.answer = () => "hang";
    try {
      const other = assertOk(await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: "Other", type: "group", userIds: [bob.user.id] } })).room;
      const h1 = await addWebhook(server, alice, room.id, `${silent.url}/hang`);
      const h2 = await addWebhook(server, alice, other.id, `${receiver.url}/prompt`);
      const stuck = await send(server, alice, room.id, "into the void");
      await silent.waitFor(about("/hang", stuck.id), 1, 20_000, "the silent receiver's request");
      const m = await send(server, alice, other.id, "meanwhile");
      await receiver.waitFor(about("/prompt", m.id), 1, 20_000, "the other webhook while the first hangs");
      assert.equal(silent.received.filter(about("/hang", stuck.id))[0].status, null, "the first call is still unanswered");
      for (const h of [h1, h2]) assertOk(await call(server, "DELETE", `/api/messenger/webhooks/${h.id}`, { token: alice.token }));
    } finally {
      await silent.stop();
    }
  });
});

describe("a webhook deleted while its call waits", () => {
  it("is not called; its job just ends", { timeout: 30_000 }, async () => {
    const receiver = await new Receiver().start();
    const db = await testDatabase();
    try {
      // No worker yet: the jobs wait while one of the two webhooks is deleted.
      const first = await startTestServer({ JOB_WORKER: "off" }, { database: db });
      let m: any;
      try {
        const alice = await signUp(first, { displayName: "Alice" });
        const room = assertOk(await call(first, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: "Two hooks", type: "group", userIds: [] } })).room;
        await addWebhook(first, alice, room.id, `${receiver.url}/kept`);
        const gone = await addWebhook(first, alice, room.id, `${receiver.url}/gone`);
        m = await send(first, alice, room.id, "one of two");
        assert.equal((await jobsAbout(first, m.id)).length, 2, "one job per webhook");
        assertOk(await call(first, "DELETE", `/api/messenger/webhooks/${gone.id}`, { token: alice.token }));
      } finally {
        await first.close();
      }
      const second = await startTestServer({ WEBHOOK_ALLOW_PRIVATE: "1" }, { database: db });
      try {
        await receiver.waitFor(about("/kept", m.id), 1, 20_000, "the remaining webhook");
        await waitUntil(async () => (await jobsAbout(second, m.id)).length === 0, "both jobs to be done");
        assert.equal(receiver.received.filter((r) => r.path === "/gone").length, 0);
      } finally {
        await second.close();
      }
    } finally {
      await db.drop();
      await receiver.stop();
    }
  });
});

describe("SSRF guard (WEBHOOK_ALLOW_PRIVATE=0)", () => {
  let server: TestServer;
  const receiver = new Receiver();
  let alice: SignedUp;
  let room: any;

  before(async () => {
    await receiver.start();
    server = await startTestServer({ WEBHOOK_ALLOW_PRIVATE: "0" });
    alice = await signUp(server, { displayName: "Alice" });
    room = assertOk(await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: "Guarded", type: "group", userIds: [] } })).room;
  });
  after(async () => {
    await server.close();
    await receiver.stop();
  });

  it("a webhook to 127.0.0.1 is refused: the job fails at once, the receiver is never called", { timeout: 30_000 }, async () => {
    await addWebhook(server, alice, room.id, `${receiver.url}/private`);
    const m = await send(server, alice, room.id, "not for loopback");
    const [job] = await waitUntil(async () => {
      const rows = await jobsAbout(server, m.id);
      return rows.length === 1 && rows[0].status === "failed" ? rows : undefined;
    }, "the job to be refused");
    assert.equal(job.attempts, 1, "no retries");
    assert.match(job.lastError ?? "", /refused/);
    assert.equal(receiver.received.length, 0);
  });

  it("names are checked on the addresses they resolve to, when connecting", async () => {
    const body = "{}";
    await assert.rejects(postJson(`http://localhost:${receiver.port}/x`, body, {}, { timeoutMs: 5000, allowPrivate: false }), RefusedTargetError);
    await assert.rejects(postJson(`http://[::1]:${receiver.port}/x`, body, {}, { timeoutMs: 5000, allowPrivate: false }), RefusedTargetError);
    await assert.rejects(postJson(`ftp://example.com/x`, body, {}, { timeoutMs: 5000, allowPrivate: false }), RefusedTargetError);
    assert.equal(receiver.received.length, 0);
    // The same name is fine when private targets are allowed.
    const res = await postJson(`http://localhost:${receiver.port}/x`, body, {}, { timeoutMs: 5000, allowPrivate: true });
    assert.equal(res.status, 200);
  });

  it("refused: loopback, private, link-local, CGNAT, unique-local, multicast, unspecified and IPv4 inside IPv6", () => {
    const refused = [
      "127.0.0.1",
      "127.255.0.9",
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "::1",
      "::",
      "fc00::1",
      "fd12:3456::1",
      "fe80::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:10.0.0.1",
      "64:ff9b::a00:1",
      "2002:c0a8:0101::1",
      "2001:db8::1",
    ];
    for (const ip of refused) assert.equal(isPublicAddress(ip), false, `${ip} is refused`);
    for (const ip of ["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:0808:0808::1"]) {
      assert.equal(isPublicAddress(ip), true, `${ip} is allowed`);
    }
  });
});
