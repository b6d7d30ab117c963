// Start-up failures an operator can fix, as one line naming the cause and what to check; a
// stack trace helps nobody who only mistyped a port or a database name.
import type { Config } from "./config.js";
import { describeDatabase } from "./log.js";

interface SystemError {
  code?: string;
  message?: string;
  address?: string;
  port?: number;
  errors?: SystemError[];
}

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET"]);

/** One line for a known start-up failure, or null for anything else (then the stack is shown). */
export function explainStartupError(error: unknown, config: Pick<Config, "databaseUrl" | "host" | "port">): string | null {
  if (!error || typeof error !== "object") return null;
  const err = error as SystemError;
  // Node reports a failed connection to a name with several addresses as an AggregateError.
  const code = err.code ?? err.errors?.[0]?.code;
  const database = describeDatabase(config.databaseUrl);
  const name = database.slice(database.lastIndexOf("/") + 1);

  if (code === "EADDRINUSE") return `port ${config.port} on ${config.host} is already in use: stop the other server or set PORT to a free port`;
  if (code === "EACCES" && err.port !== undefined) return `not allowed to listen on port ${config.port}: ports below 1024 need privileges; set PORT (e.g. 3000)`;
  if (code === "EADDRNOTAVAIL") return `cannot listen on ${config.host}: this machine has no such address; check HOST`;

  if (config.databaseUrl.startsWith("postgres")) {
    if (code && UNREACHABLE.has(code)) return `cannot reach the database (${database}, ${code}): check that PostgreSQL is running there and DATABASE_URL`;
    if (code === "3D000") return `the database does not exist (${database}): create it (createdb ${name}) or fix DATABASE_URL`;
    if (code === "28P01" || code === "28000") return `the database refused the login (${database}): check the user and password in DATABASE_URL`;
    if (/pg_trgm/.test(err.message ?? "")) {
      return `cannot create the PostgreSQL extension pg_trgm in ${database} (${err.message}): run "CREATE EXTENSION pg_trgm;" in that database once as a superuser (the package postgresql-contrib provides it)`;
    }
  } else {
    if (code === "SQLITE_CANTOPEN" || code === "EACCES" || code === "EROFS")
      return `cannot open the database file (${database}): check that its folder exists and is writable, or fix DATABASE_URL`;
    if (code === "SQLITE_NOTADB") return `${database} is not a SQLite database: check DATABASE_URL`;
  }
  return null;
}
