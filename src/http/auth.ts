// Route-level authentication: a route declares `config: { auth: "device" }` (or "apiKey", or
// "admin" for the management API) and this hook resolves the caller before the body is parsed
// or validated (§2.1, §2.4). Device and API-key tokens travel in `accesstoken`, management
// tokens in `adminaccesstoken`: neither header is read by the other kind of route.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Me, MeOnDevice } from "../actor.js";
import { unauthorized } from "./errors.js";

export type AuthKind = "device" | "apiKey" | "admin";

/** A device sign-in: the acting user and device as they are (a MeOnDevice), and the token. */
export interface DeviceAuth extends MeOnDevice {
  /** The token the request presented (the device row only keeps its hash). */
  token: string;
}

/** A room API key: its bot user, acting without a device (a Me), and the key's room. */
export interface BotAuth extends Me {
  device: null;
  roomId: number;
  apiKeyId: number;
}

/** A management sign-in (docs/management.md). */
export interface AdminAuth {
  username: string;
  tokenHash: string;
}

export interface Authenticators {
  admin(token: string): Promise<AdminAuth>;
  device(token: string, request: FastifyRequest): Promise<DeviceAuth>;
  apiKey(token: string): Promise<BotAuth>;
}

declare module "fastify" {
  interface FastifyContextConfig {
    auth?: AuthKind;
    /** Also accept the token as `?accesstoken=` (EventSource cannot set headers). */
    tokenInQuery?: boolean;
  }
  interface FastifyRequest {
    auth: DeviceAuth;
    bot: BotAuth;
    admin: AdminAuth;
  }
}

/** The bot behind a room API key (routes with `auth: "apiKey"`), as the acting user. */
export const botMe = (request: FastifyRequest): Me => request.bot;

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

// The official admin app sends `adminAccessToken`; its older builds sent `admin-accesstoken`.
const ADMIN_HEADERS = ["adminaccesstoken", "admin-accesstoken"];

function adminToken(request: FastifyRequest): string {
  for (const name of ADMIN_HEADERS) {
    const value = request.headers[name];
    const token = Array.isArray(value) ? value[0] : value;
    if (token) return token;
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
  app.decorateRequest("bot", null as unknown as BotAuth);
  app.decorateRequest("admin", null as unknown as AdminAuth);
  app.addHook("onRequest", async (request) => {
    const kind = request.routeOptions.config.auth;
    if (!kind) return;
    if (kind === "admin") {
      const token = adminToken(request);
      if (!token) throw unauthorized("No admin access token");
      request.admin = await authenticators.admin(token);
      return;
    }
    const token = presentedToken(request, request.routeOptions.config.tokenInQuery === true);
    if (!token) throw missingToken(request);
    if (kind === "device") request.auth = await authenticators.device(token, request);
    else request.bot = await authenticators.apiKey(token);
  });
}
