// Fixed-window rate limits (API.md §10: 429 in the envelope, with Retry-After). The counters are
// shared by every instance: rows of `rate_limits` in the database, or Redis keys when REDIS_URL
// is set (src/http/redisCounter.ts), so a limit holds however many servers answer.
//
// A shared count per request would put a database write on every authenticated request (on
// SQLite it halved the requests per second of GET /me). Instead an instance reserves a batch of
// hits at once (1/50 of the limit, at least 1) and spends it locally: every hit is still counted
// in the shared window before it is allowed, so all instances together never allow more than the
// limit. What they may lose is the unspent rest of a batch when the window ends (less than one
// batch per instance and key). Small limits (the sign-up ones) count every hit.
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import type { Logger } from "pino";
import type { Db } from "../db/index.js";
import { tooManyRequests } from "./errors.js";

/** Adds `by` hits to the window of `key` (starting one if none is open); answers its total. */
export interface HitCounter {
  increment(key: string, by: number, windowMs: number, now: number): Promise<{ hits: number; resetAt: number }>;
  close(): Promise<void>;
}

const BATCHES_PER_LIMIT = 50;
/** Past this many keys, leases of ended windows are dropped. */
const MAX_LEASES = 100_000;

/** Hits this instance has reserved in a shared window and not spent yet. */
interface Lease {
  left: number;
  resetAt: number;
  /** The shared window is past its limit: every hit is refused until it ends. */
  exhausted: boolean;
}

export class RateLimiter {
  private readonly leases = new Map<string, Lease>();

  /** `counter` null: RATE_LIMIT=off, nothing is counted. */
  constructor(private readonly counter: HitCounter | null) {}

  /** Counts one hit for `key`; throws 429 (with its Retry-After) once more than `limit` fall in one window. */
  async hit(key: string, limit: number, windowMs: number): Promise<void> {
    if (!this.counter) return;
    let now = Date.now();
    let lease = this.leases.get(key);
    if (lease && lease.resetAt > now) {
      if (lease.exhausted) throw refused(lease.resetAt, now);
      if (lease.left > 0) {
        lease.left--;
        return;
      }
    }
    const batch = Math.max(1, Math.floor(limit / BATCHES_PER_LIMIT));
    const { hits, resetAt } = await this.counter.increment(key, batch, windowMs, now);
    now = Date.now();
    // Of the hits reserved, (hits - batch, hits], those within the limit may be spent.
    const granted = Math.min(batch, limit - (hits - batch));
    // Concurrent requests may have reserved in this window too: their rest adds up.
    lease = this.leases.get(key);
    const left = (lease && lease.resetAt === resetAt ? lease.left : 0) + Math.max(0, granted);
    if (this.leases.size >= MAX_LEASES) this.sweep(now);
    this.leases.set(key, { left: Math.max(0, left - 1), resetAt, exhausted: left === 0 });
    if (left === 0) throw refused(resetAt, now);
  }

  async close(): Promise<void> {
    await this.counter?.close();
  }

  private sweep(now: number): void {
    for (const [key, lease] of this.leases) if (lease.resetAt <= now) this.leases.delete(key);
  }
}

const refused = (resetAt: number, now: number) => tooManyRequests(Math.max(1, Math.ceil((resetAt - now) / 1000)));

export const SWEEP_INTERVAL_MS = 60_000;

/** Windows as rows: one atomic upsert per reservation on both engines; expired rows are swept each minute. */
export class DbCounter implements HitCounter {
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    sweepDb: Db,
    log: Logger,
  ) {
    this.sweeper = setInterval(() => {
      sweepDb
        .deleteFrom("rateLimits")
        .where("resetAt", "<=", Date.now())
        .execute()
        .catch((err: Error) => log.warn({ err }, "rate limits: sweeping expired windows failed"));
    }, SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  async increment(key: string, by: number, windowMs: number, now: number): Promise<{ hits: number; resetAt: number }> {
    const expired = sql<boolean>`rate_limits.reset_at <= ${now}`;
    return this.db
      .insertInto("rateLimits")
      .values({ key, hits: by, resetAt: now + windowMs })
      .onConflict((oc) =>
        oc.column("key").doUpdateSet({
          hits: sql<number>`CASE WHEN ${expired} THEN excluded.hits ELSE rate_limits.hits + excluded.hits END`,
          resetAt: sql<number>`CASE WHEN ${expired} THEN excluded.reset_at ELSE rate_limits.reset_at END`,
        }),
      )
      .returning(["hits", "resetAt"])
      .executeTakeFirstOrThrow();
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}

/**
 * The general limit: `perMinute` requests per access token (counted per device: one token each)
 * or per bot API key. Registered after the auth hook, so the caller is known; requests without a
 * token are limited where they are handled (sign-up, verify).
 */
export function registerTokenLimit(app: FastifyInstance, limiter: RateLimiter, perMinute: number): void {
  app.addHook("onRequest", async (request) => {
    const kind = request.routeOptions.config.auth;
    if (kind === "device") await limiter.hit(`token:${request.auth.device.id}`, perMinute, 60_000);
    else if (kind === "apiKey") await limiter.hit(`apikey:${request.bot.apiKeyId}`, perMinute, 60_000);
  });
}
