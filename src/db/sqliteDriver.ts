// SQLite for Kysely without one lock around everything. Kysely's own driver makes every statement
// wait for the connection while a transaction holds it, so under load the requests queued up
// behind each transaction in their authentication lookups and never reached the next one
// together (no group commit, src/db/groupCommit.ts). Here only writes wait: a statement outside a
// transaction runs at once on the writer when no transaction is open there, and a read runs on a
// second connection to the same file while one is (WAL readers see the last commit).
import type SQLite from "better-sqlite3";
import { SqliteDialect, type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult } from "kysely";

/**
 * Kysely prepares every statement anew; preparing costs as much as running a small query, so
 * prepared statements are kept by SQL text (the most recent 500).
 */
function statementCache(sqlite: SQLite.Database): (sql: string) => SQLite.Statement {
  const cache = new Map<string, SQLite.Statement>();
  return (sql) => {
    let stmt = cache.get(sql);
    if (stmt) {
      cache.delete(sql);
    } else {
      stmt = sqlite.prepare(sql);
      if (cache.size >= 500) cache.delete(cache.keys().next().value!);
    }
    cache.set(sql, stmt);
    return stmt;
  };
}

function execute<R>(stmt: SQLite.Statement, parameters: ReadonlyArray<unknown>): QueryResult<R> {
  if (stmt.reader) return { rows: stmt.all(parameters) as R[] };
  const { changes, lastInsertRowid } = stmt.run(parameters);
  return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
}

/** First come, first served: a transaction waiting for the writer is not overtaken. */
class WriterLock {
  held = false;
  private readonly waiters: Array<() => void> = [];
  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.held = false;
  }
}

class Connection implements DatabaseConnection {
  inTransaction = false;
  constructor(private readonly driver: RoutingDriver) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const { writer, reader, lock } = this.driver;
    const stmt = writer(query.sql);
    if (this.inTransaction || !lock.held) return execute(stmt, query.parameters);
    if (reader && stmt.readonly) return execute(reader(query.sql), query.parameters);
    await lock.acquire();
    try {
      return execute(stmt, query.parameters);
    } finally {
      lock.release();
    }
  }

  // biome-ignore lint/correctness/useYield: Driver requires an async iterator; this driver does not stream and fails on the first read.
  async *streamQuery(): AsyncIterableIterator<QueryResult<never>> {
    throw new Error("streaming is not supported");
  }
}

class RoutingDriver implements Driver {
  readonly lock = new WriterLock();
  readonly writer: (sql: string) => SQLite.Statement;
  readonly reader: ((sql: string) => SQLite.Statement) | null;

  constructor(
    private readonly writerDb: SQLite.Database,
    private readonly readerDb: SQLite.Database | null,
  ) {
    this.writer = statementCache(writerDb);
    this.reader = readerDb ? statementCache(readerDb) : null;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new Connection(this);
  }

  async beginTransaction(connection: Connection): Promise<void> {
    await this.lock.acquire();
    try {
      // IMMEDIATE: the write lock is taken (or waited for, busy_timeout) now. A deferred
      // transaction that reads first fails at its first write, without waiting, if another
      // process (`spika worker`) committed in between.
      this.writer("begin immediate").run();
    } catch (err) {
      this.lock.release();
      throw err;
    }
    connection.inTransaction = true;
  }

  // A failed commit leaves the transaction open: the caller rolls it back, which unlocks.
  async commitTransaction(connection: Connection): Promise<void> {
    this.writer("commit").run();
    this.end(connection);
  }

  async rollbackTransaction(connection: Connection): Promise<void> {
    try {
      if (this.writerDb.inTransaction) this.writer("rollback").run();
    } finally {
      this.end(connection);
    }
  }

  private end(connection: Connection): void {
    connection.inTransaction = false;
    this.lock.release();
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    this.readerDb?.close();
    this.writerDb.close();
  }
}

/** `reader`: a second connection to the same file, for reads while a transaction is open (none for :memory:). */
export class SqliteRoutingDialect extends SqliteDialect {
  constructor(
    private readonly writerDb: SQLite.Database,
    private readonly readerDb: SQLite.Database | null,
  ) {
    super({ database: writerDb });
  }

  override createDriver(): Driver {
    return new RoutingDriver(this.writerDb, this.readerDb);
  }
}
