// The HTTP edge: liveness, envelope, errors, CORS, trailing slashes, docs and metrics (§1).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { call, signUp, startTestServer, type TestServer } from "./helpers.js";

describe("http edge", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("GET /health answers ok once the database is reachable", async () => {
    const res = await call(server, "GET", "/health");
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: "ok" });
  });

  it("GET /api/test answers plain text test", async () => {
    const res = await call(server, "GET", "/api/test");
    assert.equal(res.status, 200);
    assert.equal(res.text, "test");
    assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
  });

  it("GET /api/messenger/test and /api/messaging/test answer data test", async () => {
    for (const path of ["/api/messenger/test", "/api/messaging/test"]) {
      const res = await call(server, "GET", path);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: "success", data: "test" });
    }
  });

  it("an unknown route is a 404 envelope", async () => {
    const res = await call(server, "GET", "/api/messenger/nothing-here");
    assert.equal(res.status, 404);
    assert.equal(res.body.status, "error");
    assert.equal(typeof res.body.message, "string");
  });

  it("malformed JSON is a 400 envelope, not a 500", async () => {
    const res = await call(server, "POST", "/api/messenger/auth", { raw: '{"telephoneNumber": ' });
    assert.equal(res.status, 400);
    assert.equal(res.body.status, "error");
  });

  it("URL-encoded bodies are parsed", async () => {
    const res = await fetch(server.url + "/api/messenger/auth", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "telephoneNumber=%2B38591000111&deviceId=form-device",
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    assert.equal(body.data.user.telephoneNumber, "+38591000111");
  });

  it("every response carries the CORS headers and OPTIONS answers 200 with an empty body", async () => {
    const get = await call(server, "GET", "/api/messenger/settings");
    assert.equal(get.headers.get("access-control-allow-origin"), "*");
    assert.equal(get.headers.get("access-control-allow-methods"), "*");
    const allowed = (get.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    for (const h of ["content-type", "authorization", "accesstoken", "device-name", "os-name", "os-version", "device-type", "app-version", "lang"]) {
      assert.ok(allowed.includes(h), `allow-headers lists ${h}`);
    }
    for (const path of ["/api/messenger/me", "/anything/at/all"]) {
      const opt = await call(server, "OPTIONS", path);
      assert.equal(opt.status, 200);
      assert.equal(opt.text, "");
      assert.equal(opt.headers.get("access-control-allow-origin"), "*");
    }
  });

  it("trailing slashes route identically", async () => {
    const { token } = await signUp(server);
    const plain = await call(server, "GET", "/api/messenger/me", { token });
    const slash = await call(server, "GET", "/api/messenger/me/", { token });
    assert.equal(slash.status, 200);
    assert.deepEqual(slash.body, plain.body);
  });

  it("auth failures are 401 envelopes", async () => {
    const none = await call(server, "GET", "/api/messenger/me");
    assert.equal(none.status, 401);
    assert.equal(none.body.status, "error");
    const bad = await call(server, "GET", "/api/messenger/me", { token: "not-a-token" });
    assert.equal(bad.status, 401);
    assert.equal(bad.body.status, "error");
  });

  it("bodies above 50 MB are refused with an envelope, smaller large bodies pass", async () => {
    const big = await call(server, "POST", "/api/messenger/auth", {
      raw: JSON.stringify({ telephoneNumber: "+1", deviceId: "x", pad: "a".repeat(51 * 1024 * 1024) }),
    });
    assert.equal(big.status, 413);
    assert.equal(big.body.status, "error");
    const fine = await call(server, "POST", "/api/messenger/auth", {
      body: { telephoneNumber: "+38591000222", deviceId: "pad-device", pad: "a".repeat(2 * 1024 * 1024) },
    });
    assert.equal(fine.status, 200);
  });

  it("serves the OpenAPI document and the Swagger UI", async () => {
    const doc = await call(server, "GET", "/api/openapi.json");
    assert.equal(doc.status, 200);
    assert.equal(typeof doc.body.openapi, "string");
    assert.ok(doc.body.paths["/api/messenger/auth"].post, "documents POST /api/messenger/auth");
    assert.ok(doc.body.paths["/api/messenger/me"].get.security, "marks authenticated routes");
    const ui = await fetch(server.url + "/api/docs", { redirect: "follow" });
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger/i);
  });

  it("GET /metrics exposes request counts and latency by route", async () => {
    await call(server, "GET", "/api/messenger/settings");
    const res = await call(server, "GET", "/metrics");
    assert.equal(res.status, 200);
    assert.match(res.text, /http_requests_total\{method="GET",route="\/api\/messenger\/settings",status="200"\} \d+/);
    assert.match(res.text, /http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/api\/messenger\/settings"\}/);
  });

  it("GET /api/messenger/settings reports team mode", async () => {
    const res = await call(server, "GET", "/api/messenger/settings");
    assert.deepEqual(res.body, { status: "success", data: { teamMode: false } });
    const team = await startTestServer({ TEAM_MODE: "1" });
    try {
      const t = await call(team, "GET", "/api/messenger/settings");
      assert.deepEqual(t.body, { status: "success", data: { teamMode: true } });
    } finally {
      await team.close();
    }
  });
});
