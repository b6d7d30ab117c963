// The Kysely instance for sqlite: or postgres:// URLs, and the migrations applied at start.
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import SQLite from "better-sqlite3";
import pg from "pg";
import {
  CamelCasePlugin,
  Kysely,
  Migrator,
  PostgresDialect,
  type KyselyPlugin,
  type Migration,
  type MigrationProvider,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  type Transaction,
} from "kysely";
import type { DB } from "./schema.js";
import { SqliteRoutingDialect } from "./sqliteDriver.js";
import { startCheckpointer, WRITER_AUTOCHECKPOINT_PAGES } from "./checkpointer.js";
import { groupCommit, type TransactionRunner } from "./groupCommit.js";
import { statementName } from "./prepared.js";
import * as m001 from "./migrations/001_initial.js";
import * as m002 from "./migrations/002_deployment.js";
import * as m003 from "./migrations/003_rate_limits.js";
import * as m005 from "./migrations/005_management.js";
import * as m006 from "./migrations/006_search_batches.js";
import * as m004 from "./migrations/004_upload_chunks.js";

export type Dialect = "sqlite" | "postgres";
export type Db = Kysely<DB>;
export type Tx = Transaction<DB>;

export interface Database {
  /** For requests: its statements count in `stats.queries`. */
  db: Db;
  /** The same connection(s) for background work (the job worker), not counted. */
  background: Db;
  dialect: Dialect;
  /** Runs `fn` in a transaction on `db` (grouped with concurrent ones on SQLite). */
  transaction: TransactionRunner;
  /**
   * Statements executed so far through `db` (exported as db_queries_total; tests use it to catch
   * N+1).
   */
  stats: { queries: number };
  close(): Promise<void>;
}

// A plugin rather than Kysely's `log` hook, so that `background` (the same instance without it)
// shares the connection and its lock. (An AsyncLocalStorage flag cost ~4 % of the CPU of a send:
// on Node 20 it turns on promise hooks for every promise.)
class QueryCounter implements KyselyPlugin {
  constructor(private readonly stats: { queries: number }) {}
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    this.stats.queries++;
    return args.result;
  }
}

function counted(background: Db, dialect: Dialect): Database {
  const stats = { queries: 0 };
  const db = background.withPlugin(new QueryCounter(stats));
  // PostgreSQL runs transactions side by side on its pool (and groups WAL flushes itself).
  const transaction: TransactionRunner = dialect === "sqlite" ? groupCommit(db) : (fn) => db.transaction().execute(fn);
  return { db, background, dialect, transaction, stats, close: () => background.destroy() };
}

// int8 (ids, epoch-ms times, counts) as JS numbers: ids stay integers in JSON on both engines.
pg.types.setTypeParser(20, (v) => Number(v));

/**
 * The pool's client: the hot statements of src/db/prepared.ts run as named prepared statements
 * (pg parses a name once per connection and then only binds and executes it). Kysely's driver
 * calls `query(text, values)`; everything else passes through unchanged. (A pooler in
 * transaction mode must keep prepared statements per server connection, as PgBouncer ≥ 1.21
 * does with max_prepared_statements.)
 */
class PreparingClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's query() is heavily overloaded
  override query(config: any, values?: any, callback?: any): any {
    const name = typeof config === "string" && Array.isArray(values) ? statementName(config) : undefined;
    return name ? super.query({ name, text: config, values }, callback) : super.query(config, values, callback);
  }
}

export interface OpenOptions {
  /** Hears about connection failures outside a query (e.g. PostgreSQL restarting). */
  onError?: (err: Error) => void;
  /**
   * SQLite: run the WAL checkpointer in this process (default). false in the workers of
   * `WORKERS=N`, whose primary runs the one checkpointer of the file (src/cluster.ts).
   */
  checkpointer?: boolean;
}

export function openDatabase(url: string, { onError = () => {}, checkpointer: checkpointHere = true }: OpenOptions = {}): Database {
  if (url.startsWith("sqlite:")) {
    const file = url.slice("sqlite:".length);
    const memory = file === ":memory:";
    if (!memory) mkdirSync(dirname(resolve(file)), { recursive: true });
    const open = () => {
      const sqlite = new SQLite(memory ? ":memory:" : file);
      sqlite.pragma("journal_mode = WAL");
      sqlite.pragma("synchronous = NORMAL");
      sqlite.pragma("foreign_keys = ON");
      sqlite.pragma("busy_timeout = 5000");
      return sqlite;
    };
    const writer = open();
    const reader = memory ? null : open();
    reader?.pragma("query_only = ON");
    const checkpointer = memory || !checkpointHere ? null : startCheckpointer(file);
    if (!memory) writer.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT_PAGES}`);
    const database = counted(new Kysely<DB>({ dialect: new SqliteRoutingDialect(writer, reader), plugins: [new CamelCasePlugin()] }), "sqlite");
    return {
      ...database,
      async close() {
        await database.close();
        await checkpointer?.stop();
      },
    };
  }
  const pool = new pg.Pool({ connectionString: url, max: 10, Client: PreparingClient });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", onError);
  return counted(new Kysely<DB>({ dialect: new PostgresDialect({ pool }), plugins: [new CamelCasePlugin()] }), "postgres");
}

const migrations: Record<string, { up(db: Kysely<unknown>, dialect: Dialect): Promise<void> }> = {
  "001_initial": m001,
  "002_deployment": m002,
  "003_rate_limits": m003,
  "005_management": m005,
  "004_upload_chunks": m004,
  "006_search_batches": m006,
};

class Provider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, m] of Object.entries(migrations)) out[name] = { up: (db) => m.up(db, this.dialect) };
    return out;
  }
}

/** Applies pending migrations; safe to run at every start and from several processes at once. */
export async function migrate(database: Database): Promise<string[]> {
  const migrator = new Migrator({ db: database.db, provider: new Provider(database.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
