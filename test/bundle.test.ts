// The bundle `npm start` runs (scripts/bundle.mjs): built from the sources into a scratch folder
// and started as its own process, it serves the API, the docs and the metrics.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { call, signUp } from "./helpers.js";
import { spawnServer, type ServerProcess } from "./spawn.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

describe("the bundled server", () => {
  let outdir: string;
  let dataDir: string;
  let server: ServerProcess;
  before(async () => {
    // Inside the project, so that the packages left outside the bundle resolve as in dist/.
    mkdirSync(join(ROOT, "node_modules", ".cache"), { recursive: true });
    outdir = mkdtempSync(join(ROOT, "node_modules", ".cache", "spika-bundle-"));
    execFileSync(process.execPath, [join(ROOT, "scripts", "bundle.mjs"), outdir], { stdio: "pipe" });
    dataDir = mkdtempSync(join(tmpdir(), "spika-bundle-data-"));
    server = await spawnServer({ DATABASE_URL: `sqlite:${join(dataDir, "spika.db")}` }, [join(outdir, "spika.js")]);
  });
  after(async () => {
    await server?.stop();
    rmSync(outdir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("signs a user up and serves the docs and metrics", async () => {
    const user = await signUp(server);
    const me = await call(server, "GET", "/api/messenger/me", { token: user.token });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.data.user.telephoneNumber, user.phone);

    const openapi = await call(server, "GET", "/api/openapi.json");
    assert.equal(openapi.status, 200);
    assert.ok(Object.keys(openapi.body.paths).includes("/api/messenger/messages"));
    const docs = await fetch(`${server.url}/api/docs/`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger/i);
    const metrics = await fetch(`${server.url}/metrics`);
    assert.match(await metrics.text(), /db_queries_total/);
  });
});
