#!/usr/bin/env node
// The `spika` command: serve (default), migrate, routes, worker, --help.
import cluster from "node:cluster";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, loadDotEnv, type Config } from "./config.js";
import { createApp } from "./app.js";
import { migrate, openDatabase } from "./db/index.js";
import { createWorker } from "./jobs/index.js";
import type { Logger } from "pino";
import { buildContext, createLogger, openMigrated, startServer } from "./server.js";
import { announceReady, onPrimaryStop, runPrimary } from "./cluster.js";

const HELP = `Usage: spika [command]

Commands:
  serve     start the HTTP server (default); applies migrations first
  migrate   apply database migrations and exit
  routes    print every registered route as "METHOD /path" and exit
  worker    run the background job worker only (push, SMS, webhooks) until SIGINT/SIGTERM;
            applies migrations first. Servers also run one unless JOB_WORKER=off

Settings come from the environment (and ./.env): PORT, HOST, DATABASE_URL, UPLOAD_DIR,
REDIS_URL, IS_TEST, TESTER_PHONE_NUMBERS, TEAM_MODE, RATE_LIMIT, FILES_REQUIRE_AUTH,
WEBHOOK_ALLOW_PRIVATE, MAX_FILE_SIZE, SMS_PROVIDER, FCM_SERVICE_ACCOUNT, LOG_LEVEL, JOB_WORKER,
WORKERS (server processes on one port; default: the number of cores).
See README.md for the full table.
`;

function config(): Config {
  loadDotEnv();
  try {
    return loadConfig();
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
    await ctx.bus.close();
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

async function routes(): Promise<void> {
  const cfg = { ...config(), databaseUrl: "sqlite::memory:", redisUrl: null, logLevel: "silent" };
  const database = openDatabase(cfg.databaseUrl);
  const list: string[] = [];
  const app = await createApp(await buildContext(cfg, createLogger(cfg), database), { routes: list });
  await app.ready();
  process.stdout.write([...new Set(list)].sort().join("\n") + "\n");
  await app.close();
  await database.close();
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { help: { type: "boolean", short: "h" } } });
  const command = positionals[0] ?? "serve";
  if (values.help || command === "help") {
    process.stdout.write(HELP);
    return;
  }
  if (command === "serve") return serve();
  if (command === "migrate") return migrateOnly();
  if (command === "routes") return routes();
  if (command === "worker") return worker();
  process.stderr.write(`spika: unknown command "${command}"\n\n${HELP}`);
  process.exit(2);
}

main().catch((err) => {
  process.stderr.write(`spika: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
