// Fixed-window counters kept in memory, per instance (API.md §10: 429 with the envelope).
import { tooManyRequests } from "./errors.js";

export class RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly enabled: boolean) {}

  /** Counts one hit for `key`; throws 429 once more than `limit` hits fall in one window. */
  hit(key: string, limit: number, windowMs: number, now = Date.now()): void {
    if (!this.enabled) return;
    if (this.windows.size > 100_000) this.sweep(now);
    const w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      this.windows.set(key, { count: 1, resetAt: now + windowMs });
      return;
    }
    w.count += 1;
    if (w.count > limit) throw tooManyRequests();
  }

  private sweep(now: number): void {
    for (const [key, w] of this.windows) if (w.resetAt <= now) this.windows.delete(key);
  }
}
