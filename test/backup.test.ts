// `spika backup <file>` (an operator's command, run as its own process) copies a live server's
// SQLite database; a server started on the copy serves the same data through the API.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { engine, signUp, startTestServer, suiteUnless, type SignedUp, type TestServer } from "./helpers.js";
import { addContacts, groupRoom, history, sendText } from "./room-helpers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function spika(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "src/main.ts", ...args], { cwd: ROOT, env: { PATH: process.env.PATH, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

suiteUnless(engine === "sqlite" ? false : "SQLite only (PostgreSQL is backed up with pg_dump)", "spika backup", () => {
  let dir: string;
  let live: TestServer;
  let alice: SignedUp, bob: SignedUp;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "spika-backup-"));
    live = await startTestServer();
    [alice, bob] = await Promise.all([signUp(live, { displayName: "Alice" }), signUp(live, { displayName: "Bob" })]);
  });
  after(async () => {
    await live.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("copies a live server's database; a server restored from the copy serves the data", async () => {
    await signUp(live, { phone: bob.phone }); // a second device: the live server keeps writing around the backup
    await addContacts(live, alice, bob);
    const room = await groupRoom(live, alice, [bob], "Backed up");
    const kept = await sendText(live, alice, room.id, "before the backup");
    const file = join(dir, "spika-backup.db");
    const res = await spika(["backup", file], { DATABASE_URL: live.ctx.config.databaseUrl });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /backed up SQLite .* to .*spika-backup\.db/);
    await sendText(live, alice, room.id, "after the backup");

    // Restore: the copy becomes the database of a new server (a stopped one, in real life).
    const restoredPath = join(dir, "restored.db");
    copyFileSync(file, restoredPath);
    const restored = await startTestServer({ DATABASE_URL: `sqlite:${restoredPath}` });
    try {
      const texts = (await history(restored, bob, room.id)).filter((m) => m.type === "text");
      assert.deepEqual(
        texts.map((m) => [m.id, m.body.text]),
        [[kept.id, "before the backup"]],
      );
    } finally {
      await restored.close();
    }
  });

  it("refuses to overwrite a file, and a missing file name, with one line", async () => {
    const file = join(dir, "twice.db");
    assert.equal((await spika(["backup", file], { DATABASE_URL: live.ctx.config.databaseUrl })).code, 0);
    const again = await spika(["backup", file], { DATABASE_URL: live.ctx.config.databaseUrl });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^spika: .*twice\.db already exists: choose a new file name\n$/);
    const none = await spika(["backup"], { DATABASE_URL: live.ctx.config.databaseUrl });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^spika: backup needs a file name: spika backup <file>\n$/);
  });
});

describe("spika backup on PostgreSQL", () => {
  it("points at pg_dump instead", async () => {
    const res = await spika(["backup", join(tmpdir(), "never-written.db")], { DATABASE_URL: "postgres://spika:secret@127.0.0.1:1/spika" });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^spika: .*pg_dump.*\n$/);
    assert.equal(res.stderr.includes("secret"), false);
  });
});
