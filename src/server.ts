// Starts a server from a Config: database, migrations, context, app, listening socket.
import pino, { type Logger } from "pino";
import type { Config } from "./config.js";
import { createApp, type App } from "./app.js";
import type { AppContext } from "./context.js";
import { migrate, openDatabase, type Database } from "./db/index.js";
import { RateLimiter } from "./http/rateLimit.js";
import { createSmsSender } from "./providers/sms.js";
import { RecordingSink, type EventSink } from "./realtime/events.js";

export interface RunningServer {
  app: App;
  ctx: AppContext;
  url: string;
  close(): Promise<void>;
}

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel });
}

export async function buildContext(config: Config, log: Logger, database: Database, events: EventSink = new RecordingSink()): Promise<AppContext> {
  return {
    config,
    db: database.db,
    dialect: database.dialect,
    dbStats: database.stats,
    log,
    events,
    sms: createSmsSender(config, log),
    limiter: new RateLimiter(config.rateLimit),
  };
}

export async function startServer(config: Config, log: Logger = createLogger(config)): Promise<RunningServer> {
  if (config.isTest) log.warn("IS_TEST=1: every verification code is 000000 and no SMS is sent. Never use this in production.");
  const database = openDatabase(config.databaseUrl, (err) => log.warn({ err }, "database connection lost"));
  try {
    await migrate(database);
  } catch (err) {
    await database.close();
    throw err;
  }
  const ctx = await buildContext(config, log, database);
  const app = await createApp(ctx);
  app.addHook("onClose", async () => {
    await database.close();
  });
  const address = await app.listen({ port: config.port, host: config.host });
  const url = address.replace("0.0.0.0", "127.0.0.1").replace("[::]", "127.0.0.1");
  log.info({ url }, `Spika server ready at ${url}`);
  return { app, ctx, url, close: () => app.close() };
}
