// The Redis pub/sub event bus (REDIS_URL): each instance delivers its own events to its own
// streams directly and publishes them for the others, so losing Redis never silences an
// instance locally.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { BusReceiver, EventBus, Revocation } from "./bus.js";
import type { OutgoingEvent } from "./events.js";

/** What travels on the channel: events, or a revocation, from one instance. */
type Wire = { from: string; events: OutgoingEvent[] } | { from: string; revoke: Revocation };

export class RedisBus implements EventBus {
  private readonly instance = randomUUID();
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
    this.sub.on("message", (_channel: string, text: string) => this.receive(text));
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
      .then(() => undefined, (err: Error) => this.report(err))
      .finally(() => {
        this.subscribed = null;
      });
    return this.subscribed;
  }

  publish(events: OutgoingEvent[]): void {
    this.receiver.deliver(events);
    void this.send({ from: this.instance, events });
  }

  async revoke(revocation: Revocation): Promise<void> {
    this.receiver.revoke(revocation);
    await this.send({ from: this.instance, revoke: revocation });
  }

  private async send(wire: Wire): Promise<void> {
    if (this.pub.status !== "ready") return this.report(new Error(`redis is ${this.pub.status}`));
    await this.pub.publish(this.channel, JSON.stringify(wire)).catch((err: Error) => this.report(err));
  }

  healthy(): boolean {
    return this.pub.status === "ready" && this.sub.status === "ready";
  }

  async close(): Promise<void> {
    this.pub.disconnect();
    this.sub.disconnect();
  }

  private receive(text: string): void {
    let parsed: Wire;
    try {
      parsed = JSON.parse(text);
    } catch {
      return;
    }
    if (parsed.from === this.instance) return;
    if ("revoke" in parsed) this.receiver.revoke(parsed.revoke);
    else this.receiver.deliver(parsed.events);
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
