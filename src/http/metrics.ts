// GET /metrics in Prometheus text format: request counts and latency by route.
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { FastifyInstance } from "fastify";
import { safeEqual } from "../crypto.js";
import { HttpError } from "./errors.js";
import { op } from "./openapi.js";

/** `token` (METRICS_TOKEN): when set, a scrape must send `Authorization: Bearer <token>`. */
export function registerMetrics(app: FastifyInstance, dbStats: { queries: number }, token: string | null): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by method, route and status code",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency by method and route",
    labelNames: ["method", "route"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  new Counter({
    name: "db_queries_total",
    help: "SQL statements executed",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(dbStats.queries);
    },
  });

  app.addHook("onResponse", async (request, reply) => {
    // Unknown URLs share one label so scanners cannot blow up the series count.
    const route = request.routeOptions.url ?? "<unmatched>";
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  const schema = op({
    operationId: "getMetrics",
    tags: ["System"],
    summary: "Prometheus metrics",
    description:
      "Request counts and latency by route, SQL statements executed, and the Node.js process metrics, in the Prometheus text format. With `METRICS_TOKEN` set, only `Authorization: Bearer <METRICS_TOKEN>` is answered; otherwise keep it off the public network (reverse proxy).",
    responses: { 200: { description: "Prometheus text exposition format", content: { "text/plain": { schema: { type: "string" } } } } },
  });
  app.get("/metrics", { schema }, async (request, reply) => {
    if (token !== null && !safeEqual(request.headers.authorization ?? "", `Bearer ${token}`)) {
      throw new HttpError(401, "Metrics need Authorization: Bearer <METRICS_TOKEN>", { "WWW-Authenticate": 'Bearer realm="metrics"' });
    }
    reply.header("content-type", registry.contentType);
    return registry.metrics();
  });
  return registry;
}
