// `idle-10k`: 10,000 open SSE streams, one per signed-up device: the server's RSS in total and
// per stream (RSS after opening them and one keep-alive round, minus RSS before).
import { readFileSync } from "node:fs";
import { signUps } from "../lib/api.js";
import { freshDatabase, startSpika } from "../lib/procs.js";
import { SsePool } from "../lib/sse-pool.js";
import { sleep, type Ctx } from "./context.js";

export const IDLE_STREAMS = Number(process.env.BENCH_IDLE_STREAMS ?? 10_000);

/** This process's soft limit of open files (each stream is one socket here and one in the server). */
export function openFileLimit(): number {
  try {
    const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync("/proc/self/limits", "utf8"));
    return m?.[1] === "unlimited" ? Infinity : Number(m?.[1] ?? Infinity);
  } catch {
    return Infinity;
  }
}

export async function idle(ctx: Ctx) {
  const limit = openFileLimit();
  const streams = Math.min(IDLE_STREAMS, limit - 200);
  const note = streams < IDLE_STREAMS ? `only ${streams} streams: open-file limit ${limit} (raise ulimit -n)` : undefined;
  const db = await freshDatabase();
  const server = await startSpika(db, "idle-10k");
  const pool = new SsePool();
  try {
    ctx.log(`idle-10k: signing up ${streams} users (one device each)`);
    const users = await signUps(server.url, streams, 32);
    await sleep(1000);
    const before = server.rssMb()!;
    ctx.log(`idle-10k: opening ${streams} streams (server RSS before: ${before.toFixed(0)} MB)`);
    const t0 = performance.now();
    await pool.open(
      server.url,
      users.map((u) => u.token),
      { concurrency: 100 },
    );
    const openSeconds = (performance.now() - t0) / 1000;
    await sleep(6000); // one keep-alive PING round to every stream
    const after = server.rssMb()!;
    return {
      "idle-10k": {
        streams: pool.size - pool.closed,
        rss_mb: after,
        kb_per_stream: ((after - before) * 1024) / streams,
        dropped_streams: pool.closed,
        note: [`RSS before streams ${before.toFixed(0)} MB`, `opened in ${openSeconds.toFixed(1)} s`, note].filter(Boolean).join("; "),
      },
    };
  } finally {
    pool.close();
    await server.stop();
    await db.drop();
  }
}
