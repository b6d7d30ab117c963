#!/usr/bin/env node
// The `spika` command: serve (default), migrate, routes, worker, admin, backup, storage, --help, --version.
import cluster from "node:cluster";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, loadDotEnv, type Config } from "./config.js";
import { createApp } from "./app.js";
import { migrate, openDatabase } from "./db/index.js";
import { BackupError, backupSqlite } from "./db/backup.js";
import { describeDatabase } from "./log.js";
import { createWorker } from "./jobs/index.js";
import type { Logger } from "pino";
import { copyFiles } from "./modules/files/migrateStore.js";
import { createStore } from "./storage/index.js";
import { buildContext, closeContext, createLogger, openMigrated, startServer } from "./server.js";
import { ADMIN_HELP, UsageError, hashPasswordCommand, runAdminCommand } from "./adminCli.js";
import { HttpError } from "./http/errors.js";
import { explainStartupError } from "./startupErrors.js";
import { announceReady, onPrimaryStop, runPrimary } from "./cluster.js";

const HELP = `Usage: spika [command] [--help] [--version]

Commands:
  serve     start the HTTP server (default); applies migrations first
  migrate   apply database migrations and exit
  routes    print every registered route as "METHOD /path" and exit
  admin     operator commands (users, devices, bots, stats, hash-password): spika admin --help
  worker    run the background job worker only (push, SMS, webhooks) until SIGINT/SIGTERM;
            applies migrations first. Servers also run one unless JOB_WORKER=off
  storage migrate --to s3
            copy every file from UPLOAD_DIR into the S3 bucket (S3_* settings), checking
            each file's SHA-256; run it again to resume, files already copied are skipped

  backup <file>
            copy the SQLite database into a new file while servers keep running
            (PostgreSQL: use pg_dump)

Settings come from the environment (and ./.env): PORT, HOST, DATABASE_URL, UPLOAD_DIR,
REDIS_URL, IS_TEST, TESTER_PHONE_NUMBERS, TEAM_MODE, RATE_LIMIT, FILES_REQUIRE_AUTH,
WEBHOOK_ALLOW_PRIVATE, MAX_FILE_SIZE, UPLOAD_PENDING_QUOTA, STORAGE, S3_*, SMS_PROVIDER,
FCM_SERVICE_ACCOUNT, LOG_LEVEL, LOG_FORMAT, JOB_WORKER, WEB_APP_DIR, WORKERS (server processes on one port;
default: 1 on SQLite, the number of cores on PostgreSQL), ADMIN_USERNAME,
ADMIN_PASSWORD, ADMIN_PASSWORD_HASH, ADMIN_TOKEN_TTL. See README.md for the full table and
.env.example for the defaults.
`;

/** The settings once loaded, so that a start-up failure can be explained in their terms. */
let loaded: Config | null = null;

function config(overrides: Record<string, string> = {}): Config {
  loadDotEnv();
  try {
    loaded = loadConfig({ ...process.env, ...overrides });
    return loaded;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`spika: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/** Stops gracefully on SIGINT/SIGTERM (`close`), at once on a second signal. */
function stopOnSignals(log: Logger, what: string, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn(`${signal} again: exiting at once`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: finishing ${what}, then stopping`);
    close().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  // A worker of `WORKERS=N` is stopped by its primary (which may also have relayed a Ctrl-C the
  // worker got itself: that is not a second signal).
  if (cluster.isWorker) onPrimaryStop(() => stopping || stop("shutdown"));
}

async function serve(): Promise<void> {
  const cfg = config();
  const log = createLogger(cfg);
  if (cfg.workers > 1 && cluster.isPrimary) process.exit(await runPrimary(cfg, log));
  const server = await startServer(cfg, log);
  stopOnSignals(log, "in-flight requests", () => server.close());
  if (cluster.isWorker) announceReady(server.url);
}

/** `spika worker`: the job worker without HTTP, next to (or instead of) the servers' own. */
async function worker(): Promise<void> {
  const cfg = config();
  const log = createLogger(cfg);
  const database = await openMigrated(cfg, log);
  const ctx = await buildContext(cfg, log, database);
  const jobs = createWorker(ctx);
  jobs.start();
  log.info({ workerId: jobs.id }, "Spika job worker running");
  stopOnSignals(log, "the jobs in flight", async () => {
    await jobs.stop();
    await closeContext(ctx);
    await database.close();
  });
}

async function migrateOnly(): Promise<void> {
  const cfg = config();
  const database = openDatabase(cfg.databaseUrl);
  try {
    const applied = await migrate(database);
    process.stdout.write(applied.length ? `applied: ${applied.join(", ")}\n` : "database is up to date\n");
  } finally {
    await database.close();
  }
}

