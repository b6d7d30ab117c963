// Every setting of API.md §13b (plus a few documented extras), read once and validated.
// A bad value throws ConfigError with one line naming the variable and what is allowed.
import { existsSync } from "node:fs";
import { isIP } from "node:net";
import { hashPassword, isPasswordHash } from "./crypto.js";
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
  /** Requests one access token (or bot API key) may make per minute. */
  rateLimitPerToken: number;
  /** Open SSE streams per device; one more closes the oldest. */
  sseMaxStreamsPerDevice: number;
  /** Fastify's trustProxy: which proxy hops may name the client address (X-Forwarded-For). */
  trustProxy: false | number | string[];
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  metricsToken: string | null;
  filesRequireAuth: boolean;
  webhookAllowPrivate: boolean;
  /** Link previews may fetch loopback/private addresses (tests, intranets); refused by default. */
  linkPreviewAllowPrivate: boolean;
  maxFileSize: number;
  smsProvider: SmsProvider;
  twilio: { accountSid: string; authToken: string; from: string; baseUrl: string } | null;
  androidSmsVerificationHash: string;
  singleMobileDevice: boolean;
  fcmServiceAccount: string | null;
  fcmBaseUrl: string;
  logLevel: string;
  /** `pretty`: one readable line per entry; `json`: pino's JSON lines (LOG_FORMAT, default by terminal). */
  logFormat: "pretty" | "json";
  /** Folder of the built Spika web apps (messenger/, management/) served at /messenger/ and /management/. */
  webAppDir: string | null;
  /** Run the job worker inside the server (JOB_WORKER=on); `spika worker` runs it separately. */
  jobWorker: boolean;
  /** First retry delay of a failed job; later ones double (src/jobs/queue.ts). */
  jobRetryBaseMs: number;
  /** How long a claimed job stays locked without its worker renewing the lease. */
  jobLeaseMs: number;
  /** Bytes one user may hold in chunks of uploads not yet verified. */
  uploadPendingQuota: number;
  /** Where file bytes live: UPLOAD_DIR (local) or an S3-compatible bucket. */
  storage: StorageConfig;
  /** The management API and its sign-in; null (API off, 404) without ADMIN_USERNAME. */
  admin: AdminConfig | null;
  /** Server processes `spika serve` runs on one port (src/cluster.ts); 1 = this process only. */
  workers: number;
}

export interface AdminConfig {
  username: string;
  /** `scrypt$…` (src/crypto.ts): ADMIN_PASSWORD_HASH, or ADMIN_PASSWORD hashed at start. */
  passwordHash: string;
  tokenTtlMs: number;
}

export type StorageConfig = { kind: "local" } | ({ kind: "s3" } & S3Config);

export interface S3Config {
  /** Empty for AWS itself (the SDK derives the endpoint from the region). */
  endpoint: string;
  bucket: string;
  region: string;
  /** Both empty: the SDK's default credential chain (AWS_* variables, instance roles). */
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  /** Public downloads answer 302 to a short-lived presigned URL instead of passing bytes through. */
  presignedRedirect: boolean;
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

/** TRUST_PROXY: off, a number of hops, or comma-separated addresses/CIDRs of the proxies. */
function trustProxy(env: Env): Config["trustProxy"] {
  const raw = text(env, "TRUST_PROXY", "off");
  if (["off", "0", "false", "no"].includes(raw.toLowerCase())) return false;
  if (/^\d+$/.test(raw)) return integer(env, "TRUST_PROXY", 0, 1, 100);
  const entries = raw.split(",").map((e) => e.trim());
  for (const entry of entries) {
    const [address, bits, ...rest] = entry.split("/");
    const family = isIP(address);
    const maxBits = family === 6 ? 128 : 32;
    if (!family || rest.length || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= maxBits))) {
      throw new ConfigError(`TRUST_PROXY=${raw} is not valid: use off, a number of proxy hops, or addresses/CIDRs separated by commas (${entry})`);
    }
  }
  return entries;
}

/** ADMIN_USERNAME with exactly one of ADMIN_PASSWORD / ADMIN_PASSWORD_HASH, or none of them. */
function adminConfig(env: Env): AdminConfig | null {
  const username = text(env, "ADMIN_USERNAME", "");
  const password = env.ADMIN_PASSWORD ?? "";
  const hash = text(env, "ADMIN_PASSWORD_HASH", "");
  if (!username) {
    if (password || hash) throw new ConfigError("ADMIN_USERNAME is required when ADMIN_PASSWORD or ADMIN_PASSWORD_HASH is set");
    return null;
  }
  if (password && hash) throw new ConfigError("ADMIN_PASSWORD and ADMIN_PASSWORD_HASH are both set: use one");
  if (!password && !hash) throw new ConfigError("ADMIN_PASSWORD or ADMIN_PASSWORD_HASH is required when ADMIN_USERNAME is set");
  if (hash && !isPasswordHash(hash)) throw new ConfigError("ADMIN_PASSWORD_HASH is not valid: make one with `spika admin hash-password`");
  return {
    username,
    passwordHash: hash || hashPassword(password),
    tokenTtlMs: integer(env, "ADMIN_TOKEN_TTL", 43_200, 1, 31_536_000) * 1000,
  };
}

