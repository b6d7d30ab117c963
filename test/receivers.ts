// Local HTTP receivers for what the server sends out (webhooks, FCM), and bounded waits.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The exact body bytes. */
  raw: Buffer;
  text: string;
  /** The body parsed as JSON (or form fields for urlencoded bodies), else null. */
  json: any;
  at: number;
  /** The status answered (null: left hanging). */
  status: number | null;
}

/** What to answer: a status and a JSON body, or "hang" to never answer. */
export type Answer = { status: number; body?: unknown } | "hang";

export class Receiver {
  readonly received: Received[] = [];
  /** Decides the answer of each request (default 200 {}). */
  answer: (req: Received) => Answer = () => ({ status: 200, body: {} });
  url = "";
  private server!: Server;
  private sockets = new Set<Socket>();
  private waiters: Array<() => void> = [];

  async start(port = 0): Promise<this> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks);
        const text = raw.toString("utf8");
        let json: any = null;
        try {
          json = (req.headers["content-type"] ?? "").includes("urlencoded") ? Object.fromEntries(new URLSearchParams(text)) : JSON.parse(text);
        } catch {
          json = null;
        }
        const got: Received = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, raw, text, json, at: Date.now(), status: null };
        this.received.push(got);
        const answer = this.answer(got);
        got.status = answer === "hang" ? null : answer.status;
        if (answer !== "hang") {
          res.writeHead(answer.status, { "content-type": "application/json" });
          res.end(JSON.stringify(answer.body ?? {}));
        }
        for (const w of this.waiters.splice(0)) w();
      });
    });
    this.server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(port, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** Resolves with the requests matching `match` once there are at least `n` of them. */
  async waitFor(match: (r: Received) => boolean, n = 1, timeoutMs = 20_000, what = "requests"): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hits = this.received.filter(match);
      if (hits.length >= n) return hits;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} ${what}; got ${hits.length} (of ${this.received.length} in all)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Drops every open connection (e.g. requests left hanging). */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls `check` until it returns a value other than undefined/false (bounded). */
export async function waitUntil<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
