// Diagnostic preload for the server child (BENCH_SQL_TRACE=1): counts and times every SQLite
// statement by its SQL text (better-sqlite3's prepare wrapped), and writes the top statements
// to stderr when the process exits. Measures; changes nothing the server does.
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(join(process.cwd(), "package.json"));
const Database = require("better-sqlite3");
const stats = new Map();
let prepares = 0;
let prepareNs = 0n;
const origPrepare = Database.prototype.prepare;

Database.prototype.prepare = function prepare(sql, ...rest) {
  const t0 = process.hrtime.bigint();
  const stmt = origPrepare.call(this, sql, ...rest);
  prepareNs += process.hrtime.bigint() - t0;
  prepares++;
  for (const method of ["all", "get", "run", "iterate"]) {
    const orig = stmt[method];
    if (typeof orig !== "function") continue;
    stmt[method] = function (...args) {
      const s0 = process.hrtime.bigint();
      try {
        return orig.apply(this, args);
      } finally {
        const ns = process.hrtime.bigint() - s0;
        let e = stats.get(sql);
        if (!e) stats.set(sql, (e = { n: 0, ns: 0n, max: 0n }));
        e.n++;
        e.ns += ns;
        if (ns > e.max) e.max = ns;
      }
    };
  }
  return stmt;
};

// Event-loop delay: what a latency tail looks like from inside the server.
const { monitorEventLoopDelay } = await import("node:perf_hooks");
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();

process.on("exit", () => {
  process.stderr.write(
    `[sql-trace] event-loop delay: p50 ${(loop.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms\n`,
  );
  const rows = [...stats.entries()].sort((a, b) => Number(b[1].ns - a[1].ns));
  const total = rows.reduce((t, [, e]) => t + e.ns, 0n);
  const count = rows.reduce((t, [, e]) => t + e.n, 0);
  const lines = [`[sql-trace] ${count} statements, ${(Number(total) / 1e6).toFixed(0)} ms executing; ${prepares} prepares, ${(Number(prepareNs) / 1e6).toFixed(0)} ms preparing`];
  for (const [sql, e] of rows.slice(0, Number(process.env.BENCH_SQL_TRACE_TOP ?? 25))) {
    lines.push(
      `[sql-trace] ${String(e.n).padStart(8)} × ${(Number(e.ns) / e.n / 1000).toFixed(1).padStart(8)} µs = ${(Number(e.ns) / 1e6).toFixed(0).padStart(6)} ms (max ${(Number(e.max) / 1e6).toFixed(1).padStart(6)} ms)  ${sql.replace(/\s+/g, " ").slice(0, 260)}`,
    );
  }
  process.stderr.write(lines.join("\n") + "\n");
});
