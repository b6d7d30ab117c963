// What an operator reads: one access line per request (never a token), a ready line that says
// where the data lives, JSON lines for collectors and readable lines on a terminal.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { call, engine, signUp, startTestServer, testDatabase, type SignedUp, type TestDatabase, type TestServer } from "./helpers.js";
import { openStream } from "./sse-client.js";
import { spawnServer, type ServerProcess } from "./spawn.js";

/** Resolves with the first line of `lines()` matching `match`, once one is there (fails after 20 s). */
async function lineMatching(lines: () => string[], match: RegExp): Promise<string> {
  for (let i = 0; i < 1000; i++) {
    const line = lines().find((l) => match.test(l));
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`no log line matches ${match}; got:\n${lines().join("\n")}`);
}

describe("access lines", () => {
  let server: TestServer;
  let alice: SignedUp;
  const lines: string[] = [];
  before(async () => {
    const logStream = new PassThrough();
    logStream.setEncoding("utf8");
    let partial = "";
    logStream.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop()!;
      lines.push(...parts.filter(Boolean));
    });
    server = await startTestServer({ LOG_LEVEL: "info", TEAM_MODE: "1" }, { logStream });
    alice = await signUp(server);
  });
  after(() => server.close());
  const entries = () => lines.map((l) => JSON.parse(l) as Record<string, any>);

  it("one line per request with method, route, status, time and request id", async () => {
    const room = await call(server, "GET", "/api/messenger/rooms/987654", { token: alice.token });
    const line = await lineMatching(() => lines, /GET \/api\/messenger\/rooms\/987654 /);
    const entry = JSON.parse(line);
    assert.equal(entry.level, 30, "info");
    assert.equal(entry.method, "GET");
    assert.equal(entry.url, "/api/messenger/rooms/987654");
    assert.equal(entry.route, "/api/messenger/rooms/:id");
    assert.equal(entry.status, room.status);
    assert.equal(typeof entry.ms, "number");
    assert.match(entry.reqId, /^[0-9a-f-]{36}$/);
    assert.equal(lines.filter((l) => l.includes("/api/messenger/rooms/987654")).length, 1, "exactly one line");
  });

  it("never logs a token: header tokens stay out, query tokens are masked, also for the SSE stream", async () => {
    await call(server, "GET", `/api/messenger/me?accesstoken=${alice.token}&lang=en`);
    const me = JSON.parse(await lineMatching(() => lines, /GET \/api\/messenger\/me\?/));
    assert.equal(me.url, "/api/messenger/me?accesstoken=***&lang=en");
    assert.equal(me.status, 401);

    const stream = await openStream(server.url, alice.token, "query");
    await stream.next((e) => e.type === "PING");
    stream.close();
    const sse = JSON.parse(await lineMatching(() => lines, /GET \/api\/sse/));
    assert.equal(sse.url, "/api/sse?accesstoken=***", "the stream's line, written when it closes");
    assert.equal(sse.status, 200);
    assert.equal(
      lines.some((l) => l.includes(alice.token)),
      false,
      "the token appears in no line",
    );
    assert.ok(entries().some((e) => e.msg === "GET /api/messenger/me?accesstoken=***&lang=en 401 " + me.ms + " ms"));
  });
});

describe("the ready line and the log format", () => {
  let db: TestDatabase;
  const servers: ServerProcess[] = [];
  before(async () => {
    db = await testDatabase();
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await db.drop();
  });
  const where = () => (engine === "sqlite" ? `SQLite ${db.url.slice("sqlite:".length)}` : `PostgreSQL ${new URL(db.url).host}${new URL(db.url).pathname}`);

  it("LOG_FORMAT=pretty: readable lines; the ready line names the URL, the database, Redis and the job worker", async () => {
    const server = await spawnServer({ DATABASE_URL: db.url, UPLOAD_DIR: `${db.dataDir}/uploads`, LOG_FORMAT: "pretty", JOB_WORKER: "off", WORKERS: "1" });
    servers.push(server);
    const lines = () => server.output().split("\n");
    const ready = await lineMatching(lines, /ready at/);
    assert.equal(ready, `${ready.slice(0, 12)} INFO  Spika server ready at ${server.url} (${where()}, Redis off, job worker off)`);
    assert.match(ready, /^\d\d:\d\d:\d\d\.\d{3} /);
    await fetch(`${server.url}/health`);
    assert.match(await lineMatching(lines, /GET \/health/), /^\S+ INFO {2}GET \/health 200 [\d.]+ ms reqId=\S+$/);
  });

  it("without LOG_FORMAT and not on a terminal: JSON lines with the same fields", async () => {
    const server = await spawnServer({ DATABASE_URL: db.url, UPLOAD_DIR: `${db.dataDir}/uploads` });
    servers.push(server);
    const lines = () => server.output().split("\n").filter(Boolean);
    await lineMatching(lines, /ready at/);
    const entries = lines().map((l) => JSON.parse(l));
    const ready = entries.find((e) => /ready at/.test(e.msg));
    assert.equal(ready.url, server.url);
    assert.equal(ready.database, where());
    assert.equal(ready.redis, "off");
    assert.equal(ready.jobWorker, "on");
  });

  it("a bad LOG_FORMAT is refused, naming the variable", async () => {
    await assert.rejects(spawnServer({ DATABASE_URL: db.url, LOG_FORMAT: "fancy" }), /LOG_FORMAT=fancy is not valid: use pretty or json/);
  });
});
