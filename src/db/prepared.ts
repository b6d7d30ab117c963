// Hot statements built and compiled once per dialect. Kysely rebuilds, transforms (CamelCase)
// and compiles every query anew, which was about a third of the CPU of a send; the SQL text of
// these statements never changes, only their parameters do.
//
// On PostgreSQL they also run as named prepared statements (`statementName`, used by the pool's
// client in src/db/index.ts): each connection parses and analyzes one once, instead of on every
// call as unnamed statements are.
import type { CompiledQuery } from "kysely";
import type { Db } from "./index.js";

/** What `build` received in place of an argument; found again among the compiled parameters. */
class Slot {
  constructor(readonly name: string) {}
}

interface Plan {
  compiled: CompiledQuery;
  /** For each compiled parameter: the argument it comes from, or the constant it is. */
  params: Array<{ arg: string } | { value: unknown }>;
}

/** The SQL text of every hot statement compiled so far, and its prepared statement's name. */
const names = new Map<string, string>();

/** The name to prepare `sql` under on PostgreSQL, when it is the text of a hot statement. */
export const statementName = (sql: string): string | undefined => names.get(sql);

/**
 * `build` is an ordinary Kysely query over `args`; every argument must stand for one SQL value
 * (not a list for `in`, not a column name, not null where `is null` would be compiled). Returns a
 * runner taking the database or a transaction, and the arguments, resolving to the result rows.
 */
export function prepared<A extends object, R>(build: (db: Db, args: A) => { compile(): CompiledQuery<R> }): (db: Db, args: A) => Promise<R[]> {
  // Keyed by the dialect's adapter, which a database and its transactions share.
  const plans = new WeakMap<object, Plan>();
  const argsProxy = new Proxy({}, { get: (_, name) => new Slot(String(name)) }) as A;
  return async (db, args) => {
    const adapter = db.getExecutor().adapter;
    let plan = plans.get(adapter);
    if (!plan) {
      const compiled = build(db, argsProxy).compile();
      plan = { compiled, params: compiled.parameters.map((p) => (p instanceof Slot ? { arg: p.name } : { value: p })) };
      plans.set(adapter, plan);
      if (!names.has(compiled.sql)) names.set(compiled.sql, `spika_${names.size + 1}`);
    }
    const values = args as Record<string, unknown>;
    const parameters = plan.params.map((p) => ("arg" in p ? values[p.arg] : p.value));
    return (await db.executeQuery<R>({ ...plan.compiled, parameters })).rows;
  };
}
