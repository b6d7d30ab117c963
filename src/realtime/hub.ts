// The open SSE streams of this process, by device, and the delivery of events to them (§6).
import type { ServerResponse } from "node:http";
import type { OutgoingEvent } from "./events.js";

export interface Stream {
  deviceId: number;
  userId: number;
  res: ServerResponse;
}

/** A stream whose client reads slower than this much unsent data is dropped; it re-syncs. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
export const PING_INTERVAL_MS = 5000;
export const PING = 'data: {"type":"PING"}\n\n';

export class SseHub {
  private readonly byDevice = new Map<number, Set<Stream>>();
  private readonly devicesByUser = new Map<number, Set<number>>();
  private readonly timer: NodeJS.Timeout;
  /** Streams dropped because their client did not keep up. */
  dropped = 0;

  constructor() {
    this.timer = setInterval(() => this.broadcast(PING), PING_INTERVAL_MS);
    this.timer.unref();
  }

  get size(): number {
    let n = 0;
    for (const set of this.byDevice.values()) n += set.size;
    return n;
  }

  add(stream: Stream): void {
    let streams = this.byDevice.get(stream.deviceId);
    if (!streams) this.byDevice.set(stream.deviceId, (streams = new Set()));
    streams.add(stream);
    let devices = this.devicesByUser.get(stream.userId);
    if (!devices) this.devicesByUser.set(stream.userId, (devices = new Set()));
    devices.add(stream.deviceId);
    stream.res.write(PING);
  }

  remove(stream: Stream): void {
    const streams = this.byDevice.get(stream.deviceId);
    if (!streams?.delete(stream) || streams.size > 0) return;
    this.byDevice.delete(stream.deviceId);
    const devices = this.devicesByUser.get(stream.userId);
    devices?.delete(stream.deviceId);
    if (devices?.size === 0) this.devicesByUser.delete(stream.userId);
  }

  /**
   * Sends each event to every open stream of its recipient devices on this process. Each event
   * is serialized once, and a stream gets all of its frames of one batch in one write.
   */
  deliver(events: OutgoingEvent[]): void {
    const batches = new Map<Stream, string>();
    for (const event of events) {
      const targets = new Set<number>();
      if (event.allUsers) for (const id of this.byDevice.keys()) targets.add(id);
      for (const userId of event.userIds) for (const id of this.devicesByUser.get(userId) ?? []) targets.add(id);
      for (const id of event.deviceIds ?? []) targets.add(id);
      for (const id of event.excludeDeviceIds ?? []) targets.delete(id);
      if (targets.size === 0) continue;
      const frame = `data: ${JSON.stringify(event.data)}\n\n`;
      for (const id of targets) for (const stream of this.byDevice.get(id) ?? []) batches.set(stream, (batches.get(stream) ?? "") + frame);
    }
    for (const [stream, frames] of batches) this.write(stream, frames);
  }

  /** Ends every stream (shutdown): clients reconnect elsewhere and re-sync. */
  closeAll(): void {
    clearInterval(this.timer);
    for (const streams of this.byDevice.values()) for (const s of streams) s.res.end();
    this.byDevice.clear();
    this.devicesByUser.clear();
  }

  private broadcast(frame: string): void {
    for (const streams of this.byDevice.values()) for (const s of streams) this.write(s, frame);
  }

  private write(stream: Stream, frame: string): void {
    if (stream.res.destroyed) return;
    if (stream.res.writableLength > MAX_BUFFERED_BYTES) {
      this.dropped++;
      stream.res.destroy();
      return;
    }
    stream.res.write(frame);
  }
}
