// A real EventSource client (eventsource@4) for tests: collects every event of one stream and
// lets a test wait for the next one that matches.
import { EventSource } from "eventsource";

export interface SseEvent {
  type: string;
  [key: string]: any;
}

export interface Stream {
  events: SseEvent[];
  /** Resolves with the first event (already received or future) after `from` that matches. */
  next(match: (e: SseEvent) => boolean, opts?: { from?: number; timeoutMs?: number }): Promise<SseEvent>;
  /** Events received so far that are not PINGs. */
  real(): SseEvent[];
  close(): void;
}

/** Opens /api/sse with the token in the header (default) or the query string. */
export async function openStream(baseUrl: string, token: string, via: "header" | "query" | "queryCamel" = "header"): Promise<Stream> {
  const url = via === "header" ? `${baseUrl}/api/sse` : `${baseUrl}/api/sse?${via === "query" ? "accesstoken" : "accessToken"}=${encodeURIComponent(token)}`;
  const es = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers ?? {}), ...(via === "header" ? { accesstoken: token } : {}) } }),
  });
  const events: SseEvent[] = [];
  const waiters: Array<{ from: number; match: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }> = [];
  es.onmessage = (m) => {
    const event = JSON.parse(m.data) as SseEvent;
    events.push(event);
    for (const w of [...waiters]) {
      if (events.length - 1 >= w.from && w.match(event)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(event);
      }
    }
  };
  await new Promise<void>((resolve, reject) => {
    es.onopen = () => resolve();
    es.onerror = (err) => reject(new Error(`stream failed to open: ${(err as { message?: string }).message ?? "error"}`));
  });
  es.onerror = null;
  return {
    events,
    next(match, opts = {}) {
      const from = opts.from ?? 0;
      const found = events.slice(from).find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = { from, match, resolve };
        waiters.push(waiter);
        setTimeout(() => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) {
            waiters.splice(i, 1);
            reject(new Error(`no matching event within ${opts.timeoutMs ?? 10000} ms; got ${JSON.stringify(events.map((e) => e.type))}`));
          }
        }, opts.timeoutMs ?? 10000).unref();
      });
    },
    real: () => events.filter((e) => e.type !== "PING"),
    close: () => es.close(),
  };
}
