// `npm run bench [-- <scenario>…]`: starts the built server on temporary databases, runs the load
// scenarios on loopback, stops everything it started, prints a table and writes
// bench/results/<timestamp>.json. See bench/README.md.
//
// Scenarios: baseline, broadcast-baseline, send, history, fanout-100, fanout-1000, idle-10k, sync
// (default: all). Scenarios compared with a baseline bring it along when it was not asked for.
// Settings: BENCH_SECONDS (length of each measured run, default 10), BENCH_PROFILE=1 (CPU
// profile of every server child, summarized after each scenario), DATABASE_URL=postgres://…
// and REDIS_URL=redis://… (run on PostgreSQL + Redis instead of a temporary SQLite file).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cpus, loadavg, totalmem } from "node:os";
import { addRatios, checkTargets, table, writeResults, type Rows } from "./lib/report.js";
import { summarize } from "./lib/profile.js";
import { dropAll, engine, profilesWritten, profiling, ROOT, stopAll } from "./lib/procs.js";
import { baseline, broadcastBaseline } from "./scenarios/baselines.js";
import type { Ctx, Scenario } from "./scenarios/context.js";
import { fanout } from "./scenarios/fanout.js";
import { history } from "./scenarios/history.js";
import { idle, IDLE_STREAMS, openFileLimit } from "./scenarios/idle.js";
import { send } from "./scenarios/send.js";
import { sync } from "./scenarios/sync.js";

const SCENARIOS: Record<string, { run: Scenario; needs?: string }> = {
  baseline: { run: baseline },
  "broadcast-baseline": { run: broadcastBaseline },
  send: { run: send, needs: "baseline" },
  history: { run: history, needs: "baseline" },
  "fanout-100": { run: fanout(100), needs: "broadcast-baseline" },
  "fanout-1000": { run: fanout(1000), needs: "broadcast-baseline" },
  "idle-10k": { run: idle },
  sync: { run: sync },
};

const started = performance.now();
const log = (message: string) => {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}\n`);
};

function hardFileLimit(): number {
  const m = /Max open files\s+\S+\s+(\d+|unlimited)/.exec(readFileSync("/proc/self/limits", "utf8"));
  return m?.[1] === "unlimited" ? 1 << 20 : Number(m?.[1] ?? 0);
}

/** 10,000 streams need 10,000 sockets here and in the server: raise the soft limit by re-running under `ulimit -n`. */
function ensureFileLimit(wanted: string[]): void {
  if (!wanted.includes("idle-10k") || process.env.BENCH_ULIMIT_RAISED || process.platform !== "linux") return;
  const need = IDLE_STREAMS + 500;
  if (openFileLimit() >= need) return;
  const hard = hardFileLimit();
  if (hard <= openFileLimit()) return log(`open-file limit ${openFileLimit()} < ${need}: idle-10k opens fewer streams (raise the hard limit)`);
  log(`raising the open-file limit to ${Math.min(hard, need * 2)} for idle-10k`);
  const r = spawnSync("sh", ["-c", `ulimit -n ${Math.min(hard, need * 2)} && exec "$@"`, "sh", process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, BENCH_ULIMIT_RAISED: "1" },
  });
  process.exit(r.status ?? 1);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => a !== "--");
  const unknown = args.filter((a) => !SCENARIOS[a]);
  if (unknown.length) {
    process.stderr.write(`unknown scenario: ${unknown.join(", ")}\nscenarios: ${Object.keys(SCENARIOS).join(", ")}\n`);
    process.exit(2);
  }
  const asked = args.length ? args : Object.keys(SCENARIOS);
  const wanted = Object.keys(SCENARIOS).filter((name) => asked.includes(name) || asked.some((a) => SCENARIOS[a].needs === name));
  ensureFileLimit(wanted);
  if (!existsSync(join(ROOT, "dist", "main.js"))) throw new Error("dist/main.js is missing: run `npm run build` (npm run bench does)");

  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const loadAtStart = loadavg()[0];
  const ctx: Ctx = { seconds, log };
  log(
    `${wanted.join(", ")} on ${engine()}${process.env.REDIS_URL ? " + Redis" : ""}; ${cpus().length} CPUs, ${process.version}, ` +
      `load average ${loadAtStart.toFixed(2)}; WORKERS=${process.env.WORKERS ?? (process.env.DATABASE_URL?.startsWith("postgres") ? cpus().length : 1)}; ${seconds} s per run${profiling() ? "; CPU profiles on" : ""}`,
  );
  const rows: Rows = {};
  const failed: string[] = [];
  for (const name of wanted) {
    const t0 = performance.now();
    const profilesBefore = profilesWritten.length;
    try {
      Object.assign(rows, await SCENARIOS[name].run(ctx));
      log(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (err) {
      failed.push(name);
      log(`${name}: FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    } finally {
      await stopAll();
    }
    for (const p of profilesWritten.slice(profilesBefore)) process.stderr.write(summarize(p.file) + "\n");
  }

  addRatios(rows);
  const file = writeResults(rows, {
    engine: engine(),
    redis: Boolean(process.env.REDIS_URL),
    memory_gb: Math.round(totalmem() / 2 ** 30),
    load_average_at_start: loadAtStart,
    seconds_per_run: seconds,
    // Server processes (src/cluster.ts): WORKERS as set, else one on SQLite and one per core on PostgreSQL.
    workers: Number(process.env.WORKERS ?? (process.env.DATABASE_URL?.startsWith("postgres") ? cpus().length : 1)),
  });
  process.stdout.write(`\n${table(rows)}\n\nTargets:\n`);
  const checked = checkTargets(rows).filter((t) => t.met !== null);
  if (checked.length === 0) process.stdout.write("  (none measured in this run)\n");
  for (const t of checked) process.stdout.write(`  ${t.met ? "met   " : "MISSED"}  ${t.text}: ${t.detail}\n`);
  process.stdout.write(`\nwritten: ${file.slice(ROOT.length + 1)} (total ${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
  if (failed.length) {
    process.stdout.write(`failed: ${failed.join(", ")}\n`);
    process.exitCode = 1;
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping the servers`);
    void stopAll()
      .then(dropAll)
      .finally(() => process.exit(130));
  });
}

main().catch(async (err) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  await stopAll();
  await dropAll();
  process.exit(1);
});
