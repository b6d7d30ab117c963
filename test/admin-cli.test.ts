// `spika admin …` as an operator runs it: a child process on the same database as a running
// server; its effects are read back through the HTTP API.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { verifyPassword } from "../src/crypto.js";
import { assertError, assertOk, call, signUp, startTestServer, testDatabase, type SignedUp, type TestDatabase, type TestServer } from "./helpers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spika(args: string[], env: Record<string, string>, stdin = ""): Promise<Run> {
  const base: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "USER"]) if (process.env[name]) base[name] = process.env[name]!;
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "admin", ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    // A command that never exits fails its test instead of holding the whole run.
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`spika admin ${args.join(" ")} did not exit: ${stdout} ${stderr}`));
    }, 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("spika admin", () => {
  let database: TestDatabase;
  let server: TestServer;
  let env: Record<string, string>;
  let alice: SignedUp;
  let bob: SignedUp;
  before(async () => {
    database = await testDatabase();
    server = await startTestServer({}, { database });
    env = { DATABASE_URL: database.url, LOG_LEVEL: "silent", ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) };
    alice = await signUp(server, { displayName: "Alice Cli" });
    bob = await signUp(server, { displayName: "Bob Cli" });
  });
  after(async () => {
    await server.close();
    await database.drop();
  });

  it("stats and users list, as text and as JSON", async () => {
    const stats = await spika(["stats", "--json"], env);
    assert.equal(stats.code, 0, stats.stderr);
    assert.deepEqual(JSON.parse(stats.stdout), { users: 2, bots: 0, groups: 0 });
    const text = await spika(["users", "list", "--keyword", "cli"], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^${alice.user.id}\\tAlice Cli\\t`, "m"));
    assert.match(text.stdout, /\(2 of 2\)/);
    const json = JSON.parse((await spika(["users", "list", "--json"], env)).stdout);
    assert.deepEqual(
      json.list.map((u: any) => u.id),
      [alice.user.id, bob.user.id],
    );
    assert.equal(json.count, 2);
  });

  it("users show names the user's devices; unknown ids exit 1, malformed ones 2", async () => {
    const shown = await spika(["users", "show", String(alice.user.id), "--json"], env);
    assert.equal(shown.code, 0, shown.stderr);
    const data = JSON.parse(shown.stdout);
    assert.equal(data.user.displayName, "Alice Cli");
    assert.deepEqual(
      data.devices.map((d: any) => d.id),
      [alice.device.id],
    );
    const missing = await spika(["users", "show", "999999"], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /user 999999 not found/);
    const bad = await spika(["users", "show", "abc"], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /userId must be a positive number/);
    const unknown = await spika(["frobnicate"], env);
    assert.equal(unknown.code, 2);
  });

  it("devices logout kills the device's token", async () => {
    const res = await spika(["devices", "logout", String(bob.device.id)], env);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`device ${bob.device.id} of user ${bob.user.id} logged out`));
    assertError(await call(server, "GET", "/api/messenger/me", { token: bob.token }), 401);
    assert.equal((await spika(["devices", "logout", "999999"], env)).code, 1);
  });

  it("bots create prints a token that signs in to the messenger API", async () => {
    const res = await spika(["bots", "create", "Cli Bot", "--webhook-url", "https://example.com/hook", "--json"], env);
    assert.equal(res.code, 0, res.stderr);
    const { user } = JSON.parse(res.stdout);
    assert.equal(user.isBot, true);
    assert.equal(user.webhookUrl, "https://example.com/hook");
    const me = assertOk(await call(server, "GET", "/api/messenger/me", { token: user.device[0].token }));
    assert.equal(me.user.id, user.id);
    assert.equal((await spika(["bots", "create", "X", "--webhook-url", "ftp://x"], env)).code, 2);
  });

  it("users delete is DELETE /me: the token dies and others see the account anonymised", async () => {
    const carol = await signUp(server, { displayName: "Carol Cli" });
    const res = await spika(["users", "delete", String(carol.user.id)], env);
    assert.equal(res.code, 0, res.stderr);
    assertError(await call(server, "GET", "/api/messenger/me", { token: carol.token }), 401);
    const shown = JSON.parse((await spika(["users", "show", String(carol.user.id), "--json"], env)).stdout);
    assert.equal(shown.user.deleted, true);
    assert.equal(shown.user.displayName, `Deleted user ${carol.user.id}`);
    assert.equal((await spika(["users", "delete", String(carol.user.id)], env)).code, 1);
  });

  it("hash-password prints a hash ADMIN_PASSWORD_HASH accepts", async () => {
    const res = await spika(["hash-password"], {}, "s3cret pass\n");
    assert.equal(res.code, 0, res.stderr);
    const hash = res.stdout.trim();
    assert.match(hash, /^scrypt\$/);
    assert.equal(await verifyPassword("s3cret pass", hash), true);
    assert.equal(await verifyPassword("other", hash), false);
    const other = await startTestServer({ ADMIN_USERNAME: "ops", ADMIN_PASSWORD_HASH: hash });
    try {
      assertOk(await call(other, "POST", "/api/management/auth", { body: { username: "ops", password: "s3cret pass" } }));
    } finally {
      await other.close();
    }
  });
});
