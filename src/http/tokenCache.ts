// Resolved access tokens kept in memory, so that an authenticated request costs no query: the
// device and user lookups were two of the eight statements of a send. Whatever can end a token
// or change what it resolves to (logout, re-binding, a new sign-in, profile changes, account
// deletion) revokes the cached entries on every instance through the bus (src/realtime/bus.ts);
// expiry is checked on every hit, and the short TTL bounds what a revocation lost with Redis
// could leave behind.
import type { Revocation } from "../realtime/bus.js";
import type { DeviceAuth } from "./auth.js";

const TOKEN_CACHE_TTL_MS = 10_000;
const MAX_ENTRIES = 100_000;

interface Entry {
  auth: DeviceAuth;
  /** Until when the entry may answer (epoch ms). */
  until: number;
}

export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every revocation: a lookup that started before one must not fill the cache. */
  private generation = 0;

  get(token: string, now: number): DeviceAuth | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.until > now) return entry.auth;
    this.entries.delete(token);
    return undefined;
  }

  /** What `fill` needs from before the lookup began. */
  mark(): number {
    return this.generation;
  }

  /** Keeps `auth` until `until` unless something was revoked since `mark` (it may be stale). */
  fill(mark: number, auth: DeviceAuth, until: number, now: number): void {
    if (mark !== this.generation || until <= now) return;
    // An expired entry leaves on its token's next use; a token not used again would stay until
    // MAX_ENTRIES pushed it out (~800 bytes each, whatever its age). The oldest fills come first:
    // dropping the expired ones there keeps about the tokens of the last TTL.
    for (const [token, entry] of this.entries) {
      if (entry.until > now && this.entries.size < MAX_ENTRIES) break;
      this.entries.delete(token);
    }
    this.entries.set(auth.token, { auth, until: Math.min(until, now + TOKEN_CACHE_TTL_MS) });
  }

  revoke({ userIds = [], deviceIds = [] }: Revocation): void {
    this.generation++;
    if (userIds.length === 0 && deviceIds.length === 0) return;
    const users = new Set(userIds);
    const devices = new Set(deviceIds);
    for (const [token, { auth }] of this.entries) {
      if (users.has(auth.user.id) || devices.has(auth.device.id)) this.entries.delete(token);
    }
  }
}
