// The server's log: JSON lines for collectors, or one readable line per entry on a terminal
// (LOG_FORMAT=pretty|json; by default pretty when stdout is a terminal).
import pino, { type Logger } from "pino";
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "./config.js";

const LEVELS: Record<number, { name: string; color: number }> = {
  10: { name: "TRACE", color: 90 },
  20: { name: "DEBUG", color: 36 },
  30: { name: "INFO ", color: 32 },
  40: { name: "WARN ", color: 33 },
  50: { name: "ERROR", color: 31 },
  60: { name: "FATAL", color: 35 },
};

/** pino's own fields, shown in the line's frame rather than as key=value pairs. */
const FRAME = new Set(["level", "time", "pid", "hostname", "msg", "err"]);

function show(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/** One pino JSON entry as `12:03:04.567 INFO  message key=value …`, with an error's stack below. */
function prettyLine(json: string, colors: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json);
  } catch {
    return json.endsWith("\n") ? json : json + "\n";
  }
  const level = LEVELS[entry.level as number] ?? { name: String(entry.level), color: 0 };
  const time = new Date(entry.time as number).toISOString().slice(11, 23);
  const paint = (code: number, s: string) => (colors ? `\x1b[${code}m${s}\x1b[0m` : s);
  const msg = String(entry.msg ?? "");
  // Values the message already says (the ready line's URL, an access line's method) are not repeated.
  const fields = Object.entries(entry)
    .filter(([k, v]) => !FRAME.has(k) && v !== undefined && !msg.includes(String(v)))
    .map(([k, v]) => paint(90, `${k}=`) + show(v));
  let line = `${paint(90, time)} ${paint(level.color, level.name)} ${msg}${fields.length ? " " + fields.join(" ") : ""}\n`;
  const err = entry.err as { stack?: string; message?: string } | undefined;
  if (err) line += `    ${(err.stack ?? err.message ?? "").split("\n").join("\n    ")}\n`;
  return line;
}

export function createLogger(config: Pick<Config, "logLevel" | "logFormat">): Logger {
  if (config.logFormat === "pretty") {
    const colors = process.stdout.isTTY === true && !process.env.NO_COLOR;
    return pino({ level: config.logLevel }, { write: (json: string) => process.stdout.write(prettyLine(json, colors)) });
  }
  // Asynchronous: a burst of access lines becomes a few large writes instead of one write per
  // request; pino flushes what is left when the process exits.
  return pino({ level: config.logLevel }, pino.destination({ dest: 1, sync: false }));
}

/**
 * The access line of a request: method, URL (secrets masked), route, status and time. Written
 * once the answer is complete.
 */
export function logAccess(request: FastifyRequest, status: number, elapsedMs: number): void {
  writeAccess(request.log, request.method, request.url, request.routeOptions.url, status, elapsedMs);
}

/**
 * The access line of an event stream, written when it closes: what the line needs is taken now,
 * so that the request and reply are not kept for the stream's lifetime. The request's logger is
 * made again then, as Fastify makes it (the root logger's child with the request id): keeping it
 * cost ~250 bytes per open stream.
 */
export function deferredAccessLog(request: FastifyRequest, reply: FastifyReply, status: number): () => void {
  const { server, id, method, url } = request;
  const route = request.routeOptions.url;
  const started = performance.now() - reply.elapsedTime;
  return () => writeAccess(server.log.child({ reqId: id }), method, url, route, status, performance.now() - started);
}

function writeAccess(log: FastifyBaseLogger, method: string, rawUrl: string, route: string | undefined, status: number, elapsedMs: number): void {
  const url = loggableUrl(rawUrl);
  const ms = Math.round(elapsedMs * 10) / 10;
  log.info({ method, url, route, status, ms }, `${method} ${url} ${status} ${ms} ms`);
}

/** Query parameters whose values never reach a log line (access tokens ride in /api/sse?accesstoken=). */
const SECRET_PARAM = /token|key|secret|pass|code|signature/i;

/** A request URL for the log: the path, and the query with secret values replaced by `***`. */
function loggableUrl(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const name of new Set(params.keys())) if (SECRET_PARAM.test(name)) params.set(name, "***");
  return `${url.slice(0, q)}?${params}`;
}

/** A database URL as it may appear in a log line: host, port and name, never the password. */
export function describeDatabase(databaseUrl: string): string {
  if (databaseUrl.startsWith("sqlite:")) return `SQLite ${databaseUrl.slice("sqlite:".length)}`;
  try {
    const u = new URL(databaseUrl);
    return `PostgreSQL ${u.hostname}:${u.port || 5432}/${decodeURIComponent(u.pathname.slice(1)) || "(default)"}`;
  } catch {
    return "PostgreSQL";
  }
}

/** A Redis URL as it may appear in a log line: host and port, never the password. */
function describeRedis(redisUrl: string): string {
  const u = new URL(redisUrl);
  return `${u.hostname}:${u.port || 6379}`;
}

/** What the ready line says besides the URL: the database (no password), Redis and the job worker. */
export function readyFacts(config: Config): { database: string; redis: string; jobWorker: string } {
  return {
    database: describeDatabase(config.databaseUrl),
    redis: config.redisUrl ? describeRedis(config.redisUrl) : "off",
    jobWorker: config.jobWorker ? "on" : "off",
  };
}

export function readyLine(config: Config, url: string, workers = 1): string {
  const { database, redis, jobWorker } = readyFacts(config);
  const processes = workers > 1 ? `, ${workers} worker processes` : "";
  return `Spika server ready at ${url} (${database}, Redis ${redis}, job worker ${jobWorker}${processes})`;
}
