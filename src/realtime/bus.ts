// The event bus: events published after commit reach the SSE streams of every instance, and
// token revocations reach every instance's token cache. In-process by default; across the
// processes of `WORKERS=N` through the primary (clusterBus.ts); with REDIS_URL through Redis
// pub/sub, across hosts (redisBus.ts).
import type { EventSink, OutgoingEvent } from "./events.js";

/** Whose cached authentications must be forgotten (src/modules/auth/tokenCache.ts). */
export interface Revocation {
  userIds?: number[];
  deviceIds?: number[];
}

/** What an instance does with what reaches it over the bus. */
export interface BusReceiver {
  deliver(events: OutgoingEvent[]): void;
  revoke(revocation: Revocation): void;
}

export interface EventBus extends EventSink {
  /**
   * Applies `revocation` here at once and sends it to every other instance; resolves once it has
   * been handed to the transport (never rejects: the cache's short TTL covers a lost one).
   */
  revoke(revocation: Revocation): Promise<void>;
  /** false while a shared transport (Redis, the cluster primary) is unreachable. */
  healthy(): boolean;
  close(): Promise<void>;
}

export class LocalBus implements EventBus {
  constructor(private readonly receiver: BusReceiver) {}
  publish(events: OutgoingEvent[]): void {
    this.receiver.deliver(events);
  }
  async revoke(revocation: Revocation): Promise<void> {
    this.receiver.revoke(revocation);
  }
  healthy(): boolean {
    return true;
  }
  async close(): Promise<void> {}
}
