// A light pool of SSE clients over raw node:http (no EventSource): one socket and a string
// remainder per stream, frames split on the blank line, and one callback per frame with the
// arrival time of the chunk that completed it. Thousands of streams stay cheap for the load
// generator; the callback decides what to look at (usually a prefix and a marker).
import http from "node:http";
import { mapLimit } from "./api.js";

export type FrameHandler = (frame: string, at: number, stream: number) => void;

export class SsePool {
  private readonly requests: http.ClientRequest[] = [];
  /** Streams that ended or failed after they were open (the server dropped them). */
  closed = 0;
  frames = 0;
  onFrame: FrameHandler | null = null;
  private closing = false;

  get size(): number {
    return this.requests.length;
  }

  /** Opens one stream per token (`path` with the token in the accesstoken header). */
  async open(baseUrl: string, tokens: string[], opts: { path?: string; concurrency?: number } = {}): Promise<void> {
    const url = new URL(opts.path ?? "/api/sse", baseUrl);
    await mapLimit(tokens, opts.concurrency ?? 100, (token) => this.openOne(url, token));
  }

  private openOne(url: URL, token: string): Promise<void> {
    const index = this.requests.length;
    return new Promise<void>((resolve, reject) => {
      const req = http.request(url, { method: "GET", agent: false, headers: { accesstoken: token, accept: "text/event-stream" } }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`SSE ${url.pathname}: ${res.statusCode}`));
          res.resume();
          return;
        }
        res.setEncoding("utf8");
        let rest = "";
        res.on("data", (chunk: string) => {
          const at = performance.now();
          rest += chunk;
          let end = rest.indexOf("\n\n");
          if (end < 0) return;
          let start = 0;
          while (end >= 0) {
            this.frames++;
            this.onFrame?.(rest.slice(start, end), at, index);
            start = end + 2;
            end = rest.indexOf("\n\n", start);
          }
          rest = rest.slice(start);
        });
        res.on("close", () => {
          if (!this.closing) this.closed++;
        });
        resolve();
      });
      req.on("error", (err) => {
        if (this.closing) return;
        this.closed++;
        reject(err);
      });
      req.end();
      this.requests.push(req);
    });
  }

  close(): void {
    this.closing = true;
    for (const r of this.requests) r.destroy();
    this.requests.length = 0;
  }
}

/** Message texts carry a marker `~<seq>~<sent at, performance.now() ms>~` for latency. */
export const marker = (seq: number, sentAt: number) => `~${seq}~${sentAt.toFixed(3)}~`;

/** The marker of a NEW_MESSAGE frame, or null for any other frame. */
export function newMessageMarker(frame: string): { seq: number; sentAt: number } | null {
  if (!frame.startsWith('data: {"type":"NEW_MESSAGE",')) return null;
  const i = frame.indexOf('"text":"~');
  if (i < 0) return null;
  const a = i + 9;
  const b = frame.indexOf("~", a);
  const c = frame.indexOf("~", b + 1);
  if (b < 0 || c < 0) return null;
  return { seq: Number(frame.slice(a, b)), sentAt: Number(frame.slice(b + 1, c)) };
}
