// The OpenAPI document (/api/openapi.json, Swagger UI at /api/docs), built by @fastify/swagger
// from the route schemas. Routes describe themselves with `op({...})`; this module adds what
// every route shares (the 401 answers of authenticated routes, the 400 of body validation),
// turns `model(...)` schemas into named components referenced by $ref, and swaps in the
// documented form of values the server validates more leniently than it documents (`docAs`).
//
// Runtime validation and serialization never see any of this: ajv and fast-json-stringify ignore
// the `x-` keywords, and the per-route additions are made on copies while the document is built.
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, FastifySchema, RouteOptions } from "fastify";
import Type, { type TSchema } from "typebox";

const MODEL = "x-model";
const DOC = "x-doc";
const ERRORS = "x-errors";
const RESPONSES = "x-responses";
const PATH = "x-path";

/** Names `schema` as a reusable model: listed once in components.schemas, referenced by $ref. */
export const model = <T extends TSchema>(name: string, schema: T): T => ({ ...schema, [MODEL]: name }) as T;

/**
 * Validates with `schema` but documents `doc`. For path and query values that arrive as text and
 * whose malformed forms get the route's own answer (kept for compatibility), and for free JSON
 * objects whose shape depends on another field (message bodies by type).
 */
export const docAs = <T extends TSchema>(schema: T, doc: object): T => ({ ...schema, [DOC]: doc }) as T;

const INTEGER_ID = { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER };

/** A positive integer (an id, a page, a cursor) that travels as text in a path or query; the handler parses it. */
export const IntText = (description?: string) => docAs(Type.String(description ? { description } : {}), { ...INTEGER_ID, ...(description ? { description } : {}) });

/** Epoch milliseconds that travel as text (`:lastUpdate`, `:timestamp`). */
export const MsText = (description = "epoch milliseconds") => docAs(Type.String({ description }), { type: "integer", minimum: 0, description });

/** Path parameters that are all integer ids. */
export const IdParams = <K extends string>(...names: K[]) => Type.Object(Object.fromEntries(names.map((n) => [n, IntText()])) as { [P in K]: ReturnType<typeof Type.String> });

/** 4xx answers of one operation: status → the `message` texts it can carry. */
export type ErrorDocs = Partial<Record<400 | 401 | 403 | 404 | 405 | 409 | 410 | 411 | 413 | 416 | 429 | 507, string[]>>;

/** A response documented by hand (non-JSON bodies: downloads, streams, text). */
export interface DocResponse {
  description: string;
  content?: Record<string, { schema: object }>;
  headers?: Record<string, { description: string; schema: object }>;
}

export interface OperationDoc {
  /** Unique across the API; the name generated clients give the call. */
  operationId: string;
  summary: string;
  /** Who may call it, what it changes (events), limits. */
  description: string;
  tags: string[];
  errors?: ErrorDocs;
  /** Responses that are not a JSON schema in `response` (they do not drive serialization). */
  responses?: Record<number, DocResponse>;
  /** The documented path when the route's own cannot be expressed (a `*` wildcard). */
  path?: string;
}

/**
 * The `schema` block of a route: its documentation plus the runtime schemas (params, querystring,
 * body, response) that Fastify validates and serializes with, unchanged.
 */
export function op<S extends FastifySchema>(spec: OperationDoc & S): S {
  const { errors, responses, path, ...schema } = spec;
  return { ...schema, [ERRORS]: errors ?? {}, [RESPONSES]: responses ?? {}, ...(path ? { [PATH]: path } : {}) } as unknown as S;
}

/** What the device-token check answers (src/http/auth.ts, authenticateDevice). */
export const NO_TOKEN = [
  'No access token: send it in the "accesstoken" header',
  'No access token: send it in the "accesstoken" header, not "Authorization"',
  'No access token: send it in the "accesstoken" header, not "access-token"',
];
const DEVICE_AUTH_ERRORS = [...NO_TOKEN, "Invalid access token", "Expired access token", "User not found", "User is not verified", "User is deleted"];
const API_KEY_AUTH_ERRORS = [...NO_TOKEN, "Invalid access token"];
/** What the management-token check answers (src/http/auth.ts, management/queries.ts authenticateAdmin). */
const ADMIN_AUTH_ERRORS = ["No admin access token", "Invalid admin access token", "Expired admin access token"];
/** What schema validation of a JSON body answers (src/http/validation.ts). */
const BODY_ERRORS = ["Invalid params: <field> is required", "Invalid params: <field> must be <type or constraint>", "Invalid JSON body"];

const STATUS_TEXT: Record<number, string> = {
  400: "Bad request",
  401: "Not authenticated",
  403: "Forbidden",
  404: "Not found (also what a caller gets for objects that exist but are not theirs)",
  405: "Method not allowed",
  409: "Conflict",
  410: "Gone",
  411: "Hash mismatch",
  413: "Too large",
  416: "Range not satisfiable",
  429: "Too many requests",
  507: "Insufficient storage",
};

const ErrorEnvelope = model(
  "Error",
  Type.Object(
    { status: Type.Literal("error"), message: Type.String({ description: "human-readable; clients should rely on the status code" }) },
    { description: 'Every error answer: `{status: "error", message}`.' },
  ),
);

