// Summary of a V8 .cpuprofile (node --cpu-prof): self time per function, highest first.
//   node --import tsx bench/lib/profile.ts <file.cpuprofile> [top=25]
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { ROOT } from "./procs.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  /** Share of the busy (non-idle) time. */
  pct: number;
}

function where(url: string, line: number): string {
  if (!url) return "";
  const path = url.startsWith("file://") ? relative(ROOT, new URL(url).pathname) : url;
  return `${path}:${line + 1}`;
}

export function selfTimes(file: string): { busyMs: number; totalMs: number; rows: SelfTime[] } {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const grouped = new Map<string, SelfTime>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    totalUs += us;
    const name = n.callFrame.functionName || "(anonymous)";
    if (name === "(idle)") {
      idleUs += us;
      continue;
    }
    const w = where(n.callFrame.url, n.callFrame.lineNumber);
    const key = `${name} ${w}`;
    const row = grouped.get(key) ?? { name, where: w, ms: 0, pct: 0 };
    row.ms += us / 1000;
    grouped.set(key, row);
  }
  const busyMs = (totalUs - idleUs) / 1000;
  const rows = [...grouped.values()].sort((a, b) => b.ms - a.ms);
  for (const r of rows) r.pct = (100 * r.ms) / busyMs;
  return { busyMs, totalMs: totalUs / 1000, rows };
}

/** Self time grouped by file (package or source file): where the time goes at a glance. */
export function byFile(rows: SelfTime[]): Array<{ file: string; pct: number }> {
  const m = new Map<string, number>();
  for (const r of rows) {
    let file = r.where.replace(/:\d+$/, "") || r.name;
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    if (nm) file = `node_modules/${nm[1]}`;
    else if (file.startsWith("node:")) file = file.split("/")[0];
    m.set(file, (m.get(file) ?? 0) + r.pct);
  }
  return [...m.entries()].map(([file, pct]) => ({ file, pct })).sort((a, b) => b.pct - a.pct);
}

export function summarize(file: string, top = 20): string {
  const { busyMs, totalMs, rows } = selfTimes(file);
  const lines = [`${relative(ROOT, file)}: busy ${(busyMs / 1000).toFixed(1)} s of ${(totalMs / 1000).toFixed(1)} s`, "  self%  self ms  function (where)"];
  for (const r of rows.slice(0, top)) lines.push(`  ${r.pct.toFixed(1).padStart(5)}  ${r.ms.toFixed(0).padStart(7)}  ${r.name} ${r.where ? `(${r.where})` : ""}`);
  lines.push(
    "  by file: " +
      byFile(rows)
        .slice(0, 10)
        .map((f) => `${f.file} ${f.pct.toFixed(1)}%`)
        .join(", "),
  );
  return lines.join("\n");
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write("usage: node --import tsx bench/lib/profile.ts <file.cpuprofile> [top]\n");
    process.exit(2);
  }
  process.stdout.write(summarize(file, Number(process.argv[3] ?? 25)) + "\n");
}
