// WEB_APP_DIR: built Spika web apps served at /messenger/ and /management/, as single-page apps.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { call, startTestServer, type TestServer } from "./helpers.js";

const INDEX = "<!doctype html><title>Spika messenger</title>";

/** A raw GET, so that the path reaches the server exactly as written (fetch would normalise `..`). */
function rawGet(server: TestServer, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    request({ hostname, port, path, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    })
      .on("error", reject)
      .end();
  });
}

describe("WEB_APP_DIR", () => {
  let dir: string;
  let server: TestServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "spika-webapps-"));
    mkdirSync(join(dir, "apps", "messenger", "assets"), { recursive: true });
    writeFileSync(join(dir, "apps", "messenger", "index.html"), INDEX);
    writeFileSync(join(dir, "apps", "messenger", "assets", "app.js"), "console.log('spika')");
    writeFileSync(join(dir, "apps", "messenger", "assets", "app.css"), "body{margin:0}");
    writeFileSync(join(dir, "apps", "secret.txt"), "not for the web");
    server = await startTestServer({ WEB_APP_DIR: join(dir, "apps") });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the messenger's files with their content types", async () => {
    const index = await fetch(`${server.url}/messenger/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get("content-type")!, /^text\/html/);
    assert.equal(await index.text(), INDEX);
    const js = await fetch(`${server.url}/messenger/assets/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get("content-type")!, /javascript/);
    assert.equal(await js.text(), "console.log('spika')");
    const css = await fetch(`${server.url}/messenger/assets/app.css`);
    assert.match(css.headers.get("content-type")!, /^text\/css/);
  });

  it("answers index.html for the app's own routes (SPA fallback), and /messenger redirects to /messenger/", async () => {
    for (const path of ["/messenger/rooms/12", "/messenger/login?next=x", "/messenger/deep/link/"]) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get("content-type")!, /^text\/html/, path);
      assert.equal(await res.text(), INDEX, path);
    }
    const bare = await fetch(`${server.url}/messenger`, { redirect: "manual" });
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get("location"), "/messenger/");
  });

  it("never serves a file outside the app's folder", async () => {
    for (const path of ["/messenger/../secret.txt", "/messenger/%2e%2e/secret.txt", "/messenger/..%2fsecret.txt", "/messenger/assets/..%2f..%2fsecret.txt"]) {
      const res = await rawGet(server, path);
      assert.equal(res.body.includes("not for the web"), false, `${path} answered ${res.status}`);
    }
  });

  it("leaves the API alone, and serves no management app when its folder is missing", async () => {
    assert.equal((await call(server, "GET", "/health")).status, 200);
    const management = await call(server, "GET", "/management/");
    assert.equal(management.status, 404);
    assert.equal(management.body.status, "error");
  });

  it("a WEB_APP_DIR without the apps is refused at start, naming the variable", async () => {
    await assert.rejects(startTestServer({ WEB_APP_DIR: join(dir, "apps", "messenger", "assets") }), /WEB_APP_DIR=.* is not valid: it holds neither messenger\/ nor management\//);
  });
});
