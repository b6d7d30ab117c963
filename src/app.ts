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
import { HttpError } from "./http/errors.js";
import { registerAuth } from "./http/auth.js";
import { registerMetrics } from "./http/metrics.js";
import { registerOpenApi } from "./http/openapi.js";
import { serializerCompiler } from "./http/serialization.js";
import { describeValidationError, validatorCompiler } from "./http/validation.js";
import { authenticateDevice } from "./modules/auth/actions.js";
import { authenticateApiKey } from "./modules/apikeys/queries.js";
import authRoutes from "./modules/auth/routes.js";
import botRoutes from "./modules/bot/routes.js";
import sseRoutes from "./modules/sse/routes.js";
import contactRoutes from "./modules/contacts/routes.js";
import deviceRoutes from "./modules/devices/routes.js";
import fileRoutes from "./modules/files/routes.js";
import messageRoutes from "./modules/messages/routes.js";
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

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
> & { ctx: AppContext };

declare module "fastify" {
  interface FastifyInstance {
    ctx: AppContext;
  }
}

const ALLOWED_HEADERS = [
  "Content-Type",
  "Authorization",
  "access-token",
  "accesstoken",
  "accessToken",
  "adminAccessToken",
  "device-name",
  "os-name",
  "os-version",
  "device-type",
  "app-version",
  "lang",
].join(", ");

export const BODY_LIMIT = 50 * 1024 * 1024;

export async function createApp(ctx: AppContext, opts: { routes?: string[] } = {}): Promise<App> {
  const app = Fastify({
    loggerInstance: ctx.log as Logger as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    bodyLimit: BODY_LIMIT,
    // clientIds of up to 255 characters travel URL-encoded in a path parameter (§5.4).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    // Per-request log lines cost more than the requests on hot paths; /metrics counts them.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: "idle",
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  app.decorate("ctx", ctx);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // Every registered route, as "METHOD /path" (for `spika routes`) and with its security in docs.
  app.addHook("onRoute", (route) => {
    if (route.config?.auth && route.schema) route.schema = { ...route.schema, security: [{ accessToken: [] }] };
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const m of methods) if (m !== "HEAD") opts.routes?.push(`${m} ${route.url}`);
  });

  // §1.1 CORS: every response, and any OPTIONS request is answered 200 with an empty body.
  app.addHook("onRequest", async (request, reply) => {
    reply.header("Access-Control-Allow-Origin", "*");
    reply.header("Access-Control-Allow-Methods", "*");
    reply.header("Access-Control-Allow-Headers", ALLOWED_HEADERS);
    if (request.method === "OPTIONS") return reply.code(200).send("");
  });
  app.options("*", { schema: { hide: true } }, async (_request, reply) => reply.code(200).send(""));

  // A POST without a body validates like `{}`: clients omit empty bodies, and a missing
  // required field then gets the message that names it.
  app.addHook("preValidation", async (request) => {
    if (request.body === undefined || request.body === null) request.body = {};
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpError) return reply.code(error.statusCode).send({ status: "error", message: error.message });
    if (error.validation) {
      return reply.code(400).send({ status: "error", message: describeValidationError(error.validation as never) });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const message = error.code === "FST_ERR_CTP_INVALID_JSON_BODY" || error instanceof SyntaxError ? "Invalid JSON body" : error.message;
      return reply.code(status).send({ status: "error", message });
    }
    request.log.error({ err: error, reqId: request.id }, "request failed");
    return reply.code(500).send({ status: "error", message: `Server error (request ${request.id})` });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ status: "error", message: `Route ${request.method} ${request.url.split("?")[0]} not found` }),
  );

  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  await registerOpenApi(app);

  registerMetrics(app, ctx.dbStats);
  registerAuth(app, {
    device: (token, request) => authenticateDevice(ctx, token, request.headers),
    apiKey: (token) => authenticateApiKey(ctx, token),
  });

  // Areas share the root context: auth, errors and hooks above apply to all of them alike.
  for (const routes of [systemRoutes, fileRoutes, authRoutes, contactRoutes, userRoutes, deviceRoutes, settingsRoutes, roomRoutes, messageRoutes, noteRoutes, webhookRoutes, apiKeyRoutes, blockRoutes, historyRoutes, forwardingRoutes, navigationRoutes, mediaRoutes, sseRoutes, botRoutes]) {
    await routes(app);
  }
  return app;
}
