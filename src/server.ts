// Starts a server from a Config: database, migrations, context, app, listening socket.
import cluster from "node:cluster";
import pino, { type Logger } from "pino";
import type { Config } from "./config.js";
import { createApp, type App } from "./app.js";
import type { AppContext } from "./context.js";
import { migrate, openDatabase, type Database } from "./db/index.js";
import { RateLimiter } from "./http/rateLimit.js";
import { TokenCache } from "./http/tokenCache.js";
import { createWorker } from "./jobs/index.js";
import { createSmsSender } from "./providers/sms.js";
import { LocalBus, type BusReceiver, type EventBus } from "./realtime/bus.js";
import { ClusterBus } from "./realtime/clusterBus.js";
import type { RecordingSink } from "./realtime/events.js";
import { SseHub } from "./realtime/hub.js";

export interface RunningServer {
  app: App;
  ctx: AppContext;
  url: string;
  close(): Promise<void>;
}

/** Opens the configured database and applies pending migrations. */
export async function openMigrated(config: Config, log: Logger): Promise<Database> {
  const database = openDatabase(config.databaseUrl, { onError: (err) => log.warn({ err }, "database connection lost"), checkpointer: !cluster.isWorker });
  try {
    await migrate(database);
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel });
}

export interface ServerOptions {
  /** Also keep every published event here (tests read what actions announced). */
  recorder?: RecordingSink;
}

export async function buildContext(config: Config, log: Logger, database: Database, opts: ServerOptions = {}): Promise<AppContext> {
  const hub = new SseHub();
  const tokens = new TokenCache();
  const receiver: BusReceiver = { deliver: (events) => hub.deliver(events), revoke: (revocation) => tokens.revoke(revocation) };
  // Redis crosses hosts and processes; without it the workers of `WORKERS=N` talk through their primary.
  let bus: EventBus;
  if (config.redisUrl) {
    // Loaded only when configured: a single instance never pays for the Redis client.
    const { RedisBus } = await import("./realtime/redisBus.js");
    const { name } = await database.db.selectFrom("deployment").select("name").where("id", "=", 1).executeTakeFirstOrThrow();
    const redis = new RedisBus(config.redisUrl, name, receiver, log);
    await redis.start();
    bus = redis;
  } else {
    bus = cluster.isWorker ? new ClusterBus(receiver) : new LocalBus(receiver);
  }
  return {
    config,
    db: database.db,
    backgroundDb: database.background,
    transaction: database.transaction,
    dialect: database.dialect,
    dbStats: database.stats,
    log,
    hub,
    bus,
    tokens,
    events: {
      publish(events) {
        opts.recorder?.publish(events);
        bus.publish(events);
      },
    },
    sms: createSmsSender(config, log),
    limiter: new RateLimiter(config.rateLimit),
  };
}

export async function startServer(config: Config, log: Logger = createLogger(config), opts: ServerOptions = {}): Promise<RunningServer> {
  if (config.isTest) log.warn("IS_TEST=1: every verification code is 000000 and no SMS is sent. Never use this in production.");
  const database = await openMigrated(config, log);
  const ctx = await buildContext(config, log, database, opts);
  const app = await createApp(ctx);
  // Open streams never end by themselves: end them first so the server can close.
  app.addHook("preClose", async () => ctx.hub.closeAll());
  // Background jobs (src/jobs): a worker in this process unless JOB_WORKER=off. It starts with the
  // app and stops (finishing the jobs in flight) before the database closes.
  const worker = config.jobWorker ? createWorker(ctx) : null;
  if (worker) {
    app.addHook("onReady", async () => worker.start());
    app.addHook("preClose", async () => {
      await worker.stop();
    });
  }
  app.addHook("onClose", async () => {
    await ctx.bus.close();
    await database.close();
  });
  const address = await app.listen({ port: config.port, host: config.host });
  const url = address.replace("0.0.0.0", "127.0.0.1").replace("[::]", "127.0.0.1");
  // In `WORKERS=N` mode the primary announces the server once every worker listens (src/cluster.ts).
  log.info({ url }, cluster.isWorker ? `worker ${process.pid} listening at ${url}` : `Spika server ready at ${url}`);
  return { app, ctx, url, close: () => app.close() };
}
