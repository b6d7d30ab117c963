// Reads of the audit trail, newest first.
import type { Db } from "../../db/index.js";
import { pageWithCount } from "../../db/count.js";

const AUDIT_PAGE_LIMIT = 50;

export async function auditPage(db: Db, page: number) {
  const { list, count } = await pageWithCount(db.selectFrom("auditLog").selectAll().orderBy("id", "desc"), page, AUDIT_PAGE_LIMIT);
  return { list, count, limit: AUDIT_PAGE_LIMIT };
}