function storage(env: Env): StorageConfig {
  const kind = text(env, "STORAGE", "local");
  if (kind === "local") return { kind };
  if (kind !== "s3") throw new ConfigError(`STORAGE=${kind} is not valid: use local or s3`);
  const bucket = text(env, "S3_BUCKET", "");
  if (!bucket) throw new ConfigError("S3_BUCKET is required when STORAGE=s3");
  const accessKeyId = text(env, "S3_ACCESS_KEY_ID", "");
  const secretAccessKey = text(env, "S3_SECRET_ACCESS_KEY", "");
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    throw new ConfigError("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both, or neither for the default AWS credentials");
  }
  return {
    kind,
    endpoint: text(env, "S3_ENDPOINT", "") && url(env, "S3_ENDPOINT", "", ["http:", "https:"]),
    bucket,
    region: text(env, "S3_REGION", "us-east-1"),
    accessKeyId,
    secretAccessKey,
    forcePathStyle: flag(env, "S3_FORCE_PATH_STYLE", false),
    presignedRedirect: flag(env, "S3_PRESIGNED_REDIRECT", false),
  };
}

export function loadConfig(env: Env = process.env, stdoutIsTerminal = process.stdout.isTTY === true): Config {
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

  const webAppDir = text(env, "WEB_APP_DIR", "") || null;
  if (webAppDir && !existsSync(`${webAppDir}/messenger`) && !existsSync(`${webAppDir}/management`)) {
    throw new ConfigError(`WEB_APP_DIR=${webAppDir} is not valid: it holds neither messenger/ nor management/ (the built Spika web apps)`);
  }

  const logFormat = text(env, "LOG_FORMAT", stdoutIsTerminal ? "pretty" : "json");
  if (logFormat !== "pretty" && logFormat !== "json") throw new ConfigError(`LOG_FORMAT=${logFormat} is not valid: use pretty or json`);

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
    rateLimitPerToken: integer(env, "RATE_LIMIT_PER_TOKEN", 1200, 1, 1_000_000),
    sseMaxStreamsPerDevice: integer(env, "SSE_MAX_STREAMS_PER_DEVICE", 5, 1, 1000),
    trustProxy: trustProxy(env),
    metricsToken: text(env, "METRICS_TOKEN", "") || null,
    filesRequireAuth: flag(env, "FILES_REQUIRE_AUTH", false),
    webhookAllowPrivate: flag(env, "WEBHOOK_ALLOW_PRIVATE", false),
    linkPreviewAllowPrivate: flag(env, "LINK_PREVIEW_ALLOW_PRIVATE", false),
    maxFileSize: integer(env, "MAX_FILE_SIZE", 104857600, 1, Number.MAX_SAFE_INTEGER),
    smsProvider,
    twilio,
    androidSmsVerificationHash: text(env, "ANDROID_SMS_VERIFICATION_HASH", ""),
    singleMobileDevice: flag(env, "SINGLE_MOBILE_DEVICE", false),
    fcmServiceAccount,
    fcmBaseUrl: url(env, "FCM_BASE_URL", "https://fcm.googleapis.com", ["http:", "https:"]),
    logLevel,
    logFormat,
    webAppDir,
    jobWorker: flag(env, "JOB_WORKER", true),
    jobRetryBaseMs: integer(env, "JOB_RETRY_BASE_MS", 2000, 1, 3_600_000),
    jobLeaseMs: integer(env, "JOB_LEASE_MS", 60_000, 1000, 3_600_000),
    admin: adminConfig(env),
    uploadPendingQuota: integer(env, "UPLOAD_PENDING_QUOTA", 1024 ** 3, 1, Number.MAX_SAFE_INTEGER),
    storage: storage(env),
    // Measured: two processes on one SQLite file contend for its single writer and send fewer
    // messages than one (bench/README.md), so SQLite runs one process unless told otherwise.
    workers: integer(env, "WORKERS", databaseUrl.startsWith("sqlite") ? 1 : availableParallelism(), 1, 256),
  };
}

/** Reads `.env` from the working directory into process.env (existing variables win). */
export function loadDotEnv(path = ".env"): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
