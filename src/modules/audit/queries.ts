// Reads of the audit trail, newest first.
import type { Db } from "../../db/index.js";
import { countRows } from "../../db/count.js";

export const AUDIT_PAGE_LIMIT = 50;

export async function auditPage(db: Db, page: number) {
  const [list, count] = await Promise.all([
    db.selectFrom("auditLog").selectAll().orderBy("id", "desc").limit(AUDIT_PAGE_LIMIT).offset((page - 1) * AUDIT_PAGE_LIMIT).execute(),
    countRows(db.selectFrom("auditLog")),
  ]);
  return { list, count, limit: AUDIT_PAGE_LIMIT };
}
