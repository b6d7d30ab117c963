// The size of the set a list query selects from (its page is fetched separately).
import { sql, type SelectQueryBuilder } from "kysely";

// Any table set: only count(*) is read from it.
export async function countRows(q: SelectQueryBuilder<any, any, any>): Promise<number> {
  const row = await q.clearSelect().select(sql<number>`count(*)`.as("n")).executeTakeFirstOrThrow();
  return Number(row.n);
}
