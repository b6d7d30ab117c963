// The size of the set a list query selects from, alone or with one numbered page of it.
import { sql, type SelectQueryBuilder } from "kysely";

export async function countRows<DB, TB extends keyof DB, O>(q: SelectQueryBuilder<DB, TB, O>): Promise<number> {
  const row = await q.clearSelect().clearOrderBy().select(sql<number>`count(*)`.as("n")).$castTo<{ n: number }>().executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Page `page` (from 1) of `q`, which selects and orders the rows, and the size of the whole set, read side by side. */
export async function pageWithCount<DB, TB extends keyof DB, O>(q: SelectQueryBuilder<DB, TB, O>, page: number, limit: number): Promise<{ list: O[]; count: number }> {
  const [list, count] = await Promise.all([
    q
      .limit(limit)
      .offset((page - 1) * limit)
      .execute(),
    countRows(q),
  ]);
  return { list, count };
}
