// Fixed-window rate limits (API.md §10: 429 in the envelope, with Retry-After). The counters are
// shared by every instance: rows of `rate_limits` in the database, or Redis keys when REDIS_URL
// is set (src/http/redisCounter.ts), so a limit holds however many servers answer.
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import type { Logger } from "pino";
import type { Db } from "../db/index.js";
import { tooManyRequests } from "./errors.js";

/** Counts one hit in the window of `key` (starting one if none is open). */
export interface HitCounter {
  increment(key: string, windowMs: number, now: number): Promise<{ hits: number; resetAt: number }>;
  close(): Promise<void>;
}

export class RateLimiter {
  /** `counter` null: RATE_LIMIT=off, nothing is counted. */
  constructor(private readonly counter: HitCounter | null) {}

  /** Counts one hit for `key`; throws 429 (with its Retry-After) once more than `limit` fall in one window. */
  async hit(key: string, limit: number, windowMs: number): Promise<void> {
    if (!this.counter) return;
    const now = Date.now();
    const { hits, resetAt } = await this.counter.increment(key, windowMs, now);
    if (hits > limit) throw tooManyRequests(Math.max(1, Math.ceil((resetAt - now) / 1000)));
  }

  async close(): Promise<void> {
    await this.counter?.close();
  }
}

export const SWEEP_INTERVAL_MS = 60_000;

/** Windows as rows: one upsert per hit, atomic on both engines; expired rows are swept each minute. */
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

  async increment(key: string, windowMs: number, now: number): Promise<{ hits: number; resetAt: number }> {
    const expired = sql<boolean>`rate_limits.reset_at <= ${now}`;
    return this.db
      .insertInto("rateLimits")
      .values({ key, hits: 1, resetAt: now + windowMs })
      .onConflict((oc) =>
        oc.column("key").doUpdateSet({
          hits: sql<number>`CASE WHEN ${expired} THEN 1 ELSE rate_limits.hits + 1 END`,
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
