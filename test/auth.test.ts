// Sign-up, verification, logout and access tokens (API.md §2.1–§2.2, §3.1–§3.3), black-box
// over HTTP. Time passing (code and token expiry) is simulated by moving stored times through
// server.ctx.db; everything else is observed through the API.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { assertError, assertOk, call, newPhone, signUp, startTestServer, type TestServer } from "./helpers.js";

const DAY = 24 * 60 * 60 * 1000;
const AUTH = "/api/messenger/auth";
const VERIFY = "/api/messenger/auth/verify";
const LOGOUT = "/api/messenger/auth/logout";

const newDeviceId = () => `dev-${randomBytes(6).toString("hex")}`;
const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

const requestCode = (server: TestServer, telephoneNumber: string, deviceId: string, headers?: Record<string, string>) =>
  call(server, "POST", AUTH, { body: { telephoneNumber, deviceId }, headers });
const verify = (server: TestServer, deviceId: string, code = "000000") => call(server, "POST", VERIFY, { body: { code, deviceId } });

describe("auth (IS_TEST=1)", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("GET /auth is 405 with the error envelope", async () => {
    assertError(await call(server, "GET", AUTH), 405);
  });

  it("POST /auth validates telephoneNumber and deviceId (400 naming the field)", async () => {
    const deviceId = newDeviceId();
    const phone = newPhone();
    assertError(await call(server, "POST", AUTH, { body: { telephoneNumber: null, deviceId } }), 400, "telephoneNumber");
    assertError(await call(server, "POST", AUTH, { body: { deviceId } }), 400, "telephoneNumber");
    assertError(await call(server, "POST", AUTH, { body: { telephoneNumber: "", deviceId } }), 400, "telephoneNumber");
    assertError(await call(server, "POST", AUTH, { body: { telephoneNumber: 385911234567, deviceId } }), 400, "telephoneNumber");
    assertError(await call(server, "POST", AUTH, { body: { telephoneNumber: phone, deviceId: null } }), 400, "deviceId");
    assertError(await call(server, "POST", AUTH, { body: { telephoneNumber: phone } }), 400, "deviceId");
    assertError(await call(server, "POST", AUTH, { body: { telephoneNumber: phone, deviceId: "" } }), 400, "deviceId");
    assertError(await call(server, "POST", AUTH, { body: { telephoneNumber: phone, deviceId: 42 } }), 400, "deviceId");
    assertError(await call(server, "POST", AUTH, {}), 400);
    // Nothing was written: the number is still new.
    const first = assertOk(await requestCode(server, phone, deviceId));
    assert.equal(first.isNewUser, true);
  });

  it("POST /auth/verify validates code and deviceId (400 naming the field)", async () => {
    assertError(await call(server, "POST", VERIFY, { body: { deviceId: newDeviceId() } }), 400, "code");
    assertError(await call(server, "POST", VERIFY, { body: { code: null, deviceId: newDeviceId() } }), 400, "code");
    assertError(await call(server, "POST", VERIFY, { body: { code: 0, deviceId: newDeviceId() } }), 400, "code");
    assertError(await call(server, "POST", VERIFY, { body: { code: "000000" } }), 400, "deviceId");
    assertError(await call(server, "POST", VERIFY, { body: { code: "000000", deviceId: null } }), 400, "deviceId");
  });

  it("new user: isNewUser true, a fresh unverified user and a logged-out device built from the headers", async () => {
    const phone = newPhone();
    const deviceId = newDeviceId();
    const res = await requestCode(server, phone, deviceId, {
      "os-name": "android",
      "os-version": "14",
      "device-name": "Pixel",
      "app-version": "3.1.0",
      "device-type": "android",
    });
    const data = assertOk(res);
    assert.equal(data.isNewUser, true);
    assert.equal(Number.isInteger(data.user.id) && data.user.id > 0, true);
    assert.equal(data.user.telephoneNumber, phone);
    assert.equal(data.user.telephoneNumberHashed, sha256(phone));
    assert.equal(data.user.verified, false);
    assert.equal(data.user.displayName, null);
    assert.equal(data.user.deleted, false);
    assert.equal(data.user.isBot, false);
    assert.equal("verificationCode" in data.user, false);
    assert.equal(data.device.deviceId, deviceId);
    assert.equal(data.device.userId, data.user.id);
    assert.equal(data.device.token, null);
    assert.equal(data.device.pushToken, null);
    assert.equal(data.device.osName, "android");
    assert.equal(data.device.osVersion, "14");
    assert.equal(data.device.deviceName, "Pixel");
    assert.equal(data.device.appVersion, "3.1.0");
    assert.equal(data.device.type, "android");
    assert.equal("browserDeviceId" in data, false);
  });

  it("resending the code keeps isNewUser true, the same user and the same device", async () => {
    const phone = newPhone();
    const deviceId = newDeviceId();
    const first = assertOk(await requestCode(server, phone, deviceId));
    const again = assertOk(await requestCode(server, phone, deviceId));
    assert.equal(again.isNewUser, true);
    assert.equal(again.user.id, first.user.id);
    assert.equal(again.device.id, first.device.id);
    assert.equal(again.device.token, null);
  });

  it("verify with 000000 gives a working token and the updated (verified) user", async () => {
    const phone = newPhone();
    const deviceId = newDeviceId();
    const signup = assertOk(await requestCode(server, phone, deviceId));
    const t0 = Date.now();
    const data = assertOk(await verify(server, deviceId));
    const t1 = Date.now();
    assert.equal(typeof data.device.token, "string");
    assert.ok(data.device.token.length >= 32, "token has at least 32 characters");
    assert.equal(data.device.deviceId, deviceId);
    assert.equal(data.device.userId, signup.user.id);
    assert.ok(data.device.tokenExpiredAt >= t0 + 30 * DAY && data.device.tokenExpiredAt <= t1 + 30 * DAY, "expires in 30 days");
    assert.equal(data.user.id, signup.user.id);
    assert.equal(data.user.verified, true);

    const me = assertOk(await call(server, "GET", "/api/messenger/me", { token: data.device.token }));
    assert.equal(me.user.id, signup.user.id);
    assert.equal(me.user.verified, true);
    const dev = assertOk(await call(server, "GET", "/api/messenger/device", { token: data.device.token }));
    assert.equal(dev.device.token, data.device.token);
  });

  it("a wrong code is 403, an unknown device is 404", async () => {
    const deviceId = newDeviceId();
    assertOk(await requestCode(server, newPhone(), deviceId));
    assertError(await verify(server, deviceId, "123456"), 403);
    assertError(await verify(server, newDeviceId()), 404);
    // The right code still works afterwards.
    assertOk(await verify(server, deviceId));
  });

  it("a used code cannot be used again", async () => {
    const deviceId = newDeviceId();
    assertOk(await requestCode(server, newPhone(), deviceId));
    const first = assertOk(await verify(server, deviceId));
    assertError(await verify(server, deviceId), 403);
    // The first token is untouched by the failed second try.
    assertOk(await call(server, "GET", "/api/messenger/me", { token: first.device.token }));
  });

  it("changing the number on an unverified device works and binds the device to the second number", async () => {
    const deviceId = newDeviceId();
    const phone1 = newPhone();
    const phone2 = newPhone();
    const first = assertOk(await requestCode(server, phone1, deviceId));
    const second = assertOk(await requestCode(server, phone2, deviceId));
    assert.equal(second.isNewUser, true);
    assert.notEqual(second.user.id, first.user.id);
    assert.equal(second.device.id, first.device.id);
    assert.equal(second.device.userId, second.user.id);
    const verified = assertOk(await verify(server, deviceId));
    assert.equal(verified.user.id, second.user.id);
    assert.equal(verified.user.telephoneNumber, phone2);
  });

  it("after verifying, another number on the same non-browser device is 403 and changes nothing", async () => {
    const a = await signUp(server);
    const other = newPhone();
    assertError(await requestCode(server, other, a.deviceId), 403);
    // The device is still A's and still logged in.
    const dev = assertOk(await call(server, "GET", "/api/messenger/device", { token: a.token }));
    assert.equal(dev.device.userId, a.user.id);
    assert.equal(dev.device.token, a.token);
    // And the refused number was not bound to this device.
    assertError(await verify(server, a.deviceId), 403);
  });

  it("someone occasionally inputs an existing number, then their own, and signs up normally", async () => {
    const a = await signUp(server, { displayName: "Alice" });
    const bDevice = newDeviceId();
    const bPhone = newPhone();
    const wrong = assertOk(await requestCode(server, a.phone, bDevice));
    assert.equal(wrong.isNewUser, false);
    assert.equal(wrong.user.id, a.user.id);
    assert.equal(wrong.device.token, null);
    const own = assertOk(await requestCode(server, bPhone, bDevice));
    assert.equal(own.isNewUser, true);
    assert.notEqual(own.user.id, a.user.id);
    const v = assertOk(await verify(server, bDevice));
    assert.equal(typeof v.device.token, "string");
    assert.equal(v.user.telephoneNumber, bPhone);
    const me = assertOk(await call(server, "GET", "/api/messenger/me", { token: v.device.token }));
    assert.equal(me.user.id, own.user.id);
    // A is unaffected.
    assertOk(await call(server, "GET", "/api/messenger/me", { token: a.token }));
  });

  it("isNewUser is false for a user who has a display name", async () => {
    const a = await signUp(server, { displayName: "Named" });
    const again = assertOk(await requestCode(server, a.phone, newDeviceId()));
    assert.equal(again.isNewUser, false);
    assert.equal(again.user.id, a.user.id);
    assert.equal(again.user.verified, true);
  });

  it("POST /auth never returns a usable token; on a non-browser device it logs the device out", async () => {
    const a = await signUp(server, { headers: { "device-type": "ios" } });
    const res = assertOk(await requestCode(server, a.phone, a.deviceId, { "device-type": "ios" }));
    assert.equal(res.device.token, null);
    assert.equal(res.device.pushToken, null);
    assert.equal(res.user.id, a.user.id);
    assertError(await call(server, "GET", "/api/messenger/me", { token: a.token }), 401);
    // Verifying again gives a new, different token.
    const v = assertOk(await verify(server, a.deviceId));
    assert.notEqual(v.device.token, a.token);
    assertOk(await call(server, "GET", "/api/messenger/me", { token: v.device.token }));
    assertError(await call(server, "GET", "/api/messenger/me", { token: a.token }), 401);
  });

  it("a browser device re-requesting its own number gets browserDeviceId and token null, and stays logged in", async () => {
    const a = await signUp(server, { headers: { "device-type": "browser" } });
    assert.equal(a.device.type, "browser");
    const res = assertOk(await requestCode(server, a.phone, a.deviceId, { "device-type": "browser" }));
    assert.equal(res.browserDeviceId, a.deviceId);
    assert.equal(res.device.type, "browser");
    assert.equal(res.device.token, null);
    assertOk(await call(server, "GET", "/api/messenger/me", { token: a.token }));
  });

  it("§3.1 takeover: a verified browser device re-bound to a victim's number loses its token and gets none back", async () => {
    const victim = await signUp(server, { displayName: "Victim" });
    const attacker = await signUp(server, { headers: { "device-type": "browser" } });
    assertOk(await call(server, "GET", "/api/messenger/me", { token: attacker.token }));

    const res = assertOk(await requestCode(server, victim.phone, attacker.deviceId, { "device-type": "browser" }));
    assert.equal(res.device.token, null);
    assert.equal(res.browserDeviceId, attacker.deviceId);
    assert.equal(res.user.id, victim.user.id);
    assert.equal(JSON.stringify(res).includes(attacker.token), false, "the old token is nowhere in the response");

    // The old token is dead everywhere: it neither acts as the attacker nor as the victim.
    assertError(await call(server, "GET", "/api/messenger/me", { token: attacker.token }), 401);
    assertError(await call(server, "GET", "/api/messenger/device", { token: attacker.token }), 401);
    // Nothing usable comes back without the victim's code.
    assertError(await verify(server, attacker.deviceId, "999999"), 403);
    const again = assertOk(await requestCode(server, victim.phone, attacker.deviceId, { "device-type": "browser" }));
    assert.equal(again.device.token, null);
    // The victim is untouched.
    const me = assertOk(await call(server, "GET", "/api/messenger/me", { token: victim.token }));
    assert.equal(me.user.id, victim.user.id);
    // Only the victim's code (000000 in test mode) finally issues a token — for the victim.
    const v = assertOk(await verify(server, attacker.deviceId));
    assert.equal(v.user.id, victim.user.id);
    assert.notEqual(v.device.token, attacker.token);
  });

  it("a token in the wrong header is 401 with a message naming the accesstoken header", async () => {
    const a = await signUp(server);
    for (const headers of [{ authorization: `Bearer ${a.token}` }, { "access-token": a.token }] as Record<string, string>[]) {
      const res = await call(server, "GET", "/api/messenger/me", { headers });
      assertError(res, 401);
      assert.match(res.body.message, /"accesstoken" header/, JSON.stringify(headers));
      assert.match(res.body.message, new RegExp(Object.keys(headers)[0], "i"), "names the header that was sent");
      assert.equal(res.body.message.includes(a.token), false, "the token is not echoed");
    }
    const none = await call(server, "GET", "/api/messenger/me");
    assertError(none, 401);
    assert.match(none.body.message, /"accesstoken" header/);
  });

  it("logout clears token and push token; the old token is then 401", async () => {
    const a = await signUp(server);
    assertOk(await call(server, "PUT", "/api/messenger/device", { token: a.token, body: { pushToken: "push-1" } }));
    const before = Date.now();
    const data = assertOk(await call(server, "POST", LOGOUT, { token: a.token }));
    assert.equal(data.device.token, null);
    assert.equal(data.device.pushToken, null);
    assert.equal(data.device.deviceId, a.deviceId);
    assert.ok(data.device.tokenExpiredAt <= Date.now() && data.device.tokenExpiredAt >= before - 1000);
    assertError(await call(server, "GET", "/api/messenger/me", { token: a.token }), 401);
    assertError(await call(server, "POST", LOGOUT, { token: a.token }), 401);
    assertError(await call(server, "POST", LOGOUT), 401);
    // Signing in again on the same device works.
    assertOk(await requestCode(server, a.phone, a.deviceId));
    const v = assertOk(await verify(server, a.deviceId));
    assertOk(await call(server, "GET", "/api/messenger/me", { token: v.device.token }));
  });

  it("a code expires: verify is 403 once its time has passed; a new code works", async () => {
    const deviceId = newDeviceId();
    const signup = assertOk(await requestCode(server, newPhone(), deviceId));
    await server.ctx.db
      .updateTable("users")
      .set({ verificationCodeExpiresAt: Date.now() - 1000 })
      .where("id", "=", signup.user.id)
      .execute();
    assertError(await verify(server, deviceId), 403);
    assertOk(await requestCode(server, signup.user.telephoneNumber, deviceId));
    const v = assertOk(await verify(server, deviceId));
    assert.equal(v.user.id, signup.user.id);
  });

  it("after 5 wrong codes even the right code is refused (429) until a new code is requested", async () => {
    const deviceId = newDeviceId();
    const phone = newPhone();
    assertOk(await requestCode(server, phone, deviceId));
    for (let i = 0; i < 5; i++) assertError(await verify(server, deviceId, `12345${i}`), 403);
    assertError(await verify(server, deviceId), 429);
    assertError(await verify(server, deviceId, "111111"), 429);
    assertOk(await requestCode(server, phone, deviceId));
    const v = assertOk(await verify(server, deviceId));
    assert.equal(typeof v.device.token, "string");
  });

  it("an expired token is 401; a token close to expiry slides to now + 30 days", async () => {
    const a = await signUp(server);
    // Written behind the server's back, so the cached token is revoked as an action would.
    const setExpiry = async (at: number) => {
      await server.ctx.db.updateTable("devices").set({ tokenExpiredAt: at }).where("deviceId", "=", a.deviceId).execute();
      await server.ctx.bus.revoke({ deviceIds: [a.device.id] });
    };

    await setExpiry(Date.now() + DAY);
    const t0 = Date.now();
    assertOk(await call(server, "GET", "/api/messenger/me", { token: a.token }));
    const t1 = Date.now();
    const dev = assertOk(await call(server, "GET", "/api/messenger/device", { token: a.token }));
    assert.ok(dev.device.tokenExpiredAt >= t0 + 30 * DAY && dev.device.tokenExpiredAt <= t1 + 30 * DAY, "slid to now + 30 days");
    assert.equal(dev.device.token, a.token, "the token value does not change");

    // More than 7 days left: no refresh.
    const tenDays = Date.now() + 10 * DAY;
    await setExpiry(tenDays);
    assertOk(await call(server, "GET", "/api/messenger/me", { token: a.token }));
    const same = assertOk(await call(server, "GET", "/api/messenger/device", { token: a.token }));
    assert.equal(same.device.tokenExpiredAt, tenDays);

    await setExpiry(Date.now() - 1000);
    assertError(await call(server, "GET", "/api/messenger/me", { token: a.token }), 401);
    assertError(await call(server, "GET", "/api/messenger/device", { token: a.token }), 401);
    // An expired token is not revived by the refresh.
    assertError(await call(server, "GET", "/api/messenger/me", { token: a.token }), 401);
  });

  it("device headers on authenticated requests update the device; absent headers never clear; device-type is ignored", async () => {
    const a = await signUp(server, {
      headers: { "os-name": "ios", "os-version": "16", "device-name": "iPhone", "app-version": "1.0", "device-type": "ios" },
    });
    const initial = assertOk(await call(server, "GET", "/api/messenger/device", { token: a.token }));
    assert.deepEqual(
      [initial.device.osName, initial.device.osVersion, initial.device.deviceName, initial.device.appVersion, initial.device.type],
      ["ios", "16", "iPhone", "1.0", "ios"],
    );

    assertOk(
      await call(server, "GET", "/api/messenger/me", {
        token: a.token,
        headers: { "os-version": "17.2", "app-version": "1.1", "device-type": "browser" },
      }),
    );
    const changed = assertOk(await call(server, "GET", "/api/messenger/device", { token: a.token }));
    assert.equal(changed.device.osVersion, "17.2");
    assert.equal(changed.device.appVersion, "1.1");
    assert.equal(changed.device.osName, "ios", "absent header leaves the field");
    assert.equal(changed.device.deviceName, "iPhone", "absent header leaves the field");
    assert.equal(changed.device.type, "ios", "device-type is not honoured on authenticated requests");

    assertOk(
      await call(server, "GET", "/api/messenger/me", {
        token: a.token,
        headers: { "os-name": "iPadOS", "device-name": "iPad", "os-version": "" },
      }),
    );
    const again = assertOk(await call(server, "GET", "/api/messenger/device", { token: a.token }));
    assert.equal(again.device.osName, "iPadOS");
    assert.equal(again.device.deviceName, "iPad");
    assert.equal(again.device.osVersion, "17.2", "an empty header does not clear");
    assert.equal(again.device.appVersion, "1.1");
    assert.equal(again.device.type, "ios");

    // The device stayed non-browser, so another number on it is still refused (§3.1 step 1).
    assertError(await requestCode(server, newPhone(), a.deviceId), 403);
  });

  it("a deleted user's token is 401; the number can then sign up as a new user", async () => {
    const a = await signUp(server, { displayName: "Leaving" });
    const del = assertOk(await call(server, "DELETE", "/api/messenger/me", { token: a.token }));
    assert.equal(del.deleted, true);
    assertError(await call(server, "GET", "/api/messenger/me", { token: a.token }), 401);
    assertError(await call(server, "GET", "/api/messenger/device", { token: a.token }), 401);
    assertError(await call(server, "POST", LOGOUT, { token: a.token }), 401);
    const fresh = assertOk(await requestCode(server, a.phone, newDeviceId()));
    assert.equal(fresh.isNewUser, true);
    assert.notEqual(fresh.user.id, a.user.id);
  });

  it("POST /auth does not show the account's e-mail to a caller who has not verified the number", async () => {
    const a = await signUp(server, { displayName: "Mail" });
    const email = `a${randomBytes(4).toString("hex")}@example.com`;
    assertOk(await call(server, "PUT", "/api/messenger/me", { token: a.token, body: { emailAddress: email } }));
    const deviceId = newDeviceId();
    const res = assertOk(await requestCode(server, a.phone, deviceId));
    assert.equal(res.user.id, a.user.id);
    assert.equal(res.user.emailAddress, null);
    const v = assertOk(await verify(server, deviceId));
    assert.equal(v.user.emailAddress, email);
  });

  it("the same deviceId cannot be verified for a number it was never bound to", async () => {
    const a = await signUp(server);
    const b = await signUp(server);
    // Each device logs in only as its own user.
    const meA = assertOk(await call(server, "GET", "/api/messenger/me", { token: a.token }));
    const meB = assertOk(await call(server, "GET", "/api/messenger/me", { token: b.token }));
    assert.equal(meA.user.id, a.user.id);
    assert.equal(meB.user.id, b.user.id);
    // B asks for a code; A's device (bound to A, who has no pending code) cannot use it.
    assertOk(await requestCode(server, b.phone, newDeviceId()));
    assertError(await verify(server, a.deviceId), 403);
    assertOk(await call(server, "GET", "/api/messenger/me", { token: a.token }));
  });
});

