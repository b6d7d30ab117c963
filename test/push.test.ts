// Push (API.md §7.2) through FCM HTTP v1, checked by a local stand-in for Google: it issues
// OAuth2 tokens for a service account (checking the signed assertion) at the key file's
// token_uri and receives messages:send calls. Recipients, the exact payload, muted rooms,
// blocks, the sending and the author's devices, dead tokens, retries, and the log fallback.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, verify } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { call, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";
import { uploadFile } from "./uploads.js";
import { assertOk } from "./room-helpers.js";
import { Receiver, waitUntil, type Answer, type Received } from "./receivers.js";

const PROJECT = "spika-test-project";
const EMAIL = "push@spika-test-project.iam.gserviceaccount.com";
const SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
const SEND_PATH = `/v1/projects/${PROJECT}/messages:send`;

/** A stand-in for Google's token endpoint and FCM's messages:send. */
class FakeFcm extends Receiver {
  readonly issued = new Set<string>();
  /** Per push token: how to answer its n-th push (1-based) of one message. */
  readonly behaviour = new Map<string, (n: number) => Answer>();
  private readonly counts = new Map<string, number>();

  constructor(private readonly publicKey: string) {
    super();
    this.answer = (r) => this.respond(r);
  }

  private respond(r: Received): Answer {
    if (r.path === "/token") {
      const [header, claims, signature] = String(r.json?.assertion ?? "").split(".");
      const signed = verify("RSA-SHA256", Buffer.from(`${header}.${claims}`), this.publicKey, Buffer.from(signature ?? "", "base64url"));
      const c = JSON.parse(Buffer.from(claims ?? "", "base64url").toString() || "{}");
      if (!signed || r.json.grant_type !== "urn:ietf:params:oauth:grant-type:jwt-bearer" || c.iss !== EMAIL || c.scope !== SCOPE) {
        return { status: 400, body: { error: "invalid_grant" } };
      }
      const token = `ya29.test-${this.issued.size + 1}`;
      this.issued.add(token);
      return { status: 200, body: { access_token: token, expires_in: 3600, token_type: "Bearer" } };
    }
    if (r.path !== SEND_PATH || r.method !== "POST") return { status: 404, body: { error: { code: 404, status: "NOT_FOUND" } } };
    const bearer = String(r.headers.authorization ?? "").replace(/^Bearer /, "");
    if (!this.issued.has(bearer)) return { status: 401, body: { error: { code: 401, status: "UNAUTHENTICATED" } } };
    const token = r.json?.message?.token as string;
    const key = `${token} ${r.json?.message?.data?.message}`;
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return this.behaviour.get(token)?.(n) ?? { status: 200, body: { name: `projects/${PROJECT}/messages/${n}` } };
  }

  /** Authorized messages:send calls (the FCM `message` objects) for push token `token`. */
  pushesTo(token: string, messageId?: number): any[] {
    return this.received
      .filter((r) => r.path === SEND_PATH && this.issued.has(String(r.headers.authorization ?? "").replace(/^Bearer /, "")))
      .map((r) => r.json.message)
      .filter((m) => m.token === token && (messageId === undefined || JSON.parse(m.data.message).id === messageId));
  }

  async waitForPush(token: string, messageId: number, n = 1): Promise<any[]> {
    await this.waitFor(
      (r) => r.path === SEND_PATH && r.json?.message?.token === token && JSON.parse(r.json.message.data.message).id === messageId,
      n,
      20_000,
      `push ${n} to ${token}`,
    );
    return this.pushesTo(token, messageId);
  }
}

let seq = 0;
const pushToken = (label: string) => `${label}-${process.pid}-${++seq}`;

async function setPushToken(server: TestServer, who: SignedUp, token: string): Promise<void> {
  const device = assertOk(await call(server, "PUT", "/api/messenger/device", { token: who.token, body: { pushToken: token } })).device;
  assert.equal(device.pushToken, token);
}

async function send(server: TestServer, who: SignedUp, roomId: number, text: string): Promise<any> {
  return assertOk(await call(server, "POST", "/api/messenger/messages", { token: who.token, body: { roomId, type: "text", body: { text } } })).message;
}

/** Resolves once no push job of `messageId` is waiting or running any more. */
async function pushDone(server: TestServer, messageId: number): Promise<void> {
  await waitUntil(async () => {
    const rows = await server.ctx.db.selectFrom("jobs").select(["payload", "status"]).where("kind", "=", "push").execute();
    return rows.every((r) => JSON.parse(r.payload).messageId !== messageId || r.status === "failed");
  }, `the push job of message ${messageId} to finish`);
}

