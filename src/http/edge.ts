// What the edge answers before or around the routes: the headers every response carries, and
// the §1.2 error envelope for what the framework or Node's HTTP parser would otherwise answer in
// their own shapes (bad URLs, oversized headers, unknown methods on known paths).
import { maxHeaderSize, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

const ALLOWED_HEADERS = [
  "Content-Type",
  "Authorization",
  "access-token",
  "accesstoken",
  "accessToken",
  "adminAccessToken",
  "admin-accesstoken",
  "device-name",
  "os-name",
  "os-version",
  "device-type",
  "app-version",
  "lang",
].join(", ");

/** §1.1 CORS on every response, and no MIME sniffing of any answer (issue #10). */
export const EDGE_HEADERS: Record<string, string> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "*",
  "Access-Control-Allow-Headers": ALLOWED_HEADERS,
  "X-Content-Type-Options": "nosniff",
};

/** The message of a 4xx error the framework raised (body parsing, content type). */
export function clientErrorMessage(error: FastifyError, request: FastifyRequest): string {
  if (error.code === "FST_ERR_CTP_INVALID_JSON_BODY" || error instanceof SyntaxError) return "Invalid JSON body";
  if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
    const type = request.headers["content-type"]?.split(";")[0] ?? "";
    return `Unsupported Content-Type ${type}: send application/json (or application/x-www-form-urlencoded); files are uploaded as base64 chunks in JSON`;
  }
  return error.message;
}

/** Errors Fastify raises before a route is chosen (its `frameworkErrors` option). */
export function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const message =
    error.code === "FST_ERR_MAX_PARAM_LENGTH"
      ? "URL path parameter is too long"
      : error.code === "FST_ERR_BAD_URL"
        ? "URL path is not valid: a percent-encoded part is not UTF-8"
        : (STATUS_CODES[error.statusCode ?? 500] ?? "Server error");
  reply
    .code(error.statusCode ?? 400)
    .headers(EDGE_HEADERS)
    .send({ status: "error", message });
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (Fastify's `clientErrorHandler`):
 * headers larger than Node's limit, malformed requests, timeouts. The socket is closed after.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, message] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [431, `Request headers are too large (at most ${maxHeaderSize} bytes)`]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Request timed out"]
        : [400, "Malformed HTTP request"];
  if (socket.writable) {
    const body = JSON.stringify({ status: "error", message });
    const headers = Object.entries({ ...EDGE_HEADERS, "Content-Type": "application/json; charset=utf-8", "Content-Length": String(Buffer.byteLength(body)), Connection: "close" })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers}\r\n${body}`);
  }
  socket.destroy(error);
}

/**
 * The methods registered for each path pattern, so that a known path asked with another method
 * is a 405 with `Allow` rather than a 404.
 */
export class RouteMethods {
  private readonly routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  add(url: string, methods: string[]): void {
    // The catch-all OPTIONS route (CORS preflight) says nothing about which paths exist.
    if (url === "*" || url === "/*") return;
    const source = url
      .replace(/\/+$/, "")
      .split("/")
      .map((segment) => (segment === "*" ? ".*" : segment.includes(":") ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("/");
    let route = this.routes.get(source);
    if (!route) this.routes.set(source, (route = { pattern: new RegExp(`^${source}/?$`), methods: new Set() }));
    for (const m of methods) route.methods.add(m);
  }

  /** The methods `path` answers to, with OPTIONS (answered on every path); empty: unknown path. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const r of this.routes.values()) if (r.pattern.test(path)) for (const m of r.methods) methods.add(m);
    if (methods.size === 0) return [];
    methods.add("OPTIONS");
    return [...methods].sort();
  }
}
