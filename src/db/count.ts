// Paged lists: the size of the set a list query selects from, and a page of it with that size.
import { sql, type SelectQueryBuilder } from "kysely";

/** Page size of the `sync/:lastUpdate` lists of rooms, messages and users (§4.11, §4.14, §3). */
export const SYNC_LIMIT = 100;

// Any table set: only count(*) is read from it.
export async function countRows(q: SelectQueryBuilder<any, any, any>): Promise<number> {
  const row = await q.clearSelect().clearOrderBy().select(sql<number>`count(*)`.as("n")).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Page `page` (1-based, `limit` rows) of the ordered select `q`, and how many rows `q` selects in all: run side by side. */
export async function pageAndCount<O>(q: SelectQueryBuilder<any, any, O>, opts: { page: number; limit: number }): Promise<{ rows: O[]; count: number }> {
  const [rows, count] = await Promise.all([
    q
      .limit(opts.limit)
      .offset((opts.page - 1) * opts.limit)
      .execute(),
    countRows(q),
  ]);
  return { rows, count };
}