async function unreadIn(server: TestServer, who: SignedUp, roomId: number): Promise<number> {
  const rooms = assertOk(await call(server, "GET", "/api/messenger/rooms/unread-count", { token: who.token })).unreadCounts as any[];
  return rooms.find((r) => r.roomId === roomId)?.unreadCount ?? 0;
}

describe("push through FCM HTTP v1 (§7.2)", () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const fcm = new FakeFcm(publicKey);
  let dir: string;
  let server: TestServer;
  let alice: SignedUp, bob: SignedUp, carol: SignedUp;
  let aliceAvatar: number, bobAvatar: number;

  before(async () => {
    await fcm.start();
    dir = mkdtempSync(join(tmpdir(), "spika-push-"));
    const keyFile = join(dir, "service-account.json");
    writeFileSync(
      keyFile,
      JSON.stringify({
        type: "service_account",
        project_id: PROJECT,
        private_key_id: "test-key-1",
        private_key: privateKey,
        client_email: EMAIL,
        client_id: "1234567890",
        token_uri: `${fcm.url}/token`,
      }),
    );
    server = await startTestServer({ TEAM_MODE: "1", FCM_SERVICE_ACCOUNT: keyFile, FCM_BASE_URL: fcm.url, JOB_RETRY_BASE_MS: "50" });
    [alice, bob, carol] = await Promise.all(["Alice", "Bob", "Carol"].map((displayName) => signUp(server, { displayName })));
    [aliceAvatar, bobAvatar] = [(await uploadFile(server, alice.token)).id, (await uploadFile(server, bob.token)).id];
    assertOk(await call(server, "PUT", "/api/messenger/me", { token: alice.token, body: { avatarFileId: aliceAvatar } }));
    assertOk(await call(server, "PUT", "/api/messenger/me", { token: bob.token, body: { avatarFileId: bobAvatar } }));
  });
  after(async () => {
    await server.close();
    await fcm.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("private room: the exact FCM v1 message, with an OAuth2 token from the service account", { timeout: 30_000 }, async () => {
    const bobToken = pushToken("bob");
    await setPushToken(server, bob, bobToken);
    const room = assertOk(await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { userIds: [bob.user.id] } })).room;
    const m = await send(server, alice, room.id, "hi Bob");
    const [push] = await fcm.waitForPush(bobToken, m.id);
    const sendCall = fcm.received.find((r) => r.path === SEND_PATH && r.json?.message?.token === bobToken)!;
    assert.match(String(sendCall.headers.authorization), /^Bearer ya29\.test-\d+$/);
    assert.match(String(sendCall.headers["content-type"]), /^application\/json/);
    for (const value of Object.values(push.data)) assert.equal(typeof value, "string", "data values are strings");
    assert.deepEqual(JSON.parse(push.data.message), m);
    assert.deepEqual(
      { ...push, data: { message: "<checked above>", messageAttributes: JSON.parse(push.data.messageAttributes), roomAttributes: JSON.parse(push.data.roomAttributes) } },
      {
        token: bobToken,
        data: {
          message: "<checked above>",
          messageAttributes: { fromUserName: "Alice" },
          // The other user's avatar; Bob's unread count.
          roomAttributes: { unreadCount: 1, muted: false, avatarFileId: aliceAvatar },
        },
        android: { priority: "HIGH" },
        webpush: { headers: { Topic: String(room.id) } },
        apns: { payload: { aps: { "mutable-content": 1, alert: { title: "New message" }, "thread-id": String(room.id) } } },
      },
    );
    assert.equal(await unreadIn(server, bob, room.id), 1);
    await pushDone(server, m.id);
    assert.equal(fcm.pushesTo(bobToken, m.id).length, 1, "one push per device");
  });

  it("group room: groupName, the room's avatar, each recipient's unread count; a muted room gets the silent variant", { timeout: 30_000 }, async () => {
    const bobToken = pushToken("bob-group");
    const carolToken = pushToken("carol-group");
    await setPushToken(server, bob, bobToken);
    await setPushToken(server, carol, carolToken);
    const groupAvatar = (await uploadFile(server, alice.token)).id;
    const room = assertOk(
      await call(server, "POST", "/api/messenger/rooms", {
        token: alice.token,
        body: { name: "Climbers", type: "group", userIds: [bob.user.id, carol.user.id], avatarFileId: groupAvatar },
      }),
    ).room;
    assertOk(await call(server, "POST", `/api/messenger/rooms/${room.id}/mute`, { token: bob.token }));
    const m = await send(server, alice, room.id, "rope check");
    const [toBob] = await fcm.waitForPush(bobToken, m.id);
    const [toCarol] = await fcm.waitForPush(carolToken, m.id);
    for (const [push, who, muted] of [
      [toBob, bob, true],
      [toCarol, carol, false],
    ] as const) {
      assert.deepEqual(JSON.parse(push.data.message), m);
      assert.deepEqual(JSON.parse(push.data.messageAttributes), { fromUserName: "Alice", groupName: "Climbers" });
      assert.deepEqual(JSON.parse(push.data.roomAttributes), { unreadCount: await unreadIn(server, who, room.id), muted, avatarFileId: groupAvatar });
      assert.deepEqual(push.android, { priority: "HIGH" });
      assert.deepEqual(push.webpush, { headers: { Topic: String(room.id) } });
    }
    assert.equal(JSON.parse(toCarol.data.roomAttributes).unreadCount, 2, "the group's creation message and this one");
    assert.deepEqual(toBob.apns, { payload: { aps: { "content-available": 1 } } }, "muted: silent");
    assert.deepEqual(toCarol.apns, { payload: { aps: { "mutable-content": 1, alert: { title: "New message" }, "thread-id": String(room.id) } } });
  });

  it("never to a user who blocked the sender in a private room", { timeout: 30_000 }, async () => {
    const [dave, erin] = await Promise.all([signUp(server, { displayName: "Dave" }), signUp(server, { displayName: "Erin" })]);
    const daveToken = pushToken("dave");
    const erinToken = pushToken("erin");
    await setPushToken(server, dave, daveToken);
    await setPushToken(server, erin, erinToken);
    const room = assertOk(await call(server, "POST", "/api/messenger/rooms", { token: erin.token, body: { userIds: [dave.user.id] } })).room;
    assertOk(await call(server, "POST", "/api/messenger/blocks", { token: dave.token, body: { blockedId: erin.user.id } }));
    const blocked = await send(server, erin, room.id, "you blocked me");
    await pushDone(server, blocked.id);
    assert.deepEqual(fcm.pushesTo(daveToken, blocked.id), []);
    // Dave still reaches Erin (she did not block him).
    assertOk(await call(server, "DELETE", `/api/messenger/blocks/userId/${erin.user.id}`, { token: dave.token }));
    const fine = await send(server, erin, room.id, "unblocked");
    await fcm.waitForPush(daveToken, fine.id);
  });

  it("never to the sending device; to the author's other devices only when they are Android", { timeout: 30_000 }, async () => {
    const frank = await signUp(server, { displayName: "Frank", headers: { "os-name": "ios" } });
    const frankAndroid = await signUp(server, { phone: frank.phone, headers: { "os-name": "android" } });
    const frankIpad = await signUp(server, { phone: frank.phone, headers: { "os-name": "ios" } });
    assert.equal(frankAndroid.user.id, frank.user.id);
    assert.equal(frankIpad.user.id, frank.user.id);
    const tokens = { sender: pushToken("frank-sender"), android: pushToken("frank-android"), ipad: pushToken("frank-ipad"), bob: pushToken("bob-frank") };
    await setPushToken(server, frank, tokens.sender);
    await setPushToken(server, frankAndroid, tokens.android);
    await setPushToken(server, frankIpad, tokens.ipad);
    await setPushToken(server, bob, tokens.bob);
    const room = assertOk(await call(server, "POST", "/api/messenger/rooms", { token: frank.token, body: { userIds: [bob.user.id] } })).room;
    const m = await send(server, frank, room.id, "from my phone");
    const [own] = await fcm.waitForPush(tokens.android, m.id);
    await fcm.waitForPush(tokens.bob, m.id);
    await pushDone(server, m.id);
    assert.deepEqual(fcm.pushesTo(tokens.sender, m.id), [], "not the sending device");
    assert.deepEqual(fcm.pushesTo(tokens.ipad, m.id), [], "not the author's iOS device");
    // The author's Android device sees the room from the author's side.
    assert.deepEqual(JSON.parse(own.data.roomAttributes), { unreadCount: 0, muted: false, avatarFileId: bobAvatar });
  });

  it("a token FCM reports as unregistered (or not a valid token) is cleared from the device; other rejections keep it", { timeout: 30_000 }, async () => {
    const [gina, hank, ivan, jane] = await Promise.all(["Gina", "Hank", "Ivan", "Jane"].map((displayName) => signUp(server, { displayName })));
    const unregistered = pushToken("unregistered");
    const invalid = pushToken("invalid");
    const other = pushToken("too-big");
    fcm.behaviour.set(unregistered, () => ({
      status: 404,
      body: {
        error: {
          code: 404,
          message: "Requested entity was not found.",
          status: "NOT_FOUND",
          details: [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode: "UNREGISTERED" }],
        },
      },
    }));
    fcm.behaviour.set(invalid, () => ({
      status: 400,
      body: {
        error: {
          code: 400,
          message: "The registration token is not a valid FCM registration token",
          status: "INVALID_ARGUMENT",
          details: [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode: "INVALID_ARGUMENT" }],
        },
      },
    }));
    fcm.behaviour.set(other, () => ({
      status: 400,
      body: {
        error: {
          code: 400,
          message: "Request contains an invalid argument.",
          status: "INVALID_ARGUMENT",
          details: [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode: "INVALID_ARGUMENT" }],
        },
      },
    }));
    const room = assertOk(
      await call(server, "POST", "/api/messenger/rooms", { token: gina.token, body: { name: "Tokens", type: "group", userIds: [hank.user.id, ivan.user.id, jane.user.id] } }),
    ).room;
    // The tokens come after the group's creation message has been pushed (to nobody).
    const created = assertOk(await call(server, "GET", `/api/messenger/messages/roomId/${room.id}`, { token: gina.token })).list[0];
    assert.equal(created.body.type, "created_group");
    await pushDone(server, created.id);
    await setPushToken(server, hank, unregistered);
    await setPushToken(server, ivan, invalid);
    await setPushToken(server, jane, other);
    const m = await send(server, gina, room.id, "anyone there?");
    for (const t of [unregistered, invalid, other]) await fcm.waitForPush(t, m.id);
    const device = async (who: SignedUp) => assertOk(await call(server, "GET", "/api/messenger/device", { token: who.token })).device;
    await waitUntil(async () => (await device(hank)).pushToken === null, "Hank's token to be cleared");
    await waitUntil(async () => (await device(ivan)).pushToken === null, "Ivan's token to be cleared");
    await pushDone(server, m.id);
    assert.equal((await device(jane)).pushToken, other, "a refused message does not clear the token");
    for (const t of [unregistered, invalid, other]) assert.equal(fcm.pushesTo(t, m.id).length, 1, `no retry for ${t}`);
    // A cleared device gets no more pushes.
    const next = await send(server, gina, room.id, "still?");
    await fcm.waitForPush(other, next.id);
    await pushDone(server, next.id);
    assert.deepEqual(fcm.pushesTo(unregistered, next.id), []);
  });

  it("a transient FCM failure is retried for the failed device only", { timeout: 30_000 }, async () => {
    const [kim, lea, max] = await Promise.all(["Kim", "Lea", "Max"].map((displayName) => signUp(server, { displayName })));
    const flaky = pushToken("flaky");
    const steady = pushToken("steady");
    fcm.behaviour.set(flaky, (n) =>
      n === 1 ? { status: 503, body: { error: { code: 503, message: "The service is currently unavailable.", status: "UNAVAILABLE" } } } : { status: 200, body: { name: "ok" } },
    );
    await setPushToken(server, lea, flaky);
    await setPushToken(server, max, steady);
    const room = assertOk(
      await call(server, "POST", "/api/messenger/rooms", { token: kim.token, body: { name: "Flaky", type: "group", userIds: [lea.user.id, max.user.id] } }),
    ).room;
    const m = await send(server, kim, room.id, "once more");
    const [first, second] = await fcm.waitForPush(flaky, m.id, 2);
    assert.deepEqual(second, first, "the same message again");
    await pushDone(server, m.id);
    assert.equal(fcm.pushesTo(steady, m.id).length, 1, "the device that got it is not pushed twice");
    assert.equal(fcm.pushesTo(flaky, m.id).length, 2);
  });
});

