// Rate limits (API.md §10, issue #10 item 4): a general limit per access token, a per-IP limit on
// /auth/verify, Retry-After on every 429, counters shared by every instance on one database (or
// one Redis), and TRUST_PROXY deciding which address a per-IP limit sees.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { assertError, call, newPhone, signUp, startTestServer, testDatabase, type Res, type TestServer } from "./helpers.js";

/** A 429 in the envelope whose Retry-After is a whole number of seconds within `maxSeconds`. */
function assertLimited(res: Res, maxSeconds: number): void {
  assertError(res, 429, /Too many/);
  const retryAfter = res.headers.get("retry-after");
  assert.match(retryAfter ?? "", /^\d+$/, `Retry-After: ${retryAfter}`);
  assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= maxSeconds, `Retry-After ${retryAfter} within 1..${maxSeconds}`);
}

const verify = (server: { url: string }, headers: Record<string, string> = {}) =>
  call(server, "POST", "/api/messenger/auth/verify", { body: { code: "000000", deviceId: "no-such-device" }, headers });

describe("per-token request limit (RATE_LIMIT_PER_TOKEN requests a minute)", () => {
  it("the request past the limit is a 429 with Retry-After; another token is not affected", async () => {
    const server = await startTestServer({ RATE_LIMIT: "on", RATE_LIMIT_PER_TOKEN: "5" });
    try {
      const alice = await signUp(server);
      const bob = await signUp(server);
      for (let i = 0; i < 5; i++) assert.equal((await call(server, "GET", "/api/messenger/me", { token: alice.token })).status, 200);
      assertLimited(await call(server, "GET", "/api/messenger/me", { token: alice.token }), 60);
      assertLimited(await call(server, "PUT", "/api/messenger/me", { token: alice.token, body: { displayName: "x" } }), 60);
      assert.equal((await call(server, "GET", "/api/messenger/me", { token: bob.token })).status, 200);
      const sse = await fetch(`${server.url}/api/sse`, { headers: { accesstoken: alice.token } });
      assert.equal(sse.status, 429, "opening a stream counts too");
      assert.match(sse.headers.get("retry-after") ?? "", /^\d+$/);
    } finally {
      await server.close();
    }
  });

  /** Two servers on one database (and one Redis when REDIS_URL is set) with this per-token limit. */
  async function twoServers(perToken: number, test: (one: TestServer, two: TestServer, token: string) => Promise<void>): Promise<void> {
    const database = await testDatabase();
    const env = { RATE_LIMIT: "on", RATE_LIMIT_PER_TOKEN: String(perToken) };
    const one = await startTestServer(env, { database });
    const two = await startTestServer(env, { database });
    try {
      await test(one, two, (await signUp(one)).token);
    } finally {
      await one.close();
      await two.close();
      await database.drop();
    }
  }

  it("two servers on one database share one limit", async () => {
    await twoServers(4, async (one, two, token) => {
      for (const server of [one, two, one, two]) assert.equal((await call(server, "GET", "/api/messenger/me", { token })).status, 200);
      assertLimited(await call(two, "GET", "/api/messenger/me", { token }), 60);
      assertLimited(await call(one, "GET", "/api/messenger/me", { token }), 60);
    });
  });

  it("instances reserving hits in batches still never allow more than the limit together", async () => {
    // A limit of 100: each instance reserves 2 hits at a time in the shared window.
    await twoServers(100, async (one, two, token) => {
      let allowed = 0;
      for (let i = 0; i < 150; i++) {
        const res = await call(i % 3 === 0 ? two : one, "GET", "/api/messenger/me", { token });
        if (res.status === 200) allowed++;
        else assertLimited(res, 60);
      }
      assert.ok(allowed <= 100 && allowed >= 98, `allowed ${allowed} of a limit of 100`);
      for (const server of [one, two]) assertLimited(await call(server, "GET", "/api/messenger/me", { token }), 60);
    });
  });

  it("with Redis unreachable the database counts, so the limit still holds", async () => {
    const server = await startTestServer({ RATE_LIMIT: "on", RATE_LIMIT_PER_TOKEN: "3", REDIS_URL: "redis://127.0.0.1:1" });
    try {
      const user = await signUp(server);
      for (let i = 0; i < 3; i++) assert.equal((await call(server, "GET", "/api/messenger/me", { token: user.token })).status, 200);
      assertLimited(await call(server, "GET", "/api/messenger/me", { token: user.token }), 60);
    } finally {
      await server.close();
    }
  });

  it("RATE_LIMIT=off counts nothing", async () => {
    const server = await startTestServer({ RATE_LIMIT: "off", RATE_LIMIT_PER_TOKEN: "1" });
    try {
      const user = await signUp(server);
      for (let i = 0; i < 3; i++) assert.equal((await call(server, "GET", "/api/messenger/me", { token: user.token })).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe("sign-up limits answer with Retry-After", () => {
  it("/auth/verify: the 61st try from one address in 10 minutes is a 429", async () => {
    const server = await startTestServer({ RATE_LIMIT: "on" });
    try {
      for (let i = 0; i < 60; i++) assertError(await verify(server), 404);
      assertLimited(await verify(server), 600);
    } finally {
      await server.close();
    }
  });

  it("/auth per number, and too many wrong codes, carry Retry-After", async () => {
    const server = await startTestServer({ RATE_LIMIT: "on" });
    try {
      const phone = newPhone();
      for (let i = 0; i < 5; i++) {
        assert.equal((await call(server, "POST", "/api/messenger/auth", { body: { telephoneNumber: phone, deviceId: `rl-${i}` } })).status, 200);
      }
      assertLimited(await call(server, "POST", "/api/messenger/auth", { body: { telephoneNumber: phone, deviceId: "rl-5" } }), 600);

      const wrong = { code: "999999", deviceId: "rl-4" };
      for (let i = 0; i < 5; i++) assertError(await call(server, "POST", "/api/messenger/auth/verify", { body: wrong }), 403);
      assertLimited(await call(server, "POST", "/api/messenger/auth/verify", { body: wrong }), 600);
    } finally {
      await server.close();
    }
  });
});

describe("TRUST_PROXY: the client address behind a reverse proxy", () => {
  /** Uses up the /auth/verify limit of the client named in X-Forwarded-For, then asks as another client. */
  async function otherClientAfterLimit(env: Record<string, string>): Promise<Res> {
    const server = await startTestServer({ RATE_LIMIT: "on", ...env });
    try {
      for (let i = 0; i < 60; i++) await verify(server, { "x-forwarded-for": "203.0.113.7" });
      assertLimited(await verify(server, { "x-forwarded-for": "203.0.113.7" }), 600);
      return await verify(server, { "x-forwarded-for": "198.51.100.9" });
    } finally {
      await server.close();
    }
  }

  it("off (default): X-Forwarded-For is ignored, so a client cannot dodge the limit by forging it", async () => {
    assertLimited(await otherClientAfterLimit({}), 600);
  });

  it("a trusted proxy address: each forwarded client has its own limit", async () => {
    assertError(await otherClientAfterLimit({ TRUST_PROXY: "127.0.0.1/8,::1" }), 404);
  });

  it("a hop count: each forwarded client has its own limit", async () => {
    assertError(await otherClientAfterLimit({ TRUST_PROXY: "1" }), 404);
  });

  it("a proxy list that does not include the peer: the forwarded address is not believed", async () => {
    assertLimited(await otherClientAfterLimit({ TRUST_PROXY: "10.0.0.1" }), 600);
  });
});
