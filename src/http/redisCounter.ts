// Rate-limit windows as Redis keys (REDIS_URL): INCRBY and the window's expiry in one round trip.
// Redis itself drops expired windows. While Redis is unreachable the database counts instead,
// so the limits keep holding (a window may restart once at the switch).
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { HitCounter } from "./rateLimit.js";

// Returns the window's hits and the milliseconds left in it.
const HIT = `
local hits = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {hits, ttl}`;

type WithHit = Redis & { spikaHit(key: string, windowMs: number, by: number): Promise<[number, number]> };

export class RedisCounter implements HitCounter {
  private readonly redis: WithHit;
  private lost = false;

  /** `prefix` namespaces the keys per deployment, like the event channel. */
  constructor(
    url: string,
    private readonly prefix: string,
    private readonly fallback: HitCounter,
    private readonly log: Logger,
  ) {
    this.redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times: number) => Math.min(100 * 2 ** times, 5000),
      lazyConnect: true,
    }) as WithHit;
    this.redis.defineCommand("spikaHit", { numberOfKeys: 1, lua: HIT });
    this.redis.on("error", (err: Error) => this.report(err));
    this.redis.on("ready", () => {
      if (this.lost) this.log.info("rate limits: redis is back");
      this.lost = false;
    });
  }

  async start(): Promise<void> {
    await this.redis.connect().catch((err: Error) => this.report(err));
  }

  async increment(key: string, by: number, windowMs: number, now: number): Promise<{ hits: number; resetAt: number }> {
    if (this.redis.status === "ready") {
      try {
        const [hits, ttl] = await this.redis.spikaHit(this.prefix + key, windowMs, by);
        return { hits, resetAt: now + ttl };
      } catch (err) {
        this.report(err as Error);
      }
    }
    return this.fallback.increment(key, by, windowMs, now);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    await this.fallback.close();
  }

  private report(err: Error): void {
    if (this.lost) return;
    this.lost = true;
    this.log.error({ err }, "rate limits: redis unavailable; counting in the database until it is back");
  }
}
