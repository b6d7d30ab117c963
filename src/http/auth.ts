// Route-level authentication: a route declares `config: { auth: "device" }` (or "apiKey") and
// this hook resolves the caller before the body is parsed or validated (§2.1, §2.4).
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { DeviceRow, UserRow } from "../db/schema.js";
import { unauthorized } from "./errors.js";

export type AuthKind = "device" | "apiKey";

export interface DeviceAuth {
  user: UserRow;
  device: DeviceRow;
  /** The token the request presented (the device row only keeps its hash). */
  token: string;
}

export interface Authenticators {
  device(token: string, request: FastifyRequest): Promise<DeviceAuth>;
  apiKey(token: string): Promise<{ user: UserRow; roomId: number; apiKeyId: number }>;
}

declare module "fastify" {
  interface FastifyContextConfig {
    auth?: AuthKind;
    /** Also accept the token as `?accesstoken=` (EventSource cannot set headers). */
    tokenInQuery?: boolean;
  }
  interface FastifyRequest {
    auth: DeviceAuth;
    bot: { user: UserRow; roomId: number; apiKeyId: number };
  }
}

export function presentedToken(request: FastifyRequest, allowQuery: boolean): string {
  const header = request.headers.accesstoken;
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader) return fromHeader;
  if (allowQuery) {
    const q = request.query as Record<string, unknown> | undefined;
    const value = q?.accesstoken ?? q?.accessToken;
    if (typeof value === "string" && value) return value;
  }
  return "";
}

/**
 * The 401 for a request without a token. Clients written for other APIs send the token as
 * `Authorization: Bearer …` or `access-token`; the message tells them the header Spika reads.
 */
export function missingToken(request: FastifyRequest): Error {
  const misplaced = request.headers.authorization ? "Authorization" : request.headers["access-token"] ? "access-token" : null;
  if (misplaced) return unauthorized(`No access token: send it in the "accesstoken" header, not "${misplaced}"`);
  return unauthorized('No access token: send it in the "accesstoken" header');
}

export function registerAuth(app: FastifyInstance, authenticators: Authenticators): void {
  app.decorateRequest("auth", null as unknown as DeviceAuth);
  app.decorateRequest("bot", null as unknown as FastifyRequest["bot"]);
  app.addHook("onRequest", async (request) => {
    const kind = request.routeOptions.config.auth;
    if (!kind) return;
    const token = presentedToken(request, request.routeOptions.config.tokenInQuery === true);
    if (!token) throw missingToken(request);
    if (kind === "device") request.auth = await authenticators.device(token, request);
    else request.bot = await authenticators.apiKey(token);
  });
}
