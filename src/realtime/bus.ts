// The event bus: events published after commit reach the SSE streams of every instance.
// In-process by default; with REDIS_URL through Redis pub/sub (redisBus.ts).
import type { EventSink, OutgoingEvent } from "./events.js";

export interface EventBus extends EventSink {
  /** false while a shared transport (Redis) is unreachable. */
  healthy(): boolean;
  close(): Promise<void>;
}

export type Deliver = (events: OutgoingEvent[]) => void;

export class LocalBus implements EventBus {
  constructor(private readonly deliver: Deliver) {}
  publish(events: OutgoingEvent[]): void {
    this.deliver(events);
  }
  healthy(): boolean {
    return true;
  }
  async close(): Promise<void> {}
}
