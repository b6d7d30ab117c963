// Starts a server from a Config: database, migrations, context, app, listening socket.
import cluster from "node:cluster";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { createApp, type App } from "./app.js";
import type { AppContext } from "./context.js";
import { migrate, openDatabase, type Database } from "./db/index.js";
import { DbCounter, RateLimiter, type HitCounter } from "./http/rateLimit.js";
import { TokenCache } from "./http/tokenCache.js";
import { createWorker } from "./jobs/index.js";
import { createLogger, readyFacts, readyLine } from "./log.js";
import { createSmsSender } from "./providers/sms.js";
import { LocalBus, type BusReceiver, type EventBus } from "./realtime/bus.js";
import { ClusterBus } from "./realtime/clusterBus.js";
import type { RecordingSink } from "./realtime/events.js";
import { SseHub } from "./realtime/hub.js";
import { openStore } from "./storage/index.js";

export { createLogger };

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

export interface ServerOptions {
  /** Also keep every published event here (tests read what actions announced). */
  recorder?: RecordingSink;
}

export async function buildContext(config: Config, log: Logger, database: Database, opts: ServerOptions = {}): Promise<AppContext> {
  const hub = new SseHub(config.sseMaxStreamsPerDevice);
  const tokens = new TokenCache();
  const receiver: BusReceiver = { deliver: (events) => hub.deliver(events), revoke: (revocation) => tokens.revoke(revocation) };
  // Redis crosses hosts and processes; without it the workers of `WORKERS=N` talk through their primary.
  let bus: EventBus;
  let counter: HitCounter | null = config.rateLimit ? new DbCounter(database.db, database.background, log) : null;
  if (config.redisUrl) {
    // Loaded only when configured: a single instance never pays for the Redis client.
    const [{ RedisBus }, { RedisCounter }] = await Promise.all([import("./realtime/redisBus.js"), import("./http/redisCounter.js")]);
    const { name } = await database.db.selectFrom("deployment").select("name").where("id", "=", 1).executeTakeFirstOrThrow();
    const redis = new RedisBus(config.redisUrl, name, receiver, log);
    await redis.start();
    bus = redis;
    if (counter) {
      const inRedis = new RedisCounter(config.redisUrl, `spika:${name}:rate:`, counter, log);
      await inRedis.start();
      counter = inRedis;
    }
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
    limiter: new RateLimiter(counter),
  };
}

/** Closes what buildContext opened besides the database (the bus and the rate-limit counter hold connections). */
export async function closeContext(ctx: AppContext): Promise<void> {
  await ctx.bus.close();
  await ctx.limiter.close();
}

export async function startServer(config: Config, log: Logger = createLogger(config), opts: ServerOptions = {}): Promise<RunningServer> {
  if (config.isTest) log.warn("IS_TEST=1: every verification code is 000000 and no SMS is sent. Never use this in production.");
  await openStore(config, (err) => log.warn({ err }, "file store unreachable at start: file routes answer 503 until it is back"));
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
    await closeContext(ctx);
    await database.close();
  });
  const address = await app.listen({ port: config.port, host: config.host });
  const url = address.replace("0.0.0.0", "127.0.0.1").replace("[::]", "127.0.0.1");
  // In `WORKERS=N` mode the primary announces the server once every worker listens (src/cluster.ts).
  if (cluster.isWorker) log.info({ url }, `worker ${process.pid} listening at ${url}`);
  else log.info({ url, ...readyFacts(config) }, readyLine(config, url));
  return { app, ctx, url, close: () => app.close() };
}
