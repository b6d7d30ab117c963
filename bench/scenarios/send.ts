// `send`: 50 private rooms, both members streaming SSE, 50 concurrent senders (one autocannon
// connection each) for the run: messages acknowledged per second, ack latency, and delivery
// latency (send → NEW_MESSAGE on the peer's stream) from the marker in the text.
import { createRoom, signUps } from "../lib/api.js";
import { load, percentile } from "../lib/load.js";
import { cpuFields, cpuMeter, freshDatabase, startSpika } from "../lib/procs.js";
import { marker, newMessageMarker, SsePool } from "../lib/sse-pool.js";
import { HTTP_CONNECTIONS } from "./baselines.js";
import { sleep, type Ctx } from "./context.js";

const ROOMS = 50;

export async function send(ctx: Ctx) {
  const db = await freshDatabase();
  const server = await startSpika(db, "send");
  const pool = new SsePool();
  try {
    const users = await signUps(server.url, ROOMS * 2, 32);
    const roomOf = new Map<string, number>();
    for (let i = 0; i < ROOMS; i++) roomOf.set(users[2 * i].token, await createRoom(server.url, users[2 * i], [users[2 * i + 1]]));
    await pool.open(
      server.url,
      users.map((u) => u.token),
    );
    await sleep(200);

    const delivery: Array<{ sentAt: number; ms: number }> = [];
    pool.onFrame = (frame, at) => {
      const m = newMessageMarker(frame);
      if (m) delivery.push({ sentAt: m.sentAt, ms: at - m.sentAt });
    };
    let seq = 0;
    ctx.log(`send: ${ROOMS} private rooms, ${ROOMS * 2} streams, ${HTTP_CONNECTIONS} senders, ${ctx.seconds} s`);
    const [r, c] = await server.measure("send", async () => {
      const cpu = cpuMeter(server.pid, db.url);
      const result = await load({
        url: server.url,
        method: "POST",
        path: "/api/messenger/messages",
        connections: HTTP_CONNECTIONS,
        seconds: ctx.seconds,
        headersFor: (i) => ({ "content-type": "application/json", accesstoken: users[2 * (i % ROOMS)].token }),
        body: (headers) => JSON.stringify({ roomId: roomOf.get(headers.accesstoken), type: "text", body: { text: marker(seq++, performance.now()) } }),
      });
      const used = cpu();
      for (let idle = 0; delivery.length < result.total && idle < 2000; ) {
        const before = delivery.length;
        await sleep(100);
        idle = delivery.length === before ? idle + 100 : 0;
      }
      return [result, used] as const;
    });
    pool.onFrame = null;
    // Messages sent after the warm-up, like the acknowledgements counted (bench/lib/load.ts).
    const latencies = delivery
      .filter((d) => d.sentAt >= r.startedAt)
      .map((d) => d.ms)
      .sort((a, b) => a - b);
    return {
      send: {
        throughput_per_s: r.rps,
        delivered_per_s: latencies.length / r.seconds,
        p50_ms: percentile(latencies, 50),
        p99_ms: percentile(latencies, 99),
        ack_p50_ms: r.p50,
        ack_p99_ms: r.p99,
        messages: r.ok,
        incomplete: Math.max(0, r.total - delivery.length),
        dropped_streams: pool.closed,
        rss_mb: server.rssMb(),
        errors: r.non2xx + r.errors + r.timeouts,
        ...cpuFields(c, r.total),
      },
    };
  } finally {
    pool.close();
    await server.stop();
    await db.drop();
  }
}
