// Child processes of the benchmark: the Spika server (`node dist/bundle/spika.js serve`) on a fresh
// temporary database, and the bare node:http servers of the baselines. Every child is stopped
// when its scenario ends, and all of them when the benchmark is interrupted.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";

export const ROOT = resolve(import.meta.dirname, "..", "..");
export const RESULTS_DIR = join(ROOT, "bench", "results");

const live = new Set<Child>();

/** CPU profiles written by stopped children (BENCH_PROFILE=1), in order. */
export const profilesWritten: Array<{ name: string; file: string }> = [];

export interface Child {
  name: string;
  pid: number;
  url: string;
  /** Milliseconds from spawn to the ready line. */
  readyMs: number;
  /** Resident set size of the child now, in MB (Linux /proc), or undefined elsewhere. */
  rssMb(): number | undefined;
  /** Last log lines of the child (for error reports). */
  logTail(): string[];
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<void>;
  /**
   * Runs `fn` (a measured run); with BENCH_PROFILE=1 the child's CPU profile covers exactly that
   * run and is written as <label>.cpuprofile.
   */
  measure<T>(label: string, fn: () => Promise<T>): Promise<T>;
}

/** One directory of profiles per benchmark run. */
const RUN_ID = new Date().toISOString().replace(/[:.]/g, "-");

export const profiling = () => process.env.BENCH_PROFILE === "1";

/** `pid` and every process below it (the workers of `WORKERS=N`), from Linux /proc. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  try {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    return [pid];
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

/** Resident memory of a process and its children (MB). */
function rssOf(pid: number): number | undefined {
  let total: number | undefined;
  for (const p of processTree(pid)) {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1]);
      if (Number.isFinite(kb)) total = (total ?? 0) + kb / 1024;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/**
 * Spawns `node <args>` and waits for a JSON log line with a `url` (Spika's ready line, which the
 * bare servers imitate).
 */
async function spawnChild(name: string, args: string[], env: Record<string, string>, profileName?: string): Promise<Child> {
  const nodeArgs: string[] = [];
  let profileDir: string | undefined;
  if (profileName && profiling()) {
    profileDir = join(RESULTS_DIR, "profiles", RUN_ID);
    mkdirSync(profileDir, { recursive: true });
    nodeArgs.push("--import", join(ROOT, "bench", "lib", "profiler.mjs"));
    env = { ...env, BENCH_PROFILE_DIR: profileDir };
  }
  if (profileName && process.env.BENCH_SQL_TRACE === "1") nodeArgs.push("--import", join(ROOT, "bench", "lib", "sql-trace.mjs"));
  // Extra node flags for the server child only (e.g. --trace-gc, --max-semi-space-size=64).
  if (name === "spika" && process.env.BENCH_SERVER_NODE_FLAGS) nodeArgs.push(...process.env.BENCH_SERVER_NODE_FLAGS.split(/\s+/).filter(Boolean));
  const started = performance.now();
  const proc: ChildProcess = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const tail: string[] = [];
  const profilerLines: Array<(line: string) => void> = [];
  const keep = (line: string) => {
    if (line.startsWith("[sql-trace]")) process.stderr.write(`${profileName ?? name}: ${line}\n`);
    if (line.startsWith("[profiler]")) for (const f of profilerLines.splice(0)) f(line);
    if (process.env.BENCH_SERVER_LOG === "1" && !line.startsWith("{")) process.stderr.write(`${profileName ?? name}| ${line}\n`);
    tail.push(line);
    if (tail.length > 30) tail.shift();
  };
  const exited = new Promise<number | null>((res) => proc.on("exit", (code) => res(code)));
  createInterface({ input: proc.stderr! }).on("line", keep);
  const url = await new Promise<string>((res, rej) => {
    const lines = createInterface({ input: proc.stdout! });
    lines.on("line", (line) => {
      keep(line);
      if (!line.startsWith("{")) return;
      try {
        const entry = JSON.parse(line) as { url?: unknown; msg?: unknown };
        // With WORKERS=N each worker logs its own url; the primary's ready line comes after all.
        if (typeof entry.url === "string" && !String(entry.msg).startsWith("worker ")) res(entry.url);
      } catch {
        // not a JSON log line
      }
    });
    void exited.then((code) => rej(new Error(`${name} exited with ${code} before it was ready:\n${tail.join("\n")}`)));
  });
  const readyMs = performance.now() - started;
  let stopped: Promise<void> | null = null;
  const child: Child = {
    name,
    pid: proc.pid!,
    url,
    readyMs,
    rssMb: () => rssOf(proc.pid!),
    logTail: () => [...tail],
    stop() {
      stopped ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill("SIGTERM");
          const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
          await exited;
          clearTimeout(timer);
        }
        live.delete(child);
      })();
      return stopped;
    },
    async measure(label, fn) {
      if (!profileDir) return fn();
      const signal = () =>
        new Promise<string>((res) => {
          profilerLines.push(res);
          proc.kill("SIGUSR2");
        });
      writeFileSync(join(profileDir, "label"), label);
      await signal();
      try {
        return await fn();
      } finally {
        const line = await signal();
        const file = /wrote (.+)$/.exec(line)?.[1];
        if (file) profilesWritten.push({ name: label, file });
        else process.stderr.write(`${label}: ${line}\n`);
      }
    },
  };
  live.add(child);
  return child;
}

