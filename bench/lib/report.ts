// The results: one row per key, the table printed at the end, the JSON file other tools read,
// and the targets of the issue checked against the rows.
import { cpus } from "node:os";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RESULTS_DIR } from "./procs.js";

/** One row of bench/results/<timestamp>.json (fields that do not apply are left out). */
export interface Row {
  throughput_per_s?: number;
  p50_ms?: number;
  p99_ms?: number;
  ratio_to_baseline?: number;
  rss_mb?: number;
  seconds?: number;
  /** Extras (additive; readers of the fields above can ignore them). */
  /** history: latency under the throughput run (p50_ms/p99_ms are with one reader). */
  loaded_p50_ms?: number;
  loaded_p99_ms?: number;
  ack_p50_ms?: number;
  ack_p99_ms?: number;
  delivered_per_s?: number;
  kb_per_stream?: number;
  streams?: number;
  messages?: number;
  incomplete?: number;
  dropped_streams?: number;
  errors?: number;
  server_cpu_pct?: number;
  /** Server CPU time per request / message: robust to other load on the machine. */
  server_cpu_ms_per_op?: number;
  /** CPU of the database side (PostgreSQL backends of the bench database, Redis); none on SQLite. */
  db_cpu_pct?: number;
  db_cpu_ms_per_op?: number;
  loadgen_cpu_pct?: number;
  /** CPU used by other processes during the run (a disturbed run when high). */
  other_cpu_pct?: number;
  note?: string;
}

export type Rows = Record<string, Row>;

/** What each key measures, in the order of the table. */
export const KEYS: Array<[key: string, unit: string]> = [
  ["baseline", "req/s"],
  ["broadcast-baseline", "deliveries/s"],
  ["broadcast-baseline@20", "deliveries/s (latency floor at 20 msg/s)"],
  ["send", "msg/s acked"],
  ["history-100", "req/s"],
  ["history-1m", "req/s"],
  ["startup", "s to ready (1M-message DB)"],
  ["fanout-100@20", "deliveries/s"],
  ["fanout-100@max", "deliveries/s"],
  ["fanout-1000@20", "deliveries/s"],
  ["fanout-1000@max", "deliveries/s"],
  ["idle-10k", "streams"],
  ["sync-10k", "s"],
];

/** Ratios to the baselines of the same run: HTTP scenarios to `baseline`, fan-out to `broadcast-baseline`. */
export function addRatios(rows: Rows): void {
  const http = rows.baseline?.throughput_per_s;
  const fan = rows["broadcast-baseline"]?.throughput_per_s;
  for (const [key, row] of Object.entries(rows)) {
    if (row.throughput_per_s === undefined || key === "baseline" || key === "broadcast-baseline") continue;
    const base = key.startsWith("fanout") || key.startsWith("broadcast") ? fan : http;
    if (base) row.ratio_to_baseline = round(row.throughput_per_s / base, 3);
  }
}

export interface Target {
  text: string;
  met: boolean | null;
  detail: string;
}

const pct = (v: number | undefined) => (v === undefined ? "–" : `${v.toFixed(0)}%`);
const fmt = (v: number | undefined, digits = 1) => (v === undefined || Number.isNaN(v) ? "–" : v.toFixed(digits));