describe("auth under concurrency", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("parallel wrong guesses never get past the attempt limit", async () => {
    const deviceId = newDeviceId();
    assertOk(await requestCode(server, newPhone(), deviceId));
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => verify(server, deviceId, String(100000 + i))));
    const statuses = results.map((r) => r.status).sort();
    assert.equal(statuses.filter((s) => s === 403).length, 5, `statuses: ${statuses}`);
    assert.equal(statuses.filter((s) => s === 429).length, 7, `statuses: ${statuses}`);
    assertError(await verify(server, deviceId), 429);
  });

  it("one code issues one token, even when several devices of the user verify it at once", async () => {
    const phone = newPhone();
    // Five devices: no more tries than the attempt limit allows, so every loser sees 403.
    const devices = Array.from({ length: 5 }, () => newDeviceId());
    for (const d of devices) assertOk(await requestCode(server, phone, d));
    const results = await Promise.all(devices.map((d) => verify(server, d)));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses}`);
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      Array(4).fill(403),
      `statuses: ${statuses}`,
    );
  });

  it("parallel sign-ups for one new number and one new device never fail", async () => {
    const phone = newPhone();
    const deviceId = newDeviceId();
    const results = await Promise.all(Array.from({ length: 8 }, () => requestCode(server, phone, deviceId)));
    for (const r of results) assertOk(r);
    assert.equal(new Set(results.map((r) => r.body.data.user.id)).size, 1);
    assert.equal(new Set(results.map((r) => r.body.data.device.id)).size, 1);
    assertOk(await verify(server, deviceId));
  });

  it("parallel sign-ups of one new device with different numbers never fail; the device ends bound to one of them", async () => {
    const deviceId = newDeviceId();
    const phones = Array.from({ length: 6 }, () => newPhone());
    const results = await Promise.all(phones.map((p) => requestCode(server, p, deviceId)));
    for (const r of results) assertOk(r);
    assert.equal(new Set(results.map((r) => r.body.data.device.id)).size, 1, "one device row");
    const v = assertOk(await verify(server, deviceId));
    assert.ok(phones.includes(v.user.telephoneNumber));
    const dev = assertOk(await call(server, "GET", "/api/messenger/device", { token: v.device.token }));
    assert.equal(dev.device.deviceId, deviceId);
    assert.equal(dev.device.userId, v.user.id);
  });

  it("over-long telephoneNumber or deviceId is a 400, not stored", async () => {
    assertError(await requestCode(server, "+" + "1".repeat(5000), newDeviceId()), 400, "telephoneNumber");
    assertError(await requestCode(server, newPhone(), "d".repeat(5000)), 400, "deviceId");
    assertError(await verify(server, "d".repeat(5000)), 400, "deviceId");
  });
});

describe("auth rate limits (RATE_LIMIT=on)", () => {
  it("the 6th POST /auth for one number within the window is a 429 envelope; other numbers still pass", async () => {
    const server = await startTestServer({ RATE_LIMIT: "on" });
    try {
      const phone = newPhone();
      for (let i = 0; i < 5; i++) assertOk(await requestCode(server, phone, newDeviceId()));
      assertError(await requestCode(server, phone, newDeviceId()), 429);
      assertError(await requestCode(server, phone, newDeviceId()), 429);
      assertOk(await requestCode(server, newPhone(), newDeviceId()));
    } finally {
      await server.close();
    }
  });

  it("more than 30 POST /auth from one IP within the window is a 429 envelope", async () => {
    const server = await startTestServer({ RATE_LIMIT: "on" });
    try {
      for (let i = 0; i < 30; i++) assertOk(await requestCode(server, newPhone(), newDeviceId()));
      assertError(await requestCode(server, newPhone(), newDeviceId()), 429);
    } finally {
      await server.close();
    }
  });

  it("RATE_LIMIT=off lets the same number through many times", async () => {
    const server = await startTestServer({ RATE_LIMIT: "off" });
    try {
      const phone = newPhone();
      for (let i = 0; i < 8; i++) assertOk(await requestCode(server, phone, newDeviceId()));
    } finally {
      await server.close();
    }
  });
});

describe("single-mobile-device policy (SINGLE_MOBILE_DEVICE=1)", () => {
  it("a sign-up on a mobile device logs the user's other mobile devices out, not the browser ones", async () => {
    const server = await startTestServer({ SINGLE_MOBILE_DEVICE: "1" });
    try {
      const phone = newPhone();
      const mobile1 = await signUp(server, { phone, headers: { "device-type": "android" } });
      const browser = await signUp(server, { phone, headers: { "device-type": "browser" } });
      assertOk(await call(server, "PUT", "/api/messenger/device", { token: mobile1.token, body: { pushToken: "p1" } }));
      assertOk(await call(server, "GET", "/api/messenger/me", { token: mobile1.token }));
      // Asking for a code proves nothing: anyone can do it for any number, and it logs nobody out.
      const mobile2Id = newDeviceId();
      assertOk(await requestCode(server, phone, mobile2Id, { "device-type": "ios" }));
      assertOk(await call(server, "GET", "/api/messenger/me", { token: mobile1.token }));
      // Verifying the number on the new mobile device does.
      const v = assertOk(await verify(server, mobile2Id));
      const mobile2 = { token: v.device.token as string };
      assertError(await call(server, "GET", "/api/messenger/me", { token: mobile1.token }), 401);
      assertOk(await call(server, "GET", "/api/messenger/me", { token: browser.token }));
      assertOk(await call(server, "GET", "/api/messenger/me", { token: mobile2.token }));
    } finally {
      await server.close();
    }
  });

  it("without the policy several mobile devices stay signed in", async () => {
    const server = await startTestServer();
    try {
      const phone = newPhone();
      const m1 = await signUp(server, { phone });
      const m2 = await signUp(server, { phone });
      assertOk(await call(server, "GET", "/api/messenger/me", { token: m1.token }));
      assertOk(await call(server, "GET", "/api/messenger/me", { token: m2.token }));
    } finally {
      await server.close();
    }
  });
});

// A stand-in for Twilio's REST API on a local port: records every request.
interface Sms {
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  to: string;
  from: string;
  body: string;
}

class SmsReceiver {
  readonly received: Sms[] = [];
  readonly failFor = new Set<string>();
  private waiters: Array<() => void> = [];
  private server!: Server;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
        const sms: Sms = {
          path: req.url ?? "",
          authorization: req.headers.authorization,
          contentType: req.headers["content-type"],
          to: form.get("To") ?? "",
          from: form.get("From") ?? "",
          body: form.get("Body") ?? "",
        };
        this.received.push(sms);
        const fail = this.failFor.has(sms.to);
        res.writeHead(fail ? 500 : 201, { "content-type": "application/json" });
        res.end(JSON.stringify(fail ? { message: "boom" } : { sid: "SM" + randomBytes(8).toString("hex"), status: "queued" }));
        for (const w of this.waiters.splice(0)) w();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  to(number: string): Sms[] {
    return this.received.filter((s) => s.to === number);
  }

  /** Resolves with the `n`-th (1-based) SMS to `number` once it has arrived. */
  async waitFor(number: string, n = 1): Promise<Sms> {
    while (this.to(number).length < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.to(number)[n - 1];
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const codeOf = (sms: Sms): string => {
  const m = /\d{6}/.exec(sms.body);
  assert.ok(m, `the SMS carries a 6-digit code: ${JSON.stringify(sms.body)}`);
  return m[0];
};

describe("SMS through Twilio (IS_TEST=0, SMS_PROVIDER=twilio)", () => {
  const SID = "AC0123456789abcdef";
  const AUTH_TOKEN = "twilio-secret";
  const FROM = "+15005550006";
  const HASH = "FA+abcDEFgh";
  const testers = [newPhone(), newPhone()];
  const receiver = new SmsReceiver();
  let server: TestServer;
  /** How many POST /auth each non-tester number got (each must produce exactly one SMS). */
  const requested = new Map<string, number>();

  const ask = async (phone: string, deviceId: string, headers?: Record<string, string>) => {
    const res = await requestCode(server, phone, deviceId, headers);
    if (res.status === 200 && !testers.includes(phone)) requested.set(phone, (requested.get(phone) ?? 0) + 1);
    return res;
  };

  before(async () => {
    await receiver.start();
    server = await startTestServer({
      IS_TEST: "0",
      SMS_PROVIDER: "twilio",
      TWILIO_ACCOUNT_SID: SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_FROM: FROM,
      TWILIO_BASE_URL: receiver.url,
      TESTER_PHONE_NUMBERS: testers.join(" , "),
      ANDROID_SMS_VERIFICATION_HASH: HASH,
    });
  });
  after(async () => {
    await server.close();
    await receiver.stop();
  });

  it("POST /auth sends one SMS through Twilio's API; its code verifies", { timeout: 15_000 }, async () => {
    const phone = newPhone();
    const deviceId = newDeviceId();
    const res = assertOk(await ask(phone, deviceId, { "os-name": "ios" }));
    assert.equal(res.device.token, null);
    const sms = await receiver.waitFor(phone);
    assert.equal(sms.path, `/2010-04-01/Accounts/${SID}/Messages.json`);
    assert.equal(sms.authorization, `Basic ${Buffer.from(`${SID}:${AUTH_TOKEN}`).toString("base64")}`);
    assert.match(sms.contentType ?? "", /application\/x-www-form-urlencoded/);
    assert.equal(sms.to, phone);
    assert.equal(sms.from, FROM);
    const code = codeOf(sms);
    assert.equal(sms.body, `Thank you for your signup request. Your verification code is ${code}`);
    assert.equal(sms.body.includes(HASH), false, "no Android hash for iOS");

    if (code !== "000000") assertError(await verify(server, deviceId, "000000"), 403);
    const v = assertOk(await verify(server, deviceId, code));
    assert.equal(v.user.telephoneNumber, phone);
    assertOk(await call(server, "GET", "/api/messenger/me", { token: v.device.token }));
  });

  it("with os-name android the SMS-retriever hash follows a blank line", { timeout: 15_000 }, async () => {
    const phone = newPhone();
    const deviceId = newDeviceId();
    assertOk(await ask(phone, deviceId, { "os-name": "android" }));
    const sms = await receiver.waitFor(phone);
    assert.ok(sms.body.endsWith(`\n\n${HASH}`), `hash appended after a blank line: ${JSON.stringify(sms.body)}`);
    assertOk(await verify(server, deviceId, codeOf(sms)));
  });

  it("a resent code replaces the previous one", { timeout: 15_000 }, async () => {
    const phone = newPhone();
    const deviceId = newDeviceId();
    assertOk(await ask(phone, deviceId));
    const first = codeOf(await receiver.waitFor(phone, 1));
    assertOk(await ask(phone, deviceId));
    const second = codeOf(await receiver.waitFor(phone, 2));
    if (first !== second) assertError(await verify(server, deviceId, first), 403);
    assertOk(await verify(server, deviceId, second));
  });

  it("tester numbers get 000000 and no SMS; other numbers do not accept 000000", { timeout: 15_000 }, async () => {
    for (const tester of testers) {
      const deviceId = newDeviceId();
      assertOk(await ask(tester, deviceId));
      const v = assertOk(await verify(server, deviceId, "000000"));
      assert.equal(v.user.telephoneNumber, tester);
    }
    const phone = newPhone();
    const deviceId = newDeviceId();
    assertOk(await ask(phone, deviceId));
    const code = codeOf(await receiver.waitFor(phone));
    if (code !== "000000") assertError(await verify(server, deviceId, "000000"), 403);
    assertOk(await verify(server, deviceId, code));
  });

  it("a failing SMS provider is not reported to the client", { timeout: 15_000 }, async () => {
    const phone = newPhone();
    receiver.failFor.add(phone);
    const res = assertOk(await ask(phone, newDeviceId()));
    assert.equal(res.isNewUser, true);
    await receiver.waitFor(phone);
    // The server keeps answering.
    const health = await call(server, "GET", "/health");
    assert.equal(health.status, 200);
  });

  it("§3.1 takeover with real codes: the re-bound browser device gets a token only with the victim's code", { timeout: 15_000 }, async () => {
    const victimPhone = newPhone();
    const victimDevice = newDeviceId();
    assertOk(await ask(victimPhone, victimDevice, { "device-type": "ios" }));
    const victim = assertOk(await verify(server, victimDevice, codeOf(await receiver.waitFor(victimPhone, 1))));

    const attackerPhone = newPhone();
    const attackerDevice = newDeviceId();
    assertOk(await ask(attackerPhone, attackerDevice, { "device-type": "browser" }));
    const attacker = assertOk(await verify(server, attackerDevice, codeOf(await receiver.waitFor(attackerPhone, 1))));
    assertOk(await call(server, "GET", "/api/messenger/me", { token: attacker.device.token }));

    const res = assertOk(await ask(victimPhone, attackerDevice, { "device-type": "browser" }));
    assert.equal(res.device.token, null);
    assertError(await call(server, "GET", "/api/messenger/me", { token: attacker.device.token }), 401);
    // The attacker's own last code is gone, and guesses do not help.
    const attackerCode = codeOf(await receiver.waitFor(attackerPhone, 1));
    const victimCode = codeOf(await receiver.waitFor(victimPhone, 2));
    if (attackerCode !== victimCode) assertError(await verify(server, attackerDevice, attackerCode), 403);
    assertOk(await call(server, "GET", "/api/messenger/me", { token: victim.device.token }));
    // Only the code sent to the victim's phone issues a token.
    const v = assertOk(await verify(server, attackerDevice, victimCode));
    assert.equal(v.user.id, victim.user.id);
  });

  it("every accepted POST /auth for a non-tester number sent exactly one SMS; tester numbers none", { timeout: 15_000 }, async () => {
    for (const [phone, n] of requested) await receiver.waitFor(phone, n);
    for (const [phone, n] of requested) assert.equal(receiver.to(phone).length, n, `SMS count for ${phone}`);
    for (const tester of testers) assert.equal(receiver.to(tester).length, 0, `no SMS for tester ${tester}`);
    for (const sms of receiver.received) assert.equal(sms.path, `/2010-04-01/Accounts/${SID}/Messages.json`);
  });
});
