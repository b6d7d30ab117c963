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

/**
 * Page `page` of the ordered select `q`, each row with `total`: how many rows `q` selects in all
 * (`count(*) over ()`, taken before the limit). For a set that the page query must read whole
 * anyway to sort it (a sync from time 0 pages through thousands of rows by offset), the count
 * then costs no second pass over the set; see pageTotal() for the count itself.
 */
export function pageWithTotal<DB, TB extends keyof DB, O>(q: SelectQueryBuilder<DB, TB, O>, opts: { page: number; limit: number }) {
  return q
    .select(sql<number | string>`count(*) over ()`.as("total"))
    .limit(opts.limit)
    .offset((opts.page - 1) * opts.limit);
}

/**
 * The exact size of the set of a pageWithTotal() page: the `total` of its rows; an empty first
 * page is an empty set; an empty later page (past the end) carries no total, so `countAll` runs.
 */
export async function pageTotal(rows: ReadonlyArray<{ total: number | string }>, page: number, countAll: () => Promise<number>): Promise<number> {
  if (rows.length > 0) return Number(rows[0]!.total);
  return page === 1 ? 0 : countAll();
}
