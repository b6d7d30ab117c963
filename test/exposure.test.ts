// Headers and exposure (issue #10 item 6): nosniff on every response, a Content-Security-Policy
// on the docs page, /metrics behind METRICS_TOKEN when set, and shown names stored without
// bidirectional overrides or other invisible format characters.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { assertError, assertOk, call, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";

describe("response headers", () => {
  let server: TestServer;
  let user: SignedUp;
  before(async () => {
    server = await startTestServer();
    user = await signUp(server);
  });
  after(() => server.close());

  it("every response carries X-Content-Type-Options: nosniff (success, error, 404, 405, OPTIONS, SSE, docs)", async () => {
    const answers = [
      await call(server, "GET", "/health"),
      await call(server, "GET", "/api/messenger/me", { token: user.token }),
      await call(server, "GET", "/api/messenger/me"),
      await call(server, "GET", "/api/messenger/nothing-here"),
      await call(server, "GET", "/api/messenger/messages", { token: user.token }),
      await call(server, "OPTIONS", "/api/messenger/me"),
      await call(server, "GET", "/api/docs"),
      await call(server, "GET", "/api/openapi.json"),
    ];
    for (const res of answers) assert.equal(res.headers.get("x-content-type-options"), "nosniff", `${res.status} ${res.text.slice(0, 80)}`);
    const controller = new AbortController();
    const sse = await fetch(`${server.url}/api/sse`, { headers: { accesstoken: user.token }, signal: controller.signal });
    assert.equal(sse.headers.get("x-content-type-options"), "nosniff");
    controller.abort();
  });

  it("the docs page has a Content-Security-Policy that allows only its own scripts", async () => {
    for (const path of ["/api/docs", "/api/docs/", "/api/docs/static/index.html"]) {
      const res = await call(server, "GET", path);
      assert.equal(res.status, 200, path);
      const policy = res.headers.get("content-security-policy") ?? "";
      assert.match(policy, /default-src 'self'/, `${path}: ${policy}`);
      assert.match(policy, /script-src 'self'\s*;/, `${path}: no inline or foreign scripts`);
      assert.match(policy, /object-src 'none'/);
      // Every script the page loads comes from this server.
      for (const [, src] of res.text.matchAll(/<script[^>]*src="([^"]+)"/g)) assert.doesNotMatch(src, /^(https?:)?\/\//, src);
      assert.doesNotMatch(res.text, /<script(?![^>]*src=)[^>]*>\s*\S/, "no inline script");
    }
  });
});

describe("GET /metrics with METRICS_TOKEN", () => {
  it("answers only with Authorization: Bearer <token>; other requests get a 401 envelope", async () => {
    const server = await startTestServer({ METRICS_TOKEN: "scrape-secret" });
    try {
      for (const authorization of [undefined, "Bearer wrong", "scrape-secret", "Bearer scrape-secret2"]) {
        const res = await call(server, "GET", "/metrics", { headers: authorization ? { authorization } : {} });
        assertError(res, 401, /METRICS_TOKEN/);
        assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
      }
      const ok = await call(server, "GET", "/metrics", { headers: { authorization: "Bearer scrape-secret" } });
      assert.equal(ok.status, 200);
      assert.match(ok.text, /http_requests_total/);
    } finally {
      await server.close();
    }
  });

  it("unset: /metrics stays open as before", async () => {
    const server = await startTestServer();
    try {
      const res = await call(server, "GET", "/metrics");
      assert.equal(res.status, 200);
      assert.match(res.text, /http_requests_total/);
    } finally {
      await server.close();
    }
  });
});

describe("shown names lose invisible format characters on write", () => {
  let server: TestServer;
  let alice: SignedUp, bob: SignedUp;
  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
    alice = await signUp(server, { displayName: "Alice" });
    bob = await signUp(server, { displayName: "Bob" });
  });
  after(() => server.close());

  // Right-to-left override, isolates, zero-width space/non-joiner, marks, word joiner, BOM.
  const sneaky = "\u202Eadm\u200Bin\u2066\u2069\u200E\u200F\u200C\u2060\uFEFF\u061C\u202A\u202B\u202C\u202D";

  it("display names (PUT /me), read back through the API", async () => {
    const set = assertOk(await call(server, "PUT", "/api/messenger/me", { token: alice.token, body: { displayName: `Eve${sneaky}gpj.exe` } }));
    assert.equal(set.user.displayName, "Eveadmingpj.exe");
    const read = assertOk(await call(server, "GET", `/api/messenger/users/${alice.user.id}`, { token: bob.token }));
    assert.equal(read.user.displayName, "Eveadmingpj.exe");
  });

  it("emoji joined by U+200D keep their joiner; a stray joiner goes", async () => {
    const set = assertOk(await call(server, "PUT", "/api/messenger/me", { token: bob.token, body: { displayName: "Bob \u{1F469}\u{1F3FD}\u200D\u{1F4BB} a\u200Db" } }));
    assert.equal(set.user.displayName, "Bob \u{1F469}\u{1F3FD}\u200D\u{1F4BB} ab");
  });

  it("room names on create and on rename", async () => {
    const room = assertOk(await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: `Team${sneaky}`, userIds: [bob.user.id], type: "group" } })).room;
    assert.equal(room.name, "Teamadmin");
    const renamed = await call(server, "PUT", `/api/messenger/rooms/${room.id}`, { token: alice.token, body: { action: "changeGroupName", name: `\u202Edlrow${sneaky}` } });
    assert.equal(renamed.status, 200, renamed.text);
    const read = assertOk(await call(server, "GET", `/api/messenger/rooms/${room.id}`, { token: bob.token }));
    assert.equal(read.room.name, "dlrowadmin");
  });

  it("bot names (API keys) on create and on rename; a name of only invisible characters is refused", async () => {
    const room = assertOk(await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: "Bots", userIds: [bob.user.id], type: "group" } })).room;
    const key = assertOk(await call(server, "POST", `/api/messenger/api-keys/roomId/${room.id}`, { token: alice.token, body: { displayName: `Bot${sneaky}` } })).apiKey;
    assert.equal(key.displayName, "Botadmin");
    const renamed = assertOk(await call(server, "PUT", `/api/messenger/api-keys/${key.id}`, { token: alice.token, body: { displayName: "\u202EReporter" } })).apiKey;
    assert.equal(renamed.displayName, "Reporter");
    assertError(await call(server, "PUT", `/api/messenger/api-keys/${key.id}`, { token: alice.token, body: { displayName: "\u202E\u200B" } }), 400, /displayName/);
  });
});