/** Stops every child still running (Ctrl-C, errors). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop()));
}

/** A bare node:http server of bench/bare-server.ts: `http` (JSON hello) or `sse` (broadcast). */
export function startBare(mode: "http" | "sse", profileName?: string): Promise<Child> {
  return spawnChild(`bare-${mode}`, ["--import", "tsx", join(ROOT, "bench", "bare-server.ts"), mode], {}, profileName);
}

export interface SpikaDb {
  url: string;
  /** Removes the temporary database (file or PostgreSQL database). */
  drop(): Promise<void>;
}

const liveDatabases = new Set<SpikaDb>();

/** Drops every temporary database not dropped yet (interrupted runs). */
export async function dropAll(): Promise<void> {
  for (const db of [...liveDatabases]) await db.drop().catch(() => {});
}

export const engine = () => (process.env.DATABASE_URL?.startsWith("postgres") ? "postgres" : "sqlite");

/**
 * A fresh database for one scenario: a temporary SQLite file, or, when DATABASE_URL is a
 * postgres:// URL, a new database on that server (dropped afterwards).
 */
export async function freshDatabase(): Promise<SpikaDb & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "spika-bench-"));
  const base = process.env.DATABASE_URL;
  if (!base?.startsWith("postgres")) {
    const db = {
      dir,
      url: `sqlite:${join(dir, "spika.db")}`,
      drop: async () => {
        liveDatabases.delete(db);
        rmSync(dir, { recursive: true, force: true });
      },
    };
    liveDatabases.add(db);
    return db;
  }
  const name = `spika_bench_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const server = await findPgServer(admin).catch(() => undefined);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  if (server) pgServers.set(url.toString(), server);
  const db = {
    dir,
    url: url.toString(),
    async drop() {
      liveDatabases.delete(db);
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  liveDatabases.add(db);
  return db;
}

/**
 * Starts the built server (dist/bundle/spika.js serve) on `db` with the benchmark settings; REDIS_URL,
 * when set in the environment, is passed on.
 */
export function startSpika(db: { url: string; dir: string }, profileName?: string, env: Record<string, string> = {}): Promise<Child> {
  return spawnChild(
    "spika",
    [join(ROOT, "dist", "bundle", "spika.js"), "serve"],
    {
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: db.url,
      UPLOAD_DIR: join(db.dir, "uploads"),
      IS_TEST: "1",
      TEAM_MODE: "1",
      RATE_LIMIT: "off",
      LOG_LEVEL: "info",
      ...env,
    },
    profileName,
  );
}

/** CPU seconds (user + system) a process and its children have used so far (Linux /proc), or undefined. */
export function cpuSeconds(pid: number): number | undefined {
  return cpuSecondsOf(processTree(pid));
}

/** CPU seconds (user + system) used so far by the processes `pids` that still exist, or undefined. */
export function cpuSecondsOf(pids: number[]): number | undefined {
  let total: number | undefined;
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total = (total ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100)
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** CPU seconds the whole machine has been busy (all cores, /proc/stat), or undefined. */
function machineBusySeconds(): number | undefined {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: user + nice + system is what processes ran
    // (interrupt time, e.g. loopback packets, is left out: no process is charged for it).
    return (f[0] + f[1] + f[2]) / 100;
  } catch {
    return undefined;
  }
}

export interface CpuUse {
  /** Percent of one core used by the server child. */
  server?: number;
  /** CPU seconds used by the server child. */
  serverSeconds?: number;
  /** Percent of one core used by this process (the load generator). */
  loadgen: number;
  /** Percent of one core used by the database side: PostgreSQL's backends of the bench database and Redis. */
  database?: number;
  /** CPU seconds used by the database side. */
  databaseSeconds?: number;
  /** Percent of one core used by everything else on the machine (other work disturbs the run). */
  other?: number;
}

/** The CPU columns of a row; `ops` (requests or messages) adds server CPU milliseconds per operation. */
export const cpuFields = (c: CpuUse, ops?: number) => ({
  server_cpu_pct: c.server,
  server_cpu_ms_per_op: c.serverSeconds === undefined || !ops || ops <= 0 ? undefined : (c.serverSeconds * 1000) / ops,
  db_cpu_pct: c.database,
  db_cpu_ms_per_op: c.databaseSeconds === undefined || !ops || ops <= 0 ? undefined : (c.databaseSeconds * 1000) / ops,
  loadgen_cpu_pct: c.loadgen,
  other_cpu_pct: c.other,
});

/** Where the PostgreSQL server of a bench database runs, when it runs on this machine. */
interface PgServer {
  /** The postmaster: every backend and auxiliary process is its child. */
  postmaster: number;
  /** `cluster_name`, which PostgreSQL puts into every process title ("postgres: 15/main: …"). */
  cluster: string;
}
const pgServers = new Map<string, PgServer>();

/** The parent of `pid` (Linux /proc), or undefined. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** Finds the postmaster through a backend's pid (its parent), when PostgreSQL runs on this machine. */
async function findPgServer(client: pg.Client): Promise<PgServer | undefined> {
  const { rows } = await client.query<{ pid: number; cluster: string }>("select pg_backend_pid() as pid, current_setting('cluster_name') as cluster");
  const postmaster = parentOf(rows[0].pid);
  return postmaster === undefined ? undefined : { postmaster, cluster: rows[0].cluster };
}

/** Auxiliary processes whose work (WAL writes, checkpoints) the bench database's writes cause. */
const PG_AUXILIARY = /^(walwriter|background writer|checkpointer)$/;

/**
 * The processes of the database side (part of the system under test): the PostgreSQL backends
 * serving the database of `databaseUrl` and the postmaster's auxiliary processes (WAL writer,
 * background writer, checkpointer, autovacuum), found as the postmaster's children, and Redis
 * when REDIS_URL is set (shared with whatever else uses that Redis). None for SQLite: it runs
 * inside the server. Backends of other databases (other test suites on the same PostgreSQL) stay
 * a disturbance. (The process title is "postgres: <cluster_name>: <user> <database> <host> <state>";
 * reading the database at a fixed position missed every backend once cluster_name was set, and
 * their CPU was counted as "other", marking PostgreSQL runs DISTURBED.)
 */
function databaseProcesses(databaseUrl: string | undefined): number[] {
  const pgName = databaseUrl?.startsWith("postgres") ? new URL(databaseUrl).pathname.slice(1) : null;
  if (!pgName) return [];
  const server = pgServers.get(databaseUrl!);
  const redis = !!process.env.REDIS_URL;
  const prefix = server?.cluster ? `postgres: ${server.cluster}: ` : "postgres: ";
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
      if (redis && /(^|\/)redis-server /.test(title)) {
        pids.push(Number(entry));
        continue;
      }
      if (!server || !title.startsWith(prefix) || parentOf(Number(entry)) !== server.postmaster) continue;
      const rest = title.slice(prefix.length);
      if (rest.split(" ")[1] === pgName || PG_AUXILIARY.test(rest.trim()) || rest.trim() === `autovacuum worker ${pgName}`) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * BENCH_PG_TRACE=1: samples pg_stat_activity of the bench database every 10 ms (from a connection
 * to the base database, whose backend does not count as the database side) and returns a stopper
 * that prints what the backends were doing: state, wait event and statement, as a share of the
 * samples of busy backends.
 */
function pgTrace(databaseUrl: string | undefined): (() => void) | undefined {
  if (process.env.BENCH_PG_TRACE !== "1" || !databaseUrl?.startsWith("postgres") || !process.env.DATABASE_URL) return undefined;
  const name = new URL(databaseUrl).pathname.slice(1);
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  const counts = new Map<string, number>();
  let samples = 0;
  let backends = 0;
  let stopped = false;
  let busy = false;
  const connected = client.connect().catch(() => (stopped = true));
  const timer = setInterval(() => {
    if (busy || stopped) return;
    busy = true;
    void connected
      .then(() =>
        client.query<{ state: string | null; wait: string | null; query: string }>(
          "select state, wait_event_type || ':' || wait_event as wait, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) as query from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
          [name],
        ),
      )
      .then((r) => {
        if (!r || stopped) return;
        samples++;
        for (const row of r.rows) {
          backends++;
          if (row.state === "idle") continue;
          const key = `${row.state} | ${row.wait ?? "on CPU"} | ${row.state === "active" ? row.query : ""}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      })
      .catch(() => {})
      .finally(() => (busy = false));
  }, 10);
  return () => {
    stopped = true;
    clearInterval(timer);
    void connected.then(() => client.end()).catch(() => {});
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const lines = [...counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([k, n]) => `  ${((100 * n) / Math.max(1, total)).toFixed(1).padStart(5)} %  ${(n / Math.max(1, samples)).toFixed(2).padStart(5)}/sample  ${k}`);
    process.stderr.write(
      `[pg-trace] ${samples} samples of pg_stat_activity, ${(backends / Math.max(1, samples)).toFixed(1)} backends and ${(total / Math.max(1, samples)).toFixed(2)} not idle per sample (state | wait | statement):\n${lines.join("\n")}\n`,
    );
  };
}

