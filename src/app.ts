// Builds the Fastify app: the HTTP edge (envelope, errors, CORS, auth, docs, metrics), then one
// plugin per API area. `createApp` wires the context; nothing here listens.
import { randomUUID } from "node:crypto";
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import formbody from "@fastify/formbody";
import type { Logger } from "pino";
import type { AppContext } from "./context.js";
import type { Config } from "./config.js";
import { HttpError } from "./http/errors.js";
import { logAccess } from "./log.js";
import { registerAuth } from "./http/auth.js";
import { answerClientError, answerFrameworkError, clientErrorMessage, EDGE_HEADERS, RouteMethods } from "./http/edge.js";
import { registerMetrics } from "./http/metrics.js";
import { registerTokenLimit } from "./http/rateLimit.js";
import { registerWebApps } from "./http/webApps.js";
import { registerOpenApi } from "./http/openapi.js";
import { serializerCompiler } from "./http/serialization.js";
import { describeValidationError, fieldHoldingNul, validatorCompiler } from "./http/validation.js";
import { authenticateDevice } from "./modules/auth/actions.js";
import { authenticateApiKey } from "./modules/apikeys/queries.js";
import authRoutes from "./modules/auth/routes.js";
import botRoutes from "./modules/bot/routes.js";
import sseRoutes from "./modules/sse/routes.js";
import contactRoutes from "./modules/contacts/routes.js";
import deviceRoutes from "./modules/devices/routes.js";
import fileRoutes from "./modules/files/routes.js";
import messageRoutes from "./modules/messages/routes.js";
import recordRoutes from "./modules/records/routes.js";
import roomRoutes from "./modules/rooms/routes.js";
import settingsRoutes from "./modules/settings/routes.js";
import systemRoutes from "./modules/system/routes.js";
import userRoutes from "./modules/users/routes.js";
import forwardingRoutes from "./modules/forwarding/routes.js";
import navigationRoutes from "./modules/navigation/routes.js";
import mediaRoutes from "./modules/media/routes.js";
import noteRoutes from "./modules/notes/routes.js";
import webhookRoutes from "./modules/webhooks/routes.js";
import apiKeyRoutes from "./modules/apikeys/routes.js";
import blockRoutes from "./modules/blocks/routes.js";
import historyRoutes from "./modules/history/routes.js";
import linkPreviewRoutes from "./modules/linkpreview/routes.js";
import managementRoutes from "./modules/management/routes.js";
import { authenticateAdmin } from "./modules/management/queries.js";
import { StoreUnavailableError } from "./storage/index.js";

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider> & { ctx: AppContext };

declare module "fastify" {
  interface FastifyInstance {
    ctx: AppContext;
  }
}

const BODY_LIMIT = 50 * 1024 * 1024;

/**
 * TRUST_PROXY as Fastify takes it. A hop count trusts that many hops nearest the server whatever
 * their address (Fastify alone now ignores bare counts): right only when every request comes
 * through that many proxies.
 */
function trustedProxies(setting: Config["trustProxy"]): string[] | boolean | ((address: string, hop: number) => boolean) {
  if (typeof setting !== "number") return setting;
  return (_address, hop) => hop < setting;
}