/** The targets of the issue, checked against this run (null = not measured in this run). */
export function checkTargets(rows: Rows): Target[] {
  const out: Target[] = [];
  const t = (text: string, met: boolean | null, detail: string) => out.push({ text, met, detail });
  const send = rows.send;
  t("send ≥ 0.30 × baseline req/s", send?.ratio_to_baseline === undefined ? null : send.ratio_to_baseline >= 0.3, `${fmt(send?.ratio_to_baseline, 3)} × baseline`);
  t("send delivery p99 ≤ 50 ms", send?.p99_ms === undefined ? null : send.p99_ms <= 50, `${fmt(send?.p99_ms)} ms`);
  const f100 = rows["fanout-100@20"];
  t("fanout-100@20 p99 ≤ 10 ms", f100?.p99_ms === undefined ? null : f100.p99_ms <= 10 && !f100.incomplete, `${fmt(f100?.p99_ms)} ms`);
  const f1k = rows["fanout-1000@20"];
  t(
    "fanout-1000@20 keeps up (≥ 19,980 deliveries/s ≈ 20 × 999)",
    f1k?.throughput_per_s === undefined ? null : f1k.throughput_per_s >= 19_980 * 0.97 && !f1k.incomplete,
    `${fmt(f1k?.throughput_per_s, 0)} /s, ${f1k?.incomplete ?? 0} incomplete`,
  );
  t("fanout-1000@20 p99 ≤ 100 ms", f1k?.p99_ms === undefined ? null : f1k.p99_ms <= 100, `${fmt(f1k?.p99_ms)} ms`);
  const f1kMax = rows["fanout-1000@max"];
  t(
    "fanout-1000@max ≥ 0.5 × broadcast-baseline",
    f1kMax?.ratio_to_baseline === undefined ? null : f1kMax.ratio_to_baseline >= 0.5,
    `${fmt(f1kMax?.ratio_to_baseline, 3)} × broadcast-baseline`,
  );
  const h100 = rows["history-100"];
  const h1m = rows["history-1m"];
  t(
    "history-1m p99 ≤ 1.2 × history-100 p99",
    h100?.p99_ms === undefined || h1m?.p99_ms === undefined ? null : h1m.p99_ms <= 1.2 * h100.p99_ms,
    h100?.p99_ms && h1m?.p99_ms ? `${fmt(h1m.p99_ms, 2)} vs ${fmt(h100.p99_ms, 2)} ms (${fmt(h1m.p99_ms / h100.p99_ms, 2)}×)` : "–",
  );
  const idle = rows["idle-10k"];
  t("idle-10k ≤ 250 MB RSS", idle?.rss_mb === undefined ? null : idle.rss_mb <= 250, `${fmt(idle?.rss_mb)} MB`);
  const start = rows.startup;
  t("server ready ≤ 1 s on an existing database", start?.seconds === undefined ? null : start.seconds <= 1, `${fmt(start?.seconds, 2)} s`);
  return out;
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

/** Rounds every number of a row for the JSON file (ms to 0.01, rates to 0.1). */
function tidy(row: Row): Row {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === undefined || (typeof v === "number" && !Number.isFinite(v))) continue;
    out[k] = typeof v === "number" ? round(v, k.includes("ratio") ? 3 : k.includes("per_op") ? 4 : 2) : v;
  }
  return out as Row;
}

export function machine() {
  const list = cpus();
  return {
    cpus: list.length,
    cpu_model: list[0]?.model ?? "unknown",
    node: process.version,
    date: new Date().toISOString(),
  };
}

/** Writes bench/results/<timestamp>.json and returns its path. */
export function writeResults(rows: Rows, extra: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const m = { ...machine(), ...extra };
  const scenarios: Rows = {};
  for (const [key] of KEYS) if (rows[key]) scenarios[key] = tidy(rows[key]);
  for (const key of Object.keys(rows)) if (!scenarios[key]) scenarios[key] = tidy(rows[key]);
  const file = join(RESULTS_DIR, `${m.date.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify({ machine: m, scenarios }, null, 2) + "\n");
  return file;
}

/** The results as a Markdown table (printed, and pasted into bench/README.md). */
export function table(rows: Rows): string {
  const head = ["scenario", "throughput/s", "ratio", "p50 ms", "p99 ms", "ack p99 ms", "RSS MB", "seconds", "server CPU", "client CPU", "notes"];
  const lines = [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`];
  for (const [key, unit] of KEYS) {
    const r = rows[key];
    if (!r) continue;
    const notes = [
      unit,
      r.server_cpu_ms_per_op !== undefined ? `${fmt(r.server_cpu_ms_per_op, 3)} ms server CPU/op` : "",
      r.db_cpu_pct !== undefined ? `database ${pct(r.db_cpu_pct)} CPU${r.db_cpu_ms_per_op !== undefined ? `, ${fmt(r.db_cpu_ms_per_op, 3)} ms/op` : ""}` : "",
      r.delivered_per_s !== undefined ? `${fmt(r.delivered_per_s, 0)} delivered/s` : "",
      r.kb_per_stream !== undefined ? `${fmt(r.kb_per_stream)} KB/stream` : "",
      r.incomplete ? `${r.incomplete} msgs incomplete` : "",
      r.dropped_streams ? `${r.dropped_streams} streams dropped` : "",
      r.errors ? `${r.errors} errors` : "",
      (r.other_cpu_pct ?? 0) > 15 ? `DISTURBED: other processes used ${fmt(r.other_cpu_pct, 0)}% CPU` : "",
      r.note ?? "",
    ].filter(Boolean);
    lines.push(
      `| ${key} | ${fmt(r.throughput_per_s, 0)} | ${fmt(r.ratio_to_baseline, 3)} | ${fmt(r.p50_ms, 2)} | ${fmt(r.p99_ms, 2)} | ${fmt(r.ack_p99_ms, 2)} | ${fmt(r.rss_mb, 0)} | ${fmt(r.seconds, 2)} | ${pct(r.server_cpu_pct)} | ${pct(r.loadgen_cpu_pct)} | ${notes.join("; ")} |`,
    );
  }
  return lines.join("\n");
}
