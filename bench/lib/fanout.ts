// Fan-out measurement shared by the bare broadcast baseline and the Spika fan-out scenarios: a
// sender posts messages whose text carries `~seq~sentAt~`, the SSE pool counts NEW_MESSAGE
// deliveries per message and keeps the arrival of the last one.
import http from "node:http";
import { load, percentile } from "./load.js";
import { cpuFields, type CpuUse } from "./procs.js";
import type { Row } from "./report.js";
import { marker, newMessageMarker, type SsePool } from "./sse-pool.js";

export interface FanoutResult {
  messages: number;
  deliveries: number;
  /** Deliveries per second, from the first send to the last delivery. */
  perSecond: number;
  /** Latency from send to the last recipient, over messages every recipient got (ms). */
  p50: number;
  p99: number;
  /** Messages that did not reach every recipient within the grace period. */
  incomplete: number;
  ackP50: number;
  ackP99: number;
  errors: number;
  seconds: number;
}

/** The row of a fan-out run (the bare broadcast's or the server's). */
export function fanoutRow(r: FanoutResult, pool: SsePool, streams: number, rssMb: number | undefined, cpu: CpuUse): Row {
  return {
    throughput_per_s: r.perSecond,
    p50_ms: r.p50,
    p99_ms: r.p99,
    ack_p50_ms: r.ackP50,
    ack_p99_ms: r.ackP99,
    messages: r.messages,
    incomplete: r.incomplete,
    dropped_streams: pool.closed,
    streams,
    rss_mb: rssMb,
    errors: r.errors,
    ...cpuFields(cpu, r.messages),
  };
}

export interface FanoutOptions {
  pool: SsePool;
  /** How many streams should get each message. */
  recipients: number;
  url: string;
  path: string;
  token?: string;
  /** JSON body for a message text. */
  body: (text: string) => unknown;
  seconds: number;
  /** Messages per second, evenly spaced; unset = one after another, as fast as acknowledged. */
  rate?: number;
}

/** One paced POST over a keep-alive socket: resolves with the ack latency in ms (or -1 on error). */
function paced(url: string, path: string, token: string | undefined) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const target = new URL(path, url);
  return {
    post(json: string): Promise<number> {
      const t0 = performance.now();
      return new Promise((resolve) => {
        const req = http.request(
          target,
          {
            method: "POST",
            agent,
            headers: { "content-type": "application/json", "content-length": Buffer.byteLength(json), ...(token ? { accesstoken: token } : {}) },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode === 200 ? performance.now() - t0 : -1));
          },
        );
        req.on("error", () => resolve(-1));
        req.end(json);
      });
    },
    close: () => agent.destroy(),
  };
}

export async function measureFanout(o: FanoutOptions): Promise<FanoutResult> {
  const sentAt: number[] = [];
  const got: number[] = [];
  const last: number[] = [];
  let deliveries = 0;
  let lastDelivery = 0;
  let complete = 0;
  let reached = 0;
  o.pool.onFrame = (frame, at) => {
    const m = newMessageMarker(frame);
    if (!m) return;
    deliveries++;
    lastDelivery = at;
    got[m.seq] = (got[m.seq] ?? 0) + 1;
    if (got[m.seq] === 1) reached++;
    last[m.seq] = at;
    if (got[m.seq] === o.recipients) complete++;
  };
  let seq = 0;
  const text = () => {
    const s = seq++;
    const t = performance.now();
    sentAt[s] = t;
    return marker(s, t);
  };
  const start = performance.now();
  let acks: number[] = [];
  let errors = 0;
  let acked = 0;
  if (o.rate) {
    const sender = paced(o.url, o.path, o.token);
    const interval = 1000 / o.rate;
    const total = Math.round(o.seconds * o.rate);
    const pending: Array<Promise<number>> = [];
    for (let i = 0; i < total; i++) {
      const due = start + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(sender.post(JSON.stringify(o.body(text()))));
    }
    acks = await Promise.all(pending);
    sender.close();
    errors = acks.filter((a) => a < 0).length;
    acks = acks.filter((a) => a >= 0).sort((a, b) => a - b);
    acked = acks.length;
  } else {
    const r = await load({
      url: o.url,
      method: "POST",
      path: o.path,
      connections: 1,
      seconds: o.seconds,
      headersFor: () => ({ "content-type": "application/json", ...(o.token ? { accesstoken: o.token } : {}) }),
      body: () => JSON.stringify(o.body(text())),
    });
    acks = r.latencies;
    acked = r.ok;
    errors = r.non2xx + r.errors + r.timeouts;
  }
  // Wait for the stragglers: until every message is complete, or 2 s pass without a delivery.
  for (let idle = 0; complete < Math.max(acked, reached) && idle < 2000; ) {
    const before = deliveries;
    await new Promise((r) => setTimeout(r, 100));
    idle = deliveries === before ? idle + 100 : 0;
  }
  o.pool.onFrame = null;
  const latencies: number[] = [];
  for (let s = 0; s < seq; s++) if (got[s] === o.recipients) latencies.push(last[s] - sentAt[s]);
  // autocannon builds a request or two that it never sends: count what was acknowledged or seen.
  const messages = Math.max(acked, reached);
  latencies.sort((a, b) => a - b);
  const seconds = ((lastDelivery || performance.now()) - start) / 1000;
  return {
    messages,
    deliveries,
    perSecond: deliveries / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    incomplete: messages - latencies.length,
    ackP50: percentile(acks, 50),
    ackP99: percentile(acks, 99),
    errors,
    seconds,
  };
}
