// HTTP load with autocannon (the same tool for the baseline and every scenario), latencies kept
// at sub-millisecond resolution from its per-response events, plus small statistics helpers.
import autocannon from "autocannon";

export const percentile = (sorted: number[], p: number): number => {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
};

export interface LoadResult {
  /** 2xx responses per second after the warm-up. */
  rps: number;
  /** 2xx responses after the warm-up. */
  ok: number;
  /** 2xx responses including the warm-up. */
  total: number;
  warmupSeconds: number;
  /** performance.now() at the end of the warm-up. */
  startedAt: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  /** Sorted latencies of 2xx responses to requests started after the warm-up, ms. */
  latencies: number[];
  p50: number;
  p99: number;
}

export interface LoadOptions {
  url: string;
  method?: "GET" | "POST";
  path: string;
  connections: number;
  seconds: number;
  /** Requests per second over all connections (paced sender); unset = as fast as answered. */
  overallRate?: number;
  /** Headers for the n-th connection (each connection can be a different user). */
  headersFor?: (connection: number) => Record<string, string>;
  /** Body of each request of a connection, built when it is sent. */
  body?: (headers: Record<string, string>) => string;
}

/** Runs autocannon and returns throughput and fine-grained latencies of successful responses. */
/**
 * Requests started in the first WARMUP_S of a closed-loop run are left out of the numbers: when
 * many connections open at once against a saturated server, the first requests of some of them
 * wait for seconds behind the others (a start-up transient, not the steady state measured here).
 */
export const WARMUP_S = 1;

export async function load(opts: LoadOptions): Promise<LoadResult> {
  let nextConnection = 0;
  const warmup = opts.connections > 1 ? Math.min(WARMUP_S, opts.seconds / 5) : 0;
  const samples: Array<{ at: number; ms: number }> = [];
  let total2xx = 0;
  const instance = autocannon({
    url: opts.url + opts.path,
    method: opts.method ?? "GET",
    connections: opts.connections,
    duration: opts.seconds + warmup,
    ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
    timeout: 30,
    setupClient: opts.headersFor ? (client) => client.setHeaders(opts.headersFor!(nextConnection++)) : undefined,
    requests: opts.body ? [{ setupRequest: (req) => ({ ...req, body: opts.body!(req.headers ?? {}) }) }] : undefined,
  });
  const t0 = performance.now();
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) {
      total2xx++;
      samples.push({ at: performance.now(), ms: responseTime });
    }
  });
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance.on("done", resolve);
    instance.on("error", reject);
  });
  const end = performance.now();
  const from = t0 + warmup * 1000;
  const latencies = samples.filter((s) => s.at - s.ms >= from).map((s) => s.ms);
  latencies.sort((a, b) => a - b);
  const counted = samples.filter((s) => s.at >= from).length;
  const seconds = (end - from) / 1000;
  return {
    rps: counted / seconds,
    ok: counted,
    total: total2xx,
    warmupSeconds: warmup,
    startedAt: from,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds,
    latencies,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}