describe("push without FCM_SERVICE_ACCOUNT", () => {
  it("is logged, not sent, and the job succeeds", { timeout: 30_000 }, async () => {
    const fcm = await new Receiver().start();
    const lines: any[] = [];
    const logStream = new PassThrough();
    let buffered = "";
    logStream.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        lines.push(JSON.parse(buffered.slice(0, nl)));
        buffered = buffered.slice(nl + 1);
      }
    });
    const server = await startTestServer({ TEAM_MODE: "1", LOG_LEVEL: "info", FCM_BASE_URL: fcm.url }, { logStream });
    try {
      const [alice, bob] = await Promise.all([signUp(server, { displayName: "Alice" }), signUp(server, { displayName: "Bob" })]);
      await setPushToken(server, bob, pushToken("logged"));
      const room = assertOk(await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { userIds: [bob.user.id] } })).room;
      const m = await send(server, alice, room.id, "just log it");
      const line = await waitUntil(() => lines.find((l) => l.push?.messageId === m.id), "the push log line");
      assert.equal(line.level, 30, "info");
      assert.equal(line.push.deviceId, bob.device.id);
      assert.match(line.msg, /push/);
      await pushDone(server, m.id);
      const left = await server.ctx.db.selectFrom("jobs").selectAll().where("kind", "=", "push").execute();
      assert.deepEqual(left, [], "the job succeeded (and is gone)");
      assert.equal(fcm.received.length, 0, "nothing was sent");
    } finally {
      await server.close();
      await fcm.stop();
    }
  });
});
