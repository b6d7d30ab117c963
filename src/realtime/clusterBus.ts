// The bus between the processes of one server (`WORKERS=N`, src/cluster.ts) when there is no
// Redis: each worker delivers its own events to its own streams at once and sends them to the
// primary over the cluster IPC channel, and the primary relays them to every other worker.
import cluster, { type Worker } from "node:cluster";
import type { BusReceiver, EventBus, Revocation } from "./bus.js";
import type { OutgoingEvent } from "./events.js";

/** Longest a revocation waits for the primary's answer (it may be restarting workers, or gone). */
const ACK_TIMEOUT_MS = 1000;

/** What travels over IPC; `ack` asks the primary to answer once it has relayed the message. */
type Wire = { spika: "bus"; events: OutgoingEvent[] } | { spika: "bus"; revoke: Revocation; ack: number };
type Ack = { spika: "bus-ack"; ack: number };

/** The worker's side. */
export class ClusterBus implements EventBus {
  private pending: OutgoingEvent[] = [];
  private readonly acks = new Map<number, () => void>();
  private seq = 0;
  private readonly onMessage = (msg: Wire | Ack) => this.receive(msg);

  constructor(private readonly receiver: BusReceiver) {
    process.on("message", this.onMessage);
  }

  publish(events: OutgoingEvent[]): void {
    this.receiver.deliver(events);
    // The events of one tick (one group commit) go to the primary as one IPC message.
    if (this.pending.length === 0) process.nextTick(() => this.flush());
    this.pending.push(...events);
  }

  /** Resolves once the primary has written it to every other worker's channel. */
  revoke(revocation: Revocation): Promise<void> {
    this.receiver.revoke(revocation);
    const ack = ++this.seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(ack), ACK_TIMEOUT_MS);
      this.acks.set(ack, () => {
        clearTimeout(timer);
        resolve();
      });
      if (!this.send({ spika: "bus", revoke: revocation, ack })) this.settle(ack);
    });
  }

  healthy(): boolean {
    return process.connected === true;
  }

  async close(): Promise<void> {
    process.off("message", this.onMessage);
    for (const ack of [...this.acks.keys()]) this.settle(ack);
  }

  private flush(): void {
    const events = this.pending;
    this.pending = [];
    this.send({ spika: "bus", events });
  }

  private send(wire: Wire): boolean {
    if (!process.connected || !process.send) return false;
    process.send(wire, undefined, {}, () => {});
    return true;
  }

  private receive(msg: Wire | Ack): void {
    if (msg?.spika === "bus-ack") return this.settle(msg.ack);
    if (msg?.spika !== "bus") return;
    if ("revoke" in msg) this.receiver.revoke(msg.revoke);
    else this.receiver.deliver(msg.events);
  }

  private settle(ack: number): void {
    const resolve = this.acks.get(ack);
    this.acks.delete(ack);
    resolve?.();
  }
}

/** The primary's side: relays what one worker sends to all the others. */
export function relayBetweenWorkers(): void {
  cluster.on("message", (from: Worker, msg: Wire) => {
    if (msg?.spika !== "bus") return;
    const others = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w !== from && w.isConnected());
    if (!("ack" in msg)) {
      for (const w of others) w.send(msg);
      return;
    }
    let left = others.length + 1;
    const relayed = () => {
      if (--left === 0 && from.isConnected()) from.send({ spika: "bus-ack", ack: msg.ack } satisfies Ack);
    };
    for (const w of others) w.send(msg, relayed);
    relayed();
  });
}