function errorResponse(status: number, messages: string[]) {
  const list = [...new Set(messages)];
  return {
    description: `${STATUS_TEXT[status] ?? "Error"}. \`message\` is one of: ${list.map((m) => `\`${m}\``).join(", ")}.`,
    content: {
      "application/json": {
        schema: ErrorEnvelope,
        examples: Object.fromEntries(list.map((m, i) => [`e${i + 1}`, { summary: m, value: { status: "error", message: m } }])),
      },
    },
  };
}

/** Deep copy of `value` with every `docAs` node replaced by its documented form. */
function documented(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(documented);
  if (!value || typeof value !== "object") return value;
  const node = value as Record<string, unknown>;
  if (node[DOC]) {
    const description = node.description === undefined ? {} : { description: node.description };
    return documented({ ...description, ...(node[DOC] as object) });
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, documented(v)]));
}

type RouteSchema = FastifySchema & Record<string, unknown> & { response?: Record<string, unknown>; hide?: boolean };

/** One route's schema as the document shows it. */
function routeDoc(schema: RouteSchema, route: RouteOptions): { schema: RouteSchema; url?: string } {
  const { [ERRORS]: explicit, [RESPONSES]: extra, [PATH]: path, ...rest } = schema as Record<string, unknown>;
  const errors: Record<number, string[]> = {};
  const add = (status: number, messages: string[]) => (errors[status] = [...(errors[status] ?? []), ...messages]);
  const auth = route.config?.auth;
  if (rest.body) add(400, BODY_ERRORS);
  if (auth === "device") add(401, DEVICE_AUTH_ERRORS);
  if (auth === "apiKey") add(401, API_KEY_AUTH_ERRORS);
  if (auth === "admin") add(401, ADMIN_AUTH_ERRORS);
  for (const [status, messages] of Object.entries((explicit ?? {}) as ErrorDocs)) add(Number(status), messages ?? []);

  const response: Record<string, unknown> = {};
  for (const [status, s] of Object.entries(schema.response ?? {})) {
    response[status] = (s as { description?: string }).description ? s : { ...(s as object), description: 'Success: `{status: "success", data}`' };
  }
  Object.assign(response, extra);
  for (const [status, messages] of Object.entries(errors)) response[status] = errorResponse(Number(status), messages);
  return { schema: documented({ ...rest, response }) as RouteSchema, ...(path ? { url: path as string } : {}) };
}

/** Replaces every `model(...)` node by a $ref and collects the models under components.schemas. */
function hoistModels(doc: Record<string, unknown>): Record<string, unknown> {
  const models: Record<string, unknown> = {};
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (!value || typeof value !== "object") return value;
    const { [MODEL]: name, ...node } = value as Record<string, unknown>;
    const walked = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    if (typeof name !== "string") return walked;
    models[name] ??= walked;
    return { $ref: `#/components/schemas/${name}` };
  };
  const out = walk(doc) as Record<string, unknown> & { components: { schemas: Record<string, unknown> } };
  out.components.schemas = { ...out.components.schemas, ...Object.fromEntries(Object.entries(models).sort(([a], [b]) => a.localeCompare(b))) };
  return out;
}

const DESCRIPTION = [
  "Spika 3–compatible messenger API.",
  "",
  '* Every JSON answer is an envelope: `{status: "success", data}` or `{status: "error", message}` (the `Error` schema).',
  "* Authenticated calls send the device access token (from `POST /api/messenger/auth/verify`) in the `accesstoken` header; the bot API sends a room API key in the same header.",
  "* Ids are positive integers; times are epoch milliseconds unless a field says ISO-8601.",
  '* JSON bodies are strict (`"5"` is not a number); path and query values are text parsed as base-10 integers where a number is expected.',
  "* Objects the caller may not see answer exactly like objects that do not exist.",
  "* Real-time events arrive on `GET /api/sse` (see that operation for the event catalogue).",
].join("\n");

/** Registers the document builder, /api/openapi.json and the Swagger UI at /api/docs. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Spika 3-compatible messenger API", version: "3", description: DESCRIPTION },
      components: {
        securitySchemes: {
          accessToken: { type: "apiKey", in: "header", name: "accesstoken", description: "Device access token (or a room API key for the bot API)" },
          adminAccessToken: { type: "apiKey", in: "header", name: "adminaccesstoken", description: "Management API token (from `POST /api/management/auth`)" },
        },
      },
    },
    transform: ({ schema, url, route }) => (!schema || (schema as RouteSchema).hide ? { schema, url } : { url, ...routeDoc(schema as RouteSchema, route) }),
    transformObject: (document) => hoistModels((document as { openapiObject: Record<string, unknown> }).openapiObject) as never,
  });
  // The docs page runs only scripts and styles served from here (it has no inline script). The
  // plugin's default policy would also upgrade every request to https: no page on plain http.
  await app.register(swaggerUi, {
    routePrefix: "/api/docs",
    validatorUrl: false,
    staticCSP: true,
    transformStaticCSP: (policy) => policy.replace(" validator.swagger.io", "").replace(" upgrade-insecure-requests;", ""),
  });
  app.get(
    "/api/openapi.json",
    {
      schema: op({
        operationId: "getOpenApiDocument",
        tags: ["System"],
        summary: "This OpenAPI document",
        description: "The OpenAPI 3.1 description of every operation; the same document drives the Swagger UI at `/api/docs`.",
        responses: { 200: { description: "The OpenAPI document", content: { "application/json": { schema: { type: "object" } } } } },
      }),
    },
    async () => app.swagger(),
  );
}
