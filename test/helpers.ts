// Test harness: a real server on a real database (a temporary SQLite file, or a fresh
// PostgreSQL database when DATABASE_URL is a postgres:// URL), spoken to over real HTTP.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pg from "pg";
import pino from "pino";
import { loadConfig } from "../src/config.js";
import { startServer, type RunningServer } from "../src/server.js";
import { RecordingSink } from "../src/realtime/events.js";
import { sharedS3 } from "./s3.js";

export interface TestServer extends RunningServer {
  /** Events handed to the sink after commit (until the real-time hub replaces the sink). */
  events: RecordingSink;
  dataDir: string;
}

const basePgUrl = process.env.DATABASE_URL?.startsWith("postgres") ? process.env.DATABASE_URL : null;

export const engine = basePgUrl ? "postgres" : "sqlite";

/** TEST_STORAGE=s3 runs every test server on a fresh bucket of a real S3 server (test/s3.ts). */
export const storage = process.env.TEST_STORAGE === "s3" ? "s3" : "local";

export async function freshPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `spika_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: basePgUrl! });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(basePgUrl!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: basePgUrl! });
      await c.connect();
      // pool.end() resolves before the server's sessions are gone; let them finish first.
      for (let i = 0; i < 200; i++) {
        const r = await c.query("select count(*)::int as n from pg_stat_activity where datname = $1", [name]);
        if (r.rows[0].n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A database and data folder that outlive servers (restart tests start several servers on one). */
export interface TestDatabase {
  /** DATABASE_URL: a temporary SQLite file, or a fresh PostgreSQL database. */
  url: string;
  dataDir: string;
  drop(): Promise<void>;
}

export async function testDatabase(): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), "spika-test-"));
  const pgDb = basePgUrl ? await freshPostgres() : null;
  return {
    url: pgDb?.url ?? `sqlite:${join(dataDir, "spika.db")}`,
    dataDir,
    async drop() {
      await pgDb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestServerOptions {
  /** Run on this database instead of a fresh one; closing the server then keeps it. */
  database?: TestDatabase;
  /** Where the server's log lines go (pino JSON lines; set LOG_LEVEL in `env`). */
  logStream?: NodeJS.WritableStream;
}

/** Starts a server with test defaults (IS_TEST=1, RATE_LIMIT=off, port 0) plus `env`. */
export async function startTestServer(env: Record<string, string> = {}, opts: TestServerOptions = {}): Promise<TestServer> {
  if (storage === "s3" && !env.STORAGE) env = { ...(await (await sharedS3()).bucketEnv()), ...env };
  const dataDir = opts.database?.dataDir ?? mkdtempSync(join(tmpdir(), "spika-test-"));
  const pgDb = !opts.database && basePgUrl && !env.DATABASE_URL ? await freshPostgres() : null;
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    IS_TEST: "1",
    RATE_LIMIT: "off",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    DATABASE_URL: opts.database?.url ?? pgDb?.url ?? `sqlite:${join(dataDir, "spika.db")}`,
    UPLOAD_DIR: join(dataDir, "uploads"),
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    ...env,
  });
  const events = new RecordingSink();
  const log = opts.logStream ? pino({ level: config.logLevel }, opts.logStream) : pino({ level: config.logLevel });
  const server = await startServer(config, log, { recorder: events });
  return {
    ...server,
    events,
    dataDir,
    async close() {
      await server.close();
      if (opts.database) return;
      await pgDb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Res<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Raw body text (e.g. malformed JSON); sent with content-type application/json. */
  raw?: string;
  headers?: Record<string, string>;
}

/** One HTTP call; the body is parsed as JSON when it is JSON. */
export async function call<T = any>(server: { url: string }, method: string, path: string, opts: CallOptions = {}): Promise<Res<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.accesstoken = opts.token;
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers["content-type"] ??= "application/json";
  const res = await fetch(server.url + path, { method, headers, body });
  const text = await res.text();
  let parsed: any = text;
  if ((res.headers.get("content-type") ?? "").includes("json") && text) parsed = JSON.parse(text);
  return { status: res.status, body: parsed, headers: res.headers, text };
}

let phoneSeq = 0;
/** A new unique phone number for this test process. */
export const newPhone = () => `+3859${process.pid % 1000}${String(++phoneSeq).padStart(5, "0")}`;

export interface SignedUp {
  token: string;
  user: any;
  device: any;
  deviceId: string;
  phone: string;
}

/** Signs up (POST /auth + /auth/verify with 000000) and optionally sets a display name. */
export async function signUp(server: { url: string }, opts: { phone?: string; deviceId?: string; displayName?: string; headers?: Record<string, string> } = {}): Promise<SignedUp> {
  const phone = opts.phone ?? newPhone();
  const deviceId = opts.deviceId ?? `dev-${randomBytes(6).toString("hex")}`;
  const a = await call(server, "POST", "/api/messenger/auth", { body: { telephoneNumber: phone, deviceId }, headers: opts.headers });
  if (a.status !== 200) throw new Error(`sign-up failed: ${a.status} ${a.text}`);
  const v = await call(server, "POST", "/api/messenger/auth/verify", { body: { code: "000000", deviceId } });
  if (v.status !== 200) throw new Error(`verify failed: ${v.status} ${v.text}`);
  let user = v.body.data.user;
  if (opts.displayName !== undefined) {
    const m = await call(server, "PUT", "/api/messenger/me", { token: v.body.data.device.token, body: { displayName: opts.displayName } });
    if (m.status !== 200) throw new Error(`set name failed: ${m.status} ${m.text}`);
    user = m.body.data.user;
  }
  return { token: v.body.data.device.token, user, device: v.body.data.device, deviceId, phone };
}

/** A 4xx/5xx answer in the §1.2 error envelope, optionally with a message matching `mentions`. */
export function assertError(res: { status: number; body: any }, status: number, mentions?: string | RegExp): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.status, "error");
  assert.equal(typeof res.body.message, "string");
  if (mentions) assert.match(res.body.message, mentions instanceof RegExp ? mentions : new RegExp(mentions), `message: ${res.body.message}`);
}

/** A 200 success envelope; returns its `data`. */
export function assertOk(res: { status: number; body: any; text: string }): any {
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.status, "success");
  return res.body.data;
}

/**
 * `describe(name, fn)`, or, when `skipReason` is set, one skipped test carrying the reason. A
 * skipped describe() counts as no test at all in node's summary ("skipped 0"), which hides that
 * a whole suite did not run.
 */
export function suiteUnless(skipReason: string | false, name: string, fn: () => void): void {
  if (skipReason) it(name, { skip: skipReason }, () => {});
  else describe(name, fn);
}

/** A TCP port that was free a moment ago (for a child process that must listen on a known port). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}
