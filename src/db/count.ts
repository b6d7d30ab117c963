// Paged lists: the size of the set a list query selects from, and a page of it with that size.
import { sql, type SelectQueryBuilder } from "kysely";

/** Page size of the `sync/:lastUpdate` lists of rooms, messages and users (§4.11, §4.14, §3). */
export const SYNC_LIMIT = 100;

export async function countRows<DB, TB extends keyof DB, O>(q: SelectQueryBuilder<DB, TB, O>): Promise<number> {
  const row = await q.clearSelect().clearOrderBy().select(sql<number>`count(*)`.as("n")).$castTo<{ n: number }>().executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Page `page` (1-based, `limit` rows) of the ordered select `q`, and how many rows `q` selects in all: run side by side. */
export async function pageAndCount<DB, TB extends keyof DB, O>(q: SelectQueryBuilder<DB, TB, O>, opts: { page: number; limit: number }): Promise<{ rows: O[]; count: number }> {
  const [rows, count] = await Promise.all([
    q
      .limit(opts.limit)
      .offset((opts.page - 1) * opts.limit)
      .execute(),
    countRows(q),
  ]);
  return { rows, count };
}
