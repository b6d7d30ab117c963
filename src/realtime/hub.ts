// The open SSE streams of this process, by device, and the delivery of events to them (§6).
//
// Streams are written on their sockets directly, in HTTP/1.1 chunks framed here: the streams that
// get the same events share one encoded buffer (a message to a 1000-member room is encoded once,
// not once per member), and each stream costs one write (one writev) per delivery. Through
// ServerResponse each write was encoded and framed anew per stream and corked until the next
// tick. An event with personal fields is one head buffer shared by all its recipients and a small
// tail per recipient (frames.ts): sockets write a shared buffer without copying it.
import type { Socket } from "node:net";
import type { OutgoingEvent } from "./events.js";
import { frame, splitFrame, type SplitFrame } from "./frames.js";

export interface Stream {
  deviceId: number;
  userId: number;
  socket: Socket;
  /** Whether the response uses chunked transfer encoding (every HTTP/1.1 client). */
  chunked: boolean;
}

/** A stream whose client reads slower than this much unsent data is dropped; it re-syncs. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const PING_INTERVAL_MS = 5000;
export const PING = 'data: {"type":"PING"}\n\n';

const LAST_CHUNK = "0\r\n\r\n";

/**
 * One encoded payload, with its chunk framing, written to any number of streams. `parts` are its
 * own text and, between, buffers shared with other payloads (the heads of personal events).
 */
class Payload {
  private raw: Buffer[] | null = null;
  private framed: Buffer[] | null = null;
  constructor(private readonly parts: Array<string | Buffer>) {}
  for(stream: Stream): Buffer[] {
    if (!stream.chunked) return (this.raw ??= buffers(this.parts));
    this.framed ??= buffers([`${byteLength(this.parts).toString(16)}\r\n`, ...this.parts, "\r\n"]);
    return this.framed;
  }
}

const byteLength = (parts: Array<string | Buffer>) => parts.reduce((n, p) => n + (typeof p === "string" ? Buffer.byteLength(p) : p.length), 0);

/** Each run of text as one buffer, the shared buffers as they are. */
function buffers(parts: Array<string | Buffer>): Buffer[] {
  const out: Buffer[] = [];
  let text = "";
  for (const part of parts) {
    if (typeof part === "string") {
      text += part;
      continue;
    }
    if (text) out.push(Buffer.from(text));
    text = "";
    out.push(part);
  }
  if (text) out.push(Buffer.from(text));
  return out;
}

export class SseHub {
  private readonly byDevice = new Map<number, Set<Stream>>();
  private readonly devicesByUser = new Map<number, Set<number>>();
  private readonly timer: NodeJS.Timeout;
  private pending: OutgoingEvent[] = [];
  /** Streams dropped because their client did not keep up. */
  dropped = 0;

  /** `maxPerDevice`: a device opening one stream more loses its oldest (a leaked or looping client cannot pile them up). */
  constructor(private readonly maxPerDevice: number) {
    this.timer = setInterval(() => this.broadcast(new Payload([PING])), PING_INTERVAL_MS);
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
    // A Set iterates in insertion order: the first stream is the oldest.
    for (const oldest of streams) {
      if (streams.size < this.maxPerDevice) break;
      this.end(oldest);
      streams.delete(oldest);
    }
    streams.add(stream);
    let devices = this.devicesByUser.get(stream.userId);
    if (!devices) this.devicesByUser.set(stream.userId, (devices = new Set()));
    devices.add(stream.deviceId);
    this.write(stream, new Payload([PING]));
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
   * Sends each event to every open stream of its recipient devices on this process. Events
   * handed over in one tick (e.g. by the transactions of one group commit) go out together:
   * each event is serialized once, and a stream gets all of its frames in one write.
   */
  deliver(events: OutgoingEvent[]): void {
    if (this.pending.length === 0) process.nextTick(() => this.flush());
    this.pending.push(...events);
  }

  /** Ends every stream (shutdown): clients reconnect elsewhere and re-sync. */
  closeAll(): void {
    clearInterval(this.timer);
    for (const streams of this.byDevice.values()) for (const s of streams) this.end(s);
    this.byDevice.clear();
    this.devicesByUser.clear();
  }

  /** Ends the response properly (the last chunk), so the client sees the stream close, not fail. */
  private end(stream: Stream): void {
    stream.socket.end(stream.chunked ? LAST_CHUNK : "");
  }

  private flush(): void {
    const events = this.pending;
    this.pending = [];
    // Which events each stream gets, as a key ("0,2,"; "1@7," for event 1 with the personal
    // fields of user 7); streams with the same key share a payload.
    const keys = new Map<Stream, string>();
    const closing = new Set<Stream>();
    events.forEach((event, i) => {
      const targets = new Set<number>();
      if (event.allUsers) for (const id of this.byDevice.keys()) targets.add(id);
      for (const userId of event.userIds) for (const id of this.devicesByUser.get(userId) ?? []) targets.add(id);
      for (const id of event.deviceIds ?? []) targets.add(id);
      for (const id of event.excludeDeviceIds ?? []) targets.delete(id);
      if (event.closeStreams) {
        for (const id of targets) for (const stream of this.byDevice.get(id) ?? []) closing.add(stream);
        return;
      }
      const personal = event.personal !== undefined;
      for (const id of targets) {
        for (const stream of this.byDevice.get(id) ?? []) keys.set(stream, `${keys.get(stream) ?? ""}${i}${personal ? `@${stream.userId}` : ""},`);
      }
    });
    const frames = new Map<number, string>();
    const splits = new Map<number, SplitFrame>();
    const parts = (entry: string): Array<string | Buffer> => {
      const [i, userId] = entry.split("@").map(Number);
      const { data, personal } = events[i];
      if (!personal) {
        let f = frames.get(i);
        if (f === undefined) frames.set(i, (f = frame(data)));
        return [f];
      }
      let split = splits.get(i);
      if (!split) splits.set(i, (split = splitFrame(data, personal)));
      return [split.head, split.tail(userId)];
    };
    const payloads = new Map<string, Payload>();
    for (const [stream, key] of keys) {
      let payload = payloads.get(key);
      if (!payload) payloads.set(key, (payload = new Payload(key.slice(0, -1).split(",").flatMap(parts))));
      this.write(stream, payload);
    }
    for (const stream of closing) this.drop(stream);
  }

  /** Forgets and ends a stream (its device was logged out). */
  private drop(stream: Stream): void {
    this.remove(stream);
    if (!stream.socket.destroyed) this.end(stream);
  }

  private broadcast(payload: Payload): void {
    for (const streams of this.byDevice.values()) for (const s of streams) this.write(s, payload);
  }

  private write(stream: Stream, payload: Payload): void {
    if (stream.socket.destroyed) return;
    if (stream.socket.writableLength > MAX_BUFFERED_BYTES) {
      this.dropped++;
      stream.socket.destroy();
      return;
    }
    const buffers = payload.for(stream);
    if (buffers.length === 1) return void stream.socket.write(buffers[0]);
    // Corked, the parts leave in one writev, the shared ones without a copy.
    stream.socket.cork();
    for (const buffer of buffers) stream.socket.write(buffer);
    stream.socket.uncork();
  }
}
