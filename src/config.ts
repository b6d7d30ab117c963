// Every setting of API.md §13b (plus a few documented extras), read once and validated.
// A bad value throws ConfigError with one line naming the variable and what is allowed.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";

export class ConfigError extends Error {}

export type SmsProvider = "console" | "twilio";

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  uploadDir: string;
  redisUrl: string | null;
  isTest: boolean;
  testerPhoneNumbers: Set<string>;
  teamMode: boolean;
  rateLimit: boolean;
  filesRequireAuth: boolean;
  webhookAllowPrivate: boolean;
  maxFileSize: number;
  smsProvider: SmsProvider;
  twilio: { accountSid: string; authToken: string; from: string; baseUrl: string } | null;
  androidSmsVerificationHash: string;
  singleMobileDevice: boolean;
  fcmServiceAccount: string | null;
  fcmBaseUrl: string;
  logLevel: string;
  /** Run the job worker inside the server (JOB_WORKER=on); `spika worker` runs it separately. */
  jobWorker: boolean;
  /** First retry delay of a failed job; later ones double (src/jobs/queue.ts). */
  jobRetryBaseMs: number;
  /** How long a claimed job stays locked without its worker renewing the lease. */
  jobLeaseMs: number;
  /** Server processes `spika serve` runs on one port (src/cluster.ts); 1 = this process only. */
  workers: number;
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** A URL as it may appear in an error line: any password replaced by `***`. */
function shown(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, "$1:***@");
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const v = raw.trim().toLowerCase();
  if (["1", "true", "on", "yes"].includes(v)) return true;
  if (["0", "false", "off", "no"].includes(v)) return false;
  throw new ConfigError(`${name}=${raw} is not valid: use 1/0 (or on/off, true/false)`);
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name}=${raw} is not valid: use a whole number from ${min} to ${max}`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(`${name}=${raw} is not valid: use a whole number from ${min} to ${max}`);
  return n;
}

function text(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined || raw.trim() === "" ? fallback : raw.trim();
}

function url(env: Env, name: string, fallback: string, protocols: string[]): string {
  const value = text(env, name, fallback);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(`${name}=${shown(value)} is not valid: use a URL (${protocols.join(", ")})`);
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(`${name}=${shown(value)} is not valid: use a URL (${protocols.join(", ")})`);
  return value.replace(/\/+$/, "");
}

export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = text(env, "DATABASE_URL", "sqlite:./data/spika.db");
  if (!/^sqlite:.+/.test(databaseUrl) && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`DATABASE_URL=${shown(databaseUrl)} is not valid: use sqlite:<path>, sqlite::memory: or postgres://…`);
  }
  const redisRaw = text(env, "REDIS_URL", "");
  const redisUrl = redisRaw === "" ? null : url(env, "REDIS_URL", "", ["redis:", "rediss:"]);

  const smsProvider = text(env, "SMS_PROVIDER", "console");
  if (smsProvider !== "console" && smsProvider !== "twilio") {
    throw new ConfigError(`SMS_PROVIDER=${smsProvider} is not valid: use console or twilio`);
  }
  let twilio: Config["twilio"] = null;
  if (smsProvider === "twilio") {
    for (const name of ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM"]) {
      if (!env[name]?.trim()) throw new ConfigError(`${name} is required when SMS_PROVIDER=twilio`);
    }
    twilio = {
      accountSid: text(env, "TWILIO_ACCOUNT_SID", ""),
      authToken: text(env, "TWILIO_AUTH_TOKEN", ""),
      from: text(env, "TWILIO_FROM", ""),
      baseUrl: url(env, "TWILIO_BASE_URL", "https://api.twilio.com", ["http:", "https:"]),
    };
  }

  const fcmServiceAccount = text(env, "FCM_SERVICE_ACCOUNT", "") || null;
  if (fcmServiceAccount && !existsSync(fcmServiceAccount)) {
    throw new ConfigError(`FCM_SERVICE_ACCOUNT=${fcmServiceAccount} is not valid: the file does not exist`);
  }

  const logLevel = text(env, "LOG_LEVEL", "info");
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL=${logLevel} is not valid: use one of ${LOG_LEVELS.join(", ")}`);

  const rateLimitRaw = text(env, "RATE_LIMIT", "on").toLowerCase();
  if (rateLimitRaw !== "on" && rateLimitRaw !== "off") throw new ConfigError(`RATE_LIMIT=${rateLimitRaw} is not valid: use on or off`);

  return {
    port: integer(env, "PORT", 3000, 0, 65535),
    host: text(env, "HOST", "0.0.0.0"),
    databaseUrl,
    uploadDir: text(env, "UPLOAD_DIR", "./data/uploads"),
    redisUrl,
    isTest: flag(env, "IS_TEST", false),
    testerPhoneNumbers: new Set(
      text(env, "TESTER_PHONE_NUMBERS", "")
        .split(",")
        .map((n) => n.trim())
        .filter(Boolean),
    ),
    teamMode: flag(env, "TEAM_MODE", false),
    rateLimit: rateLimitRaw === "on",
    filesRequireAuth: flag(env, "FILES_REQUIRE_AUTH", false),
    webhookAllowPrivate: flag(env, "WEBHOOK_ALLOW_PRIVATE", false),
    maxFileSize: integer(env, "MAX_FILE_SIZE", 104857600, 1, Number.MAX_SAFE_INTEGER),
    smsProvider,
    twilio,
    androidSmsVerificationHash: text(env, "ANDROID_SMS_VERIFICATION_HASH", ""),
    singleMobileDevice: flag(env, "SINGLE_MOBILE_DEVICE", false),
    fcmServiceAccount,
    fcmBaseUrl: url(env, "FCM_BASE_URL", "https://fcm.googleapis.com", ["http:", "https:"]),
    logLevel,
    jobWorker: flag(env, "JOB_WORKER", true),
    jobRetryBaseMs: integer(env, "JOB_RETRY_BASE_MS", 2000, 1, 3_600_000),
    jobLeaseMs: integer(env, "JOB_LEASE_MS", 60_000, 1000, 3_600_000),
    workers: integer(env, "WORKERS", availableParallelism(), 1, 256),
  };
}

/** Reads `.env` from the working directory into process.env (existing variables win). */
export function loadDotEnv(path = ".env"): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
