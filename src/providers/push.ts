// Push providers (§7.2): FCM HTTP v1 with a Google service account (FCM_SERVICE_ACCOUNT), or,
// without one, a log line per push. The FCM message itself is built by src/modules/push.
import { readFileSync } from "node:fs";
import type { JWT } from "google-auth-library";
import type { Logger } from "pino";
import type { Config } from "../config.js";

/** The `message` object of an FCM v1 `messages:send` request. */
export interface FcmMessage {
  token: string;
  data: Record<string, string>;
  android: { priority: "HIGH" };
  webpush: { headers: { Topic: string } };
  apns: { payload: { aps: Record<string, unknown> } };
}

/**
 * `sent`; `unregistered`: the token will never work again (clear it); `transient`: try again
 * later; `rejected`: FCM refused this message for another reason (retrying will not help).
 */
export type PushOutcome = { result: "sent" } | { result: "unregistered" | "transient" | "rejected"; error: string };

export interface PushSender {
  /** Whether pushes really leave the server (false: they are only logged). */
  readonly enabled: boolean;
  send(message: FcmMessage, about: { deviceId: number; messageId: number }): Promise<PushOutcome>;
}

const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
/** The token endpoint google-auth-library always calls; key files name theirs in `token_uri`. */
const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";
const FCM_TIMEOUT_MS = 10_000;

interface ServiceAccount {
  project_id: string;
  client_email: string;
  private_key: string;
  token_uri?: string;
}

function readServiceAccount(path: string): ServiceAccount {
  const json = JSON.parse(readFileSync(path, "utf8")) as Partial<ServiceAccount>;
  for (const field of ["project_id", "client_email", "private_key"] as const) {
    if (typeof json[field] !== "string" || json[field] === "") throw new Error(`FCM_SERVICE_ACCOUNT ${path}: "${field}" is missing`);
  }
  return json as ServiceAccount;
}

/**
 * An OAuth2 client for the service account that asks the key file's `token_uri` for tokens.
 * The library is loaded on first use: servers without push never pay for it.
 */
async function serviceAccountClient(account: ServiceAccount): Promise<JWT> {
  const { JWT } = await import("google-auth-library");
  const client = new JWT({ email: account.client_email, key: account.private_key, scopes: [FCM_SCOPE] });
  const tokenUri = account.token_uri;
  if (tokenUri && tokenUri !== GOOGLE_TOKEN_URL) {
    client.transporter.interceptors.request.add({
      resolved: async (options) => {
        if (String(options.url) === GOOGLE_TOKEN_URL) options.url = new URL(tokenUri);
        return options;
      },
    });
  }
  return client;
}

interface FcmError {
  error?: { code?: number; message?: string; status?: string; details?: Array<{ errorCode?: string; fieldViolations?: Array<{ field?: string }> }> };
}

/** FCM's answer → what the push job does with the device. */
function classifyFcmError(status: number, text: string): PushOutcome {
  let body: FcmError = {};
  try {
    body = JSON.parse(text) as FcmError;
  } catch {
    // not JSON: classified by status alone
  }
  const details = body.error?.details ?? [];
  const codes = new Set([body.error?.status, ...details.map((d) => d.errorCode)].filter(Boolean));
  const error = `FCM answered ${status}: ${(body.error?.message ?? text).slice(0, 300)}`;
  if (status === 404 || codes.has("UNREGISTERED")) return { result: "unregistered", error };
  const aboutToken = /registration token/i.test(body.error?.message ?? "") || details.some((d) => (d.fieldViolations ?? []).some((v) => v.field === "message.token"));
  if (status === 400 && codes.has("INVALID_ARGUMENT") && aboutToken) return { result: "unregistered", error };
  if (status === 401 || status === 429 || status >= 500) return { result: "transient", error };
  return { result: "rejected", error };
}

export function createPushSender(config: Config, log: Logger): PushSender {
  if (!config.fcmServiceAccount) {
    return {
      enabled: false,
      async send(message, about) {
        log.info({ push: { ...about, roomId: message.webpush.headers.Topic } }, "push (not sent: FCM_SERVICE_ACCOUNT is not set)");
        return { result: "sent" };
      },
    };
  }
  const account = readServiceAccount(config.fcmServiceAccount);
  let client: Promise<JWT> | undefined;
  const endpoint = `${config.fcmBaseUrl}/v1/projects/${encodeURIComponent(account.project_id)}/messages:send`;
  return {
    enabled: true,
    async send(message) {
      let res: Response;
      try {
        const auth = await (client ??= serviceAccountClient(account));
        const { token } = await auth.getAccessToken();
        res = await fetch(endpoint, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ message }),
          signal: AbortSignal.timeout(FCM_TIMEOUT_MS),
        });
      } catch (err) {
        return { result: "transient", error: `FCM not reached: ${err instanceof Error ? err.message : String(err)}` };
      }
      const text = await res.text().catch(() => "");
      if (res.ok) return { result: "sent" };
      // A token the server refused is dropped, so the next attempt fetches a fresh one.
      if (res.status === 401) (await client).credentials = {};
      return classifyFcmError(res.status, text);
    },
  };
}