/**
 * Starts measuring CPU use; returns a reader of percentages of one core since the start. The
 * server is `pid` with its children (the workers of WORKERS=N); `databaseUrl` adds the database
 * side (PostgreSQL + Redis) as its own column instead of counting it as a disturbance.
 */
export function cpuMeter(pid: number, databaseUrl?: string): () => CpuUse {
  const t0 = performance.now();
  const s0 = cpuSeconds(pid);
  const d0 = new Map(databaseProcesses(databaseUrl).map((p) => [p, cpuSecondsOf([p]) ?? 0]));
  const m0 = machineBusySeconds();
  const l0 = process.cpuUsage();
  const stopTrace = pgTrace(databaseUrl);
  return () => {
    stopTrace?.();
    const wall = (performance.now() - t0) / 1000;
    const s1 = cpuSeconds(pid);
    const m1 = machineBusySeconds();
    const l = process.cpuUsage(l0);
    // Backends that started during the run count whole; those that ended are missed (rare: the pool keeps them).
    const pids = new Set([...d0.keys(), ...databaseProcesses(databaseUrl)]);
    const databaseSeconds = pids.size === 0 ? undefined : [...pids].reduce((sum, p) => sum + Math.max(0, (cpuSecondsOf([p]) ?? d0.get(p) ?? 0) - (d0.get(p) ?? 0)), 0);
    const database = databaseSeconds === undefined ? undefined : (100 * databaseSeconds) / wall;
    const server = s0 === undefined || s1 === undefined ? undefined : (100 * (s1 - s0)) / wall;
    const loadgen = (100 * (l.user + l.system)) / 1e6 / wall;
    const machine = m0 === undefined || m1 === undefined ? undefined : (100 * (m1 - m0)) / wall;
    const other = machine === undefined || server === undefined ? undefined : Math.max(0, machine - server - loadgen - (database ?? 0));
    return { server, serverSeconds: s0 === undefined || s1 === undefined ? undefined : s1 - s0, database, databaseSeconds, loadgen, other };
  };
}
