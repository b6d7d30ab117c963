// The caller's device and its push token (API.md §3.12, §3.13), black-box over HTTP.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { assertError, assertOk, call, signUp, startTestServer, type TestServer } from "./helpers.js";

const DEVICE = "/api/messenger/device";

const DEVICE_KEYS = ["id", "userId", "token", "tokenExpiredAt", "osName", "osVersion", "appVersion", "deviceName", "pushToken", "deviceId", "type"].sort();

describe("devices", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("GET /device returns the caller's own device, including its token", async () => {
    const a = await signUp(server, {
      headers: { "os-name": "android", "os-version": "14", "device-name": "Pixel 8", "app-version": "3.0.1", "device-type": "android" },
    });
    const b = await signUp(server);
    const data = assertOk(await call(server, "GET", DEVICE, { token: a.token }));
    assert.deepEqual(Object.keys(data.device).sort(), DEVICE_KEYS);
    assert.equal(data.device.id, a.device.id);
    assert.equal(data.device.userId, a.user.id);
    assert.equal(data.device.deviceId, a.deviceId);
    assert.equal(data.device.token, a.token);
    assert.equal(data.device.tokenExpiredAt, a.device.tokenExpiredAt);
    assert.equal(data.device.osName, "android");
    assert.equal(data.device.osVersion, "14");
    assert.equal(data.device.deviceName, "Pixel 8");
    assert.equal(data.device.appVersion, "3.0.1");
    assert.equal(data.device.type, "android");
    assert.equal(data.device.pushToken, null);

    const other = assertOk(await call(server, "GET", DEVICE, { token: b.token }));
    assert.equal(other.device.id, b.device.id);
    assert.equal(other.device.userId, b.user.id);
    assert.equal(other.device.token, b.token);
    assert.notEqual(other.device.id, data.device.id);
  });

  it("GET and PUT /device need a valid token (401 envelope)", async () => {
    assertError(await call(server, "GET", DEVICE), 401);
    assertError(await call(server, "GET", DEVICE, { token: "nope" }), 401);
    assertError(await call(server, "PUT", DEVICE, { body: { pushToken: "x" } }), 401);
    assertError(await call(server, "PUT", DEVICE, { token: "nope", body: { pushToken: "x" } }), 401);
  });

  it("PUT /device sets the push token of the caller's device only", async () => {
    const a = await signUp(server);
    const b = await signUp(server);
    const put = assertOk(await call(server, "PUT", DEVICE, { token: a.token, body: { pushToken: "fcm-token-a" } }));
    assert.equal(put.device.pushToken, "fcm-token-a");
    assert.equal(put.device.id, a.device.id);
    assert.equal(put.device.token, a.token);
    const got = assertOk(await call(server, "GET", DEVICE, { token: a.token }));
    assert.equal(got.device.pushToken, "fcm-token-a");
    const theirs = assertOk(await call(server, "GET", DEVICE, { token: b.token }));
    assert.equal(theirs.device.pushToken, null);

    // It can be replaced, and an absent pushToken leaves it as it is.
    assertOk(await call(server, "PUT", DEVICE, { token: a.token, body: { pushToken: "fcm-token-a2" } }));
    const kept = assertOk(await call(server, "PUT", DEVICE, { token: a.token, body: {} }));
    assert.equal(kept.device.pushToken, "fcm-token-a2");
    assert.equal(assertOk(await call(server, "GET", DEVICE, { token: a.token })).device.pushToken, "fcm-token-a2");
  });

  it("can't update anything else than pushToken", async () => {
    const a = await signUp(server, { headers: { "os-name": "ios", "device-type": "ios" } });
    const before = assertOk(await call(server, "GET", DEVICE, { token: a.token })).device;
    const res = assertOk(
      await call(server, "PUT", DEVICE, {
        token: a.token,
        body: {
          deviceId: "x",
          id: 999999,
          userId: 999999,
          token: "chosen-token",
          tokenExpiredAt: 1,
          osName: "hacked",
          osVersion: "hacked",
          appVersion: "hacked",
          deviceName: "hacked",
          type: "browser",
        },
      }),
    );
    assert.deepEqual(res.device, before);
    const after = assertOk(await call(server, "GET", DEVICE, { token: a.token })).device;
    assert.deepEqual(after, before);
    // The device is still reachable only with its own token, and "chosen-token" is nothing.
    assertError(await call(server, "GET", DEVICE, { token: "chosen-token" }), 401);
    // Its deviceId did not change: signing in again with the original id finds the same device.
    const again = await call(server, "POST", "/api/messenger/auth", { body: { telephoneNumber: a.phone, deviceId: a.deviceId } });
    assert.equal(assertOk(again).device.id, a.device.id);
  });

  it("a non-string pushToken is a 400 naming the field, and nothing changes", async () => {
    const a = await signUp(server);
    assertOk(await call(server, "PUT", DEVICE, { token: a.token, body: { pushToken: "good" } }));
    for (const pushToken of [42, true, null, ["x"], { v: "x" }]) {
      assertError(await call(server, "PUT", DEVICE, { token: a.token, body: { pushToken } }), 400, "pushToken");
    }
    assertError(await call(server, "PUT", DEVICE, { token: a.token, raw: '{"pushToken": ' }), 400);
    assert.equal(assertOk(await call(server, "GET", DEVICE, { token: a.token })).device.pushToken, "good");
  });

  it("a new verification and a logout clear the push token", async () => {
    const a = await signUp(server);
    assertOk(await call(server, "PUT", DEVICE, { token: a.token, body: { pushToken: "p" } }));
    const out = assertOk(await call(server, "POST", "/api/messenger/auth/logout", { token: a.token }));
    assert.equal(out.device.pushToken, null);
    assert.equal(out.device.token, null);
    assertError(await call(server, "GET", DEVICE, { token: a.token }), 401);

    const b = await signUp(server, { phone: a.phone, deviceId: a.deviceId });
    assert.equal(b.device.id, a.device.id);
    const now = assertOk(await call(server, "GET", DEVICE, { token: b.token }));
    assert.equal(now.device.pushToken, null);
    assert.equal(now.device.token, b.token);
    assertOk(await call(server, "PUT", DEVICE, { token: b.token, body: { pushToken: "q" } }));
    // Verifying again on the same device (after a new code) clears it too.
    const c = await signUp(server, { phone: a.phone, deviceId: a.deviceId });
    assert.equal(assertOk(await call(server, "GET", DEVICE, { token: c.token })).device.pushToken, null);
  });

  it("GET /device/ with a trailing slash answers the same", async () => {
    const a = await signUp(server);
    const plain = assertOk(await call(server, "GET", DEVICE, { token: a.token }));
    const slash = assertOk(await call(server, "GET", DEVICE + "/", { token: a.token }));
    assert.deepEqual(slash, plain);
  });
});