export async function createApp(ctx: AppContext, opts: { routes?: string[] } = {}): Promise<App> {
  const app = Fastify({
    loggerInstance: ctx.log as Logger as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    bodyLimit: BODY_LIMIT,
    // clientIds of up to 255 characters travel URL-encoded in a path parameter (§5.4).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    // Fastify's two lines per request are replaced by one access line (below).
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: "idle",
    trustProxy: trustedProxies(ctx.config.trustProxy),
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  app.decorate("ctx", ctx);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // Every registered route, as "METHOD /path" (for `spika routes`), with its security in docs,
  // and by path for the 405 answer.
  const routeMethods = new RouteMethods();
  app.addHook("onRoute", (route) => {
    if (route.config?.auth && route.schema) {
      route.schema = { ...route.schema, security: [{ [route.config.auth === "admin" ? "adminAccessToken" : "accessToken"]: [] }] };
    }
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    routeMethods.add(route.url, methods);
    for (const m of methods) if (m !== "HEAD") opts.routes?.push(`${m} ${route.url}`);
  });

  // One access line per request, written after the response (so it has the status and time);
  // event streams write theirs when they close (src/modules/sse/routes.ts).
  if (ctx.log.isLevelEnabled("info")) {
    app.addHook("onResponse", async (request, reply) => logAccess(request, reply.statusCode, reply.elapsedTime));
  }

  // §1.1 CORS and nosniff on every response, and any OPTIONS request is answered 200 with an empty body.
  app.addHook("onRequest", async (request, reply) => {
    reply.headers(EDGE_HEADERS);
    if (request.method === "OPTIONS") return reply.code(200).send("");
  });
  app.options("*", { schema: { hide: true } }, async (_request, reply) => reply.code(200).send(""));

  // A POST without a body validates like `{}`: clients omit empty bodies, and a missing
  // required field then gets the message that names it. Text holding NUL is refused on every
  // route: PostgreSQL text cannot store it and SQLite's full-text search fails on it.
  app.addHook("preValidation", async (request) => {
    if (request.body === undefined || request.body === null) request.body = {};
    const field = fieldHoldingNul(request.params, request.query, request.body);
    if (field) throw new HttpError(400, `Invalid params: ${field} must not contain NUL characters`);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpError) return reply.code(error.statusCode).headers(error.headers).send({ status: "error", message: error.message });
    if (error instanceof StoreUnavailableError) {
      request.log.warn({ err: error, reqId: request.id }, "file store unavailable");
      return reply.code(503).header("Retry-After", "10").send({ status: "error", message: "File storage is unavailable, try again later" });
    }
    if (error.validation) {
      return reply.code(400).send({ status: "error", message: describeValidationError(error.validation as never) });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ status: "error", message: clientErrorMessage(error, request) });
    }
    request.log.error({ err: error, reqId: request.id }, "request failed");
    return reply.code(500).send({ status: "error", message: `Server error (request ${request.id})` });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0];
    const allowed = routeMethods.allowed(path);
    if (allowed.length) {
      const allow = allowed.join(", ");
      return reply
        .code(405)
        .header("Allow", allow)
        .send({ status: "error", message: `Method ${request.method} not allowed on ${path}: use ${allow}` });
    }
    return reply.code(404).send({ status: "error", message: `Route ${request.method} ${path} not found` });
  });

  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  await registerOpenApi(app);

  registerMetrics(app, ctx.dbStats, ctx.config.metricsToken);
  registerAuth(app, {
    device: (token, request) => authenticateDevice(ctx, token, request.headers),
    apiKey: (token) => authenticateApiKey(ctx, token),
    admin: (token) => authenticateAdmin(ctx, token),
  });
  registerTokenLimit(app, ctx.limiter, ctx.config.rateLimitPerToken);

  // Areas share the root context: auth, errors and hooks above apply to all of them alike.
  for (const routes of [
    systemRoutes,
    fileRoutes,
    authRoutes,
    contactRoutes,
    userRoutes,
    deviceRoutes,
    settingsRoutes,
    roomRoutes,
    messageRoutes,
    recordRoutes,
    noteRoutes,
    webhookRoutes,
    apiKeyRoutes,
    blockRoutes,
    historyRoutes,
    forwardingRoutes,
    linkPreviewRoutes,
    navigationRoutes,
    mediaRoutes,
    sseRoutes,
    botRoutes,
  ]) {
    await routes(app);
  }
  // Without admin credentials the management API does not exist (404 like any unknown path).
  if (ctx.config.admin) await managementRoutes(app);
  if (ctx.config.webAppDir) await registerWebApps(app, ctx.config.webAppDir);
  return app;
}