/** `spika storage migrate --to s3`: UPLOAD_DIR → bucket, whatever STORAGE says today. */
async function storage(args: string[], to: string | undefined): Promise<void> {
  if (args[0] !== "migrate" || to !== "s3") {
    process.stderr.write(`spika: usage: spika storage migrate --to s3\n`);
    process.exit(2);
  }
  const cfg = config();
  const target = config({ STORAGE: "s3" });
  const log = createLogger(cfg);
  const bucket = await createStore(target);
  try {
    await bucket.ping();
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const database = await openMigrated(cfg, log);
  try {
    const local = await createStore({ ...cfg, storage: { kind: "local" } });
    const report = await copyFiles(database.db, local, bucket, (line) => process.stderr.write(`${line}\n`));
    process.stdout.write(`copied ${report.copied}, already there ${report.skipped}, missing ${report.missing.length}, hash mismatch ${report.corrupt.length}\n`);
    if (report.missing.length || report.corrupt.length) process.exitCode = 1;
  } finally {
    await database.close();
  }
}

async function backup(destination: string | undefined): Promise<void> {
  if (!destination) fail("backup needs a file name: spika backup <file>", 2);
  const cfg = config();
  try {
    const pages = await backupSqlite(cfg.databaseUrl, destination);
    process.stdout.write(`backed up ${describeDatabase(cfg.databaseUrl)} to ${destination} (${pages} pages)\n`);
  } catch (err) {
    if (err instanceof BackupError) fail(err.message, 1);
    throw err;
  }
}

async function routes(): Promise<void> {
  const cfg: Config = { ...config(), databaseUrl: "sqlite::memory:", redisUrl: null, logLevel: "silent", storage: { kind: "local" } };
  const database = openDatabase(cfg.databaseUrl);
  const list: string[] = [];
  const app = await createApp(await buildContext(cfg, createLogger(cfg), database), { routes: list });
  await app.ready();
  process.stdout.write([...new Set(list)].sort().join("\n") + "\n");
  await app.close();
  await database.close();
}

/** `spika admin …`: exit 0 done, 1 refused (the message on stderr), 2 usage error. */
async function admin(args: string[]): Promise<void> {
  if (args.length === 0 || args.includes("--help") || args.includes("-h")) {
    process.stdout.write(ADMIN_HELP);
    return;
  }
  try {
    if (args[0] === "hash-password") return await hashPasswordCommand();
    const cfg = { ...config(), logLevel: "warn" };
    const log = createLogger(cfg);
    const database = await openMigrated(cfg, log);
    const ctx = await buildContext(cfg, log, database);
    try {
      await runAdminCommand(ctx, args);
    } finally {
      await closeContext(ctx);
      await database.close();
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`spika admin: ${(err as Error).message}\n\n${ADMIN_HELP}`);
      process.exit(2);
    }
    if (err instanceof HttpError) {
      process.stderr.write(`spika admin: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/** The version in the package.json above this file (src/ when run from sources, dist/bundle/ when built). */
function version(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  }
  return "unknown";
}

function fail(line: string, code: number): never {
  process.stderr.write(`spika: ${line}\n`);
  process.exit(code);
}

function commandLine() {
  try {
    return parseArgs({ allowPositionals: true, options: { help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "v" }, to: { type: "string" } } });
  } catch (err) {
    // Node's message is a paragraph about positionals; the option's name is what matters.
    const option = /'([^']+)'/.exec((err as Error).message)?.[1];
    return fail(`${option ? `unknown option ${option}` : (err as Error).message}: see spika --help`, 2);
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === "admin") return admin(process.argv.slice(3));
  const { positionals, values } = commandLine();
  const command = positionals[0] ?? "serve";
  if (values.version) {
    process.stdout.write(`spika ${version()}\n`);
    return;
  }
  if (values.help || command === "help") {
    process.stdout.write(HELP);
    return;
  }
  if (command === "serve") return serve();
  if (command === "migrate") return migrateOnly();
  if (command === "routes") return routes();
  if (command === "worker") return worker();
  if (command === "storage") return storage(positionals.slice(1), values.to);
  if (command === "backup") return backup(positionals[1]);
  process.stderr.write(`spika: unknown command "${command}"\n\n${HELP}`);
  process.exit(2);
}

main().catch((err) => {
  // Settings that only show their problem at start (a missing bucket) fail in one line too.
  if (err instanceof ConfigError) fail(err.message, 1);
  const explained = loaded && explainStartupError(err, loaded);
  fail(explained || (err instanceof Error ? (err.stack ?? err.message) : String(err)), 1);
});
