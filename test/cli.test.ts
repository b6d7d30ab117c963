// The `spika` command as an operator runs it: a child process with its own environment
// (DATABASE_URL always points at a temporary SQLite file here).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, TIMEOUT, run, start, type Run } from "./cli.js";
import { freePort } from "./helpers.js";

/** Resolves once `predicate` holds for the accumulated output of `stream`. */
function waitForOutput(child: ChildProcess, stream: "stdout" | "stderr", predicate: (all: string) => boolean, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let all = "";
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got: ${all}`)), TIMEOUT);
    const onData = (c: Buffer) => {
      all += c.toString();
      if (predicate(all)) {
        clearTimeout(timer);
        child[stream]!.off("data", onData);
        resolve(all);
      }
    };
    child[stream]!.on("data", onData);
    child.once("exit", () => {
      if (!predicate(all)) {
        clearTimeout(timer);
        reject(new Error(`process exited while waiting for ${what}; got: ${all}`));
      }
    });
  });
}

describe("spika CLI", () => {
  let dir: string;
  let dbUrl: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "spika-cli-"));
    dbUrl = `sqlite:${join(dir, "spika.db")}`;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("--help lists the commands serve, migrate and routes; an unknown command fails with the usage", async () => {
    const [help, bogus] = await Promise.all([run(["--help"], { DATABASE_URL: dbUrl }), run(["bogus"], { DATABASE_URL: dbUrl })]);
    assert.equal(help.code, 0);
    for (const command of ["serve", "migrate", "routes"]) assert.match(help.stdout, new RegExp(`\\b${command}\\b`));
    assert.equal(help.stderr, "");
    assert.notEqual(bogus.code, 0);
    assert.match(bogus.stderr, /bogus/);
    assert.match(bogus.stderr, /migrate/);
  });

  it("a bad setting exits 1 with exactly one stderr line naming the variable", async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ PORT: "abc" }, "PORT"],
      [{ DATABASE_URL: "mysql://admin:hunter2@db.example/spika" }, "DATABASE_URL"],
      [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
      [{ SMS_PROVIDER: "twilio" }, "TWILIO_ACCOUNT_SID"],
      [{ TRUST_PROXY: "10.0.0.0/33,proxy.example" }, "TRUST_PROXY"],
    ];
    // One after another: five tsx start-ups at once on a loaded 2-core machine outlasted the timeout.
    const results: Run[] = [];
    for (const [env] of cases) results.push(await run(["serve"], { DATABASE_URL: dbUrl, HOST: "127.0.0.1", ...env }));
    results.forEach((res, i) => {
      const [env, name] = cases[i];
      const label = JSON.stringify(env);
      assert.equal(res.code, 1, `${label} exits 1`);
      const lines = res.stderr.split("\n").filter((l) => l.trim() !== "");
      assert.equal(lines.length, 1, `${label}: one stderr line, got ${JSON.stringify(res.stderr)}`);
      assert.ok(lines[0].includes(name), `${label}: the line names ${name}: ${lines[0]}`);
      assert.equal(res.stdout, "", `${label}: nothing started`);
      assert.equal(res.stderr.includes("hunter2"), false, `${label}: no password echoed`);
    });
  });

  it("migrate applies the migrations once and is idempotent", async () => {
    const url = `sqlite:${join(dir, "migrate.db")}`;
    const first = await run(["migrate"], { DATABASE_URL: url });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /001_initial/);
    const second = await run(["migrate"], { DATABASE_URL: url });
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stdout, /001_initial/);
    assert.match(second.stdout, /up to date/);
  });

  it("routes prints every route as METHOD /path", async () => {
    const res = await run(["routes"], { DATABASE_URL: dbUrl });
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trim().split("\n");
    for (const line of lines) assert.match(line, /^[A-Z]+ \S+$/);
    for (const expected of [
      "POST /api/messenger/auth",
      "POST /api/messenger/auth/verify",
      "POST /api/messenger/auth/logout",
      "GET /api/messenger/device",
      "PUT /api/messenger/device",
      "GET /health",
    ]) {
      assert.ok(lines.includes(expected), `lists ${expected}`);
    }
    assert.equal(new Set(lines).size, lines.length, "no duplicates");
  });

  it("serve logs a ready line with its URL, answers /health, and on SIGTERM finishes an in-flight request and exits 0", { timeout: 60_000 }, async () => {
    const child = start(["serve"], { DATABASE_URL: dbUrl, PORT: "0", HOST: "127.0.0.1", IS_TEST: "1", LOG_LEVEL: "info" });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    try {
      const out = await waitForOutput(child, "stdout", (all) => /ready.*http:\/\/127\.0\.0\.1:\d+/.test(all), "the ready line");
      const url = /http:\/\/127\.0\.0\.1:\d+/.exec(out.split("\n").find((l) => /ready/.test(l))!)![0];
      const port = Number(new URL(url).port);
      assert.ok(port > 0);

      const health = await fetch(url + "/health");
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: "ok" });

      // A request whose headers have arrived (the server answered 100 Continue) but whose
      // body has not: it is in flight when SIGTERM comes.
      const body = JSON.stringify({ telephoneNumber: "+385910000001", deviceId: "cli-in-flight" });
      const socket = connect(port, "127.0.0.1");
      let received = "";
      const gotContinue = new Promise<void>((resolve, reject) => {
        socket.on("data", (c: Buffer) => {
          received += c.toString();
          if (received.includes("100 Continue")) resolve();
        });
        socket.on("error", reject);
      });
      const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
      socket.write(
        "POST /api/messenger/auth HTTP/1.1\r\n" +
          `Host: 127.0.0.1:${port}\r\n` +
          "Content-Type: application/json\r\n" +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          "Expect: 100-continue\r\n\r\n",
      );
      await gotContinue;

      const stopping = waitForOutput(child, "stdout", (all) => /SIGTERM/.test(all), "the shutdown log line");
      child.kill("SIGTERM");
      await stopping;
      socket.write(body.slice(0, 10));
      socket.write(body.slice(10));

      // The response arrives complete; then the client hangs up.
      const response = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no response: ${received}`)), TIMEOUT);
        const check = () => {
          const final = received.slice(received.lastIndexOf("HTTP/1.1 "));
          const headerEnd = final.indexOf("\r\n\r\n");
          if (final.startsWith("HTTP/1.1 100") || headerEnd < 0) return;
          const length = Number(/content-length: (\d+)/i.exec(final.slice(0, headerEnd))?.[1] ?? NaN);
          if (Buffer.byteLength(final.slice(headerEnd + 4)) >= length) {
            clearTimeout(timer);
            resolve(final);
          }
        };
        socket.on("data", check);
        check();
      });
      assert.match(response, /^HTTP\/1\.1 200/);
      const json = JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4));
      assert.equal(json.status, "success");
      assert.equal(json.data.device.deviceId, "cli-in-flight");
      socket.end();
      await closed;

      const { code, signal } = await exited;
      assert.equal(signal, null, stderr);
      assert.equal(code, 0, stderr);

      // It no longer listens.
      await assert.rejects(fetch(url + "/health"));
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });

  it("serve on a migrated database starts and stops cleanly without requests", { timeout: 60_000 }, async () => {
    const url = `sqlite:${join(dir, "migrate.db")}`;
    const child = start([], { DATABASE_URL: url, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info" });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await waitForOutput(child, "stdout", (all) => /ready.*http:\/\/127\.0\.0\.1:\d+/.test(all), "the ready line");
      child.kill("SIGINT");
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});

/** Exit 1 (2 for usage errors) with exactly one stderr line, no stack, matching every pattern. */
function assertOneLine(res: Run, patterns: RegExp[], code = 1): void {
  const lines = res.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.equal(lines.length, 1, `one stderr line, got ${JSON.stringify(res.stderr)}`);
  assert.equal(res.code, code, res.stderr);
  for (const pattern of patterns) assert.match(lines[0], pattern);
}

const pgUrl = process.env.DATABASE_URL?.startsWith("postgres") ? process.env.DATABASE_URL : null;
const needsPg = pgUrl ? false : "needs DATABASE_URL=postgres://… (a server the test may create databases and roles on)";

describe("spika start-up failures: one line naming the cause and what to check", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "spika-cli-fail-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const sqlite = () => `sqlite:${join(dir, "spika.db")}`;

  it("--version prints the package version; an unknown option names itself and --help", async () => {
    const [version, bogus] = await Promise.all([run(["--version"], {}), run(["serve", "--bogus"], { DATABASE_URL: sqlite() })]);
    assert.equal(version.code, 0, version.stderr);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    assert.equal(version.stdout, `spika ${pkg.version}\n`);
    assertOneLine(bogus, [/unknown option --bogus/, /--help/], 2);
    assert.equal(bogus.stdout, "", "nothing started");
  });

  it("the port in use", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as { port: number };
    try {
      const res = await run(["serve"], { DATABASE_URL: sqlite(), HOST: "127.0.0.1", PORT: String(port) });
      assertOneLine(res, [new RegExp(`port ${port}`), /in use/, /PORT/]);
    } finally {
      taken.close();
    }
  });

  it("a SQLite path that cannot be opened", async () => {
    const res = await run(["serve"], { DATABASE_URL: `sqlite:${dir}`, HOST: "127.0.0.1", PORT: "0" });
    assertOneLine(res, [/cannot open the database file/, /DATABASE_URL/]);
  });

  it("PostgreSQL unreachable, without echoing the password", async () => {
    const port = await freePort();
    const res = await run(["serve"], { DATABASE_URL: `postgres://spika:hunter2@127.0.0.1:${port}/spika`, HOST: "127.0.0.1", PORT: "0" });
    assertOneLine(res, [/cannot reach the database/, new RegExp(`127\\.0\\.0\\.1:${port}/spika`), /DATABASE_URL/]);
    assert.equal(res.stderr.includes("hunter2"), false);
  });

  it("a PostgreSQL database that does not exist", { skip: needsPg }, async () => {
    const url = new URL(pgUrl!);
    url.pathname = `/spika_missing_${randomBytes(4).toString("hex")}`;
    const res = await run(["serve"], { DATABASE_URL: url.toString(), HOST: "127.0.0.1", PORT: "0" });
    assertOneLine(res, [/does not exist/, /createdb spika_missing_/, /DATABASE_URL/]);
  });

  it("pg_trgm that the database user may not create", { skip: needsPg }, async () => {
    // A role that may create tables but not extensions (no CREATE right on the database).
    const name = `spika_noext_${randomBytes(4).toString("hex")}`;
    const admin = new pg.Client({ connectionString: pgUrl! });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${name} LOGIN`);
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.query(`REVOKE CREATE ON DATABASE ${name} FROM PUBLIC`);
      const inDb = new pg.Client({ connectionString: Object.assign(new URL(pgUrl!), { pathname: `/${name}` }).toString() });
      await inDb.connect();
      await inDb.query(`GRANT CREATE ON SCHEMA public TO ${name}`);
      await inDb.end();
      const url = Object.assign(new URL(pgUrl!), { pathname: `/${name}`, username: name, password: "" });
      const res = await run(["serve"], { DATABASE_URL: url.toString(), HOST: "127.0.0.1", PORT: "0" });
      assertOneLine(res, [/pg_trgm/, /CREATE EXTENSION pg_trgm/, /superuser/]);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS ${name}`);
      await admin.end();
    }
  });
});
