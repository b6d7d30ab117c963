// `spika backup <file>`: a consistent copy of a SQLite database while the server keeps running.
// SQLite's online backup API copies page by page and starts over on pages written meanwhile, so
// the copy is a committed state even under load; no server has to stop. PostgreSQL has pg_dump.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import SQLite from "better-sqlite3";

export class BackupError extends Error {}

/** Copies the database of `databaseUrl` into `destination` (a new file); returns its page count. */
export async function backupSqlite(databaseUrl: string, destination: string): Promise<number> {
  if (!databaseUrl.startsWith("sqlite:")) {
    throw new BackupError("spika backup copies SQLite databases; for PostgreSQL use pg_dump (see docs/operations.md)");
  }
  const source = databaseUrl.slice("sqlite:".length);
  if (source === ":memory:") throw new BackupError("DATABASE_URL=sqlite::memory: has nothing to back up");
  if (!existsSync(source)) throw new BackupError(`no database at ${resolve(source)}: check DATABASE_URL`);
  if (existsSync(destination)) throw new BackupError(`${resolve(destination)} already exists: choose a new file name`);
  const db = new SQLite(source, { fileMustExist: true });
  try {
    const { totalPages } = await db.backup(destination);
    return totalPages;
  } finally {
    db.close();
  }
}
