// `baseline` (the machine's HTTP limit) and `broadcast-baseline` (its SSE fan-out limit), both
// on a bare node:http process and measured with the same tools as the server scenarios.
import { fanoutRow, measureFanout } from "../lib/fanout.js";
import { load } from "../lib/load.js";
import { cpuFields, cpuMeter, startBare } from "../lib/procs.js";
import { SsePool } from "../lib/sse-pool.js";
import type { Rows } from "../lib/report.js";
import { sleep, type Ctx } from "./context.js";

/** Connections of every closed-loop HTTP run (the `send` scenario's 50 concurrent senders). */
export const HTTP_CONNECTIONS = 50;
/** Streams of the broadcast baseline: the size of the largest fan-out scenario. */
export const BROADCAST_STREAMS = Number(process.env.BENCH_BROADCAST_STREAMS ?? 1000);

export async function baseline(ctx: Ctx) {
  const bare = await startBare("http", "baseline");
  try {
    ctx.log(`baseline: autocannon, ${HTTP_CONNECTIONS} connections, ${ctx.seconds} s against a bare node:http JSON server`);
    const [r, c] = await bare.measure("baseline", async () => {
      const cpu = cpuMeter(bare.pid);
      return [await load({ url: bare.url, path: "/", connections: HTTP_CONNECTIONS, seconds: ctx.seconds }), cpu()] as const;
    });
    return {
      baseline: {
        throughput_per_s: r.rps,
        p50_ms: r.p50,
        p99_ms: r.p99,
        rss_mb: bare.rssMb(),
        errors: r.non2xx + r.errors + r.timeouts,
        ...cpuFields(c, r.total),
      },
    };
  } finally {
    await bare.stop();
  }
}

/**
 * The bare fan-out: as fast as acknowledged (`broadcast-baseline`, the machine's limit) and at
 * 20 msg/s (`broadcast-baseline@20`, the latency floor of the 20 msg/s fan-out runs).
 */
export async function broadcastBaseline(ctx: Ctx) {
  const bare = await startBare("sse", "broadcast-baseline");
  const pool = new SsePool();
  try {
    await pool.open(
      bare.url,
      Array.from({ length: BROADCAST_STREAMS }, () => "-"),
      { path: "/sse" },
    );
    const rows: Rows = {};
    for (const rate of [undefined, 20]) {
      const key = rate ? `broadcast-baseline@${rate}` : "broadcast-baseline";
      ctx.log(`${key}: ${BROADCAST_STREAMS} bare SSE streams, one sender ${rate ? `at ${rate} msg/s` : "as fast as acknowledged"}, ${ctx.seconds} s`);
      const [r, c] = await bare.measure(key, async () => {
        const cpu = cpuMeter(bare.pid);
        const result = await measureFanout({
          pool,
          recipients: BROADCAST_STREAMS,
          url: bare.url,
          path: "/send",
          body: (text) => ({ roomId: 1, type: "text", body: { text } }),
          seconds: ctx.seconds,
          rate,
        });
        return [result, cpu()] as const;
      });
      rows[key] = fanoutRow(r, pool, BROADCAST_STREAMS, bare.rssMb(), c);
      await sleep(500);
    }
    return rows;
  } finally {
    pool.close();
    await bare.stop();
  }
}
