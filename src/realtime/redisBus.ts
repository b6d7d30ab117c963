// The Redis pub/sub event bus (REDIS_URL): each instance delivers its own events to its own
// streams directly and publishes them for the others, so losing Redis never silences an
// instance locally.
//
// A publish is cut into messages of at most about CHUNK_BYTES, between events, and published a
// chunk at a time with back-pressure. Each message starts with the publishing instance's id, and
// an instance skips its own messages before reading them as text.
//
// Creating a 1000-member room published 1000 NEW_ROOM events that each carried the 1000-member
// list: about 440 MB of JSON (6.3 MB for 120 members; it grows with the square). That was one
// Redis message, built whole, and JSON.parse'd by every instance including the sender; Redis
// closes a subscriber whose unread messages pass 32 MB (the default client-output-buffer-limit
// pubsub). Creating the room took 33 s and the server reached 1,214 MB RSS with WORKERS=1 (the
// same without Redis: 4.4 s, 359 MB); paced, skipped by the sender, in chunks: 2.3 s, 440 MB.
// Room events now carry the list once for all members who see the same one (events.ts,
// `personal`), but in contact mode strangers still see different lists, one event each.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { BusReceiver, EventBus, Revocation } from "./bus.js";
import type { OutgoingEvent } from "./events.js";

/**
 * What travels on the channel after the sender's id and a space: events, or a revocation.
 * (The id goes first, outside the JSON, so that an instance can skip its own messages unread.)
 */
type Wire = { events: OutgoingEvent[] } | { revoke: Revocation };

/** Events are packed into messages of about this size; a bigger single event goes alone. */
export const CHUNK_BYTES = 256 * 1024;
/** Published and not yet answered by Redis at most (plus one chunk): the publisher's back-pressure. */
const IN_FLIGHT_BYTES = 1024 * 1024;

export class RedisBus implements EventBus {
  private readonly instance = randomUUID();
  /** `instance` and a space: how this instance's own messages start. */
  private readonly ownPrefix = Buffer.from(`${this.instance} `);
  private readonly pub: Redis;
  private readonly sub: Redis;
  private lost = false;

  private readonly channel: string;

  /** `deployment` namespaces the channel: deployments sharing one Redis never see each other's events. */
  constructor(
    url: string,
    deployment: string,
    private readonly receiver: BusReceiver,
    private readonly log: Logger,
  ) {
    this.channel = `spika:${deployment}:events`;
    const options = {
      // Never queue while disconnected: stale events would burst out on reconnect, and
      // clients re-sync anyway. Reconnect forever with a capped backoff.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times: number) => Math.min(100 * 2 ** times, 5000),
      lazyConnect: true,
    };
    this.pub = new Redis(url, options);
    this.sub = new Redis(url, { ...options, autoResubscribe: false });
    for (const client of [this.pub, this.sub]) {
      client.on("error", (err) => this.report(err));
      client.on("ready", () => this.recovered());
    }
    this.sub.on("ready", () => void this.subscribe());
    // As Buffers: ioredis turns a message into a string only for "message" listeners, and
    // this instance's own messages are skipped before that.
    this.sub.on("messageBuffer", (_channel: Buffer, message: Buffer) => this.receive(message));
  }

  /** Connects; when Redis is down the server starts anyway (degraded) and keeps retrying. */
  async start(): Promise<void> {
    await Promise.all([this.pub.connect().catch((err: Error) => this.report(err)), this.sub.connect().catch((err: Error) => this.report(err))]);
    if (this.sub.status === "ready") await this.subscribe();
  }

  private subscribed: Promise<void> | null = null;

  /** (Re)subscribes after every (re)connection. */
  private subscribe(): Promise<void> {
    this.subscribed ??= this.sub
      .subscribe(this.channel)
      .then(
        () => undefined,
        (err: Error) => this.report(err),
      )
      .finally(() => {
        this.subscribed = null;
      });
    return this.subscribed;
  }

  /** Events waiting to be published, in order; `next` is the first one of `queue[0]` not sent. */
  private readonly queue: OutgoingEvent[][] = [];
  private next = 0;
  /** Bytes published and not yet answered by Redis. */
  private inFlight = 0;

  publish(events: OutgoingEvent[]): void {
    this.receiver.deliver(events);
    if (!this.ready()) return;
    this.queue.push(events);
    this.pump();
  }

  /**
   * Publishes queued events, serialized a chunk at a time, while less than IN_FLIGHT_BYTES are
   * unanswered. Serializing everything at once kept the whole publish in memory twice (the JSON,
   * then ioredis' write buffer), and Redis closes a subscriber whose unread messages pass 32 MB
   * (client-output-buffer-limit pubsub): 1000 messages of 440 KB written at once reached 9 of
   * 1000 at the subscriber, paced they all arrived and the publisher's RSS stayed at 149 MB.
   * One connection publishes in order, so the other instances get the chunks in order.
   */
  private pump(): void {
    while (this.inFlight < IN_FLIGHT_BYTES && this.queue.length > 0) {
      const events = this.queue[0];
      const chunk: string[] = [];
      let bytes = 0;
      while (this.next < events.length) {
        const json = JSON.stringify(events[this.next]);
        if (chunk.length > 0 && bytes + json.length > CHUNK_BYTES) break;
        chunk.push(json);
        bytes += json.length + 1;
        this.next++;
      }
      if (this.next >= events.length) {
        this.queue.shift();
        this.next = 0;
      }
      if (chunk.length === 0) continue;
      this.inFlight += bytes;
      void this.send(`{"events":[${chunk.join(",")}]}`).finally(() => {
        this.inFlight -= bytes;
        this.pump();
      });
    }
  }

  async revoke(revocation: Revocation): Promise<void> {
    this.receiver.revoke(revocation);
    if (this.ready()) await this.send(JSON.stringify({ revoke: revocation } satisfies Wire));
  }

  private ready(): boolean {
    if (this.pub.status === "ready") return true;
    // Never queue while disconnected: stale events would burst out on reconnect (clients re-sync).
    this.queue.length = 0;
    this.next = 0;
    this.report(new Error(`redis is ${this.pub.status}`));
    return false;
  }

  private async send(json: string): Promise<void> {
    await this.pub.publish(this.channel, `${this.instance} ${json}`).catch((err: Error) => this.report(err));
  }

  healthy(): boolean {
    return this.pub.status === "ready" && this.sub.status === "ready";
  }

  async close(): Promise<void> {
    this.pub.disconnect();
    this.sub.disconnect();
  }

  private receive(message: Buffer): void {
    // This instance delivered its own events when it published them.
    if (message.length >= this.ownPrefix.length && this.ownPrefix.equals(message.subarray(0, this.ownPrefix.length))) return;
    const space = message.indexOf(0x20);
    let parsed: Wire;
    try {
      parsed = JSON.parse(message.toString("utf8", space + 1));
    } catch {
      return;
    }
    if ("revoke" in parsed) this.receiver.revoke(parsed.revoke);
    else if (Array.isArray(parsed.events)) this.receiver.deliver(parsed.events);
  }

  private report(err: Error): void {
    if (this.lost) return;
    this.lost = true;
    this.log.error({ err }, "event bus: redis unavailable; events reach this instance's streams only until it is back");
  }

  private recovered(): void {
    if (!this.lost || !this.healthy()) return;
    this.lost = false;
    this.log.info("event bus: redis is back");
  }
}
