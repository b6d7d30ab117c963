// Reads of the audit trail, newest first.
import type { Db } from "../../db/index.js";
import { pageAndCount } from "../../db/count.js";

const AUDIT_PAGE_LIMIT = 50;

export async function auditPage(db: Db, page: number) {
  const { rows, count } = await pageAndCount(db.selectFrom("auditLog").selectAll().orderBy("id", "desc"), { page, limit: AUDIT_PAGE_LIMIT });
  return { list: rows, count, limit: AUDIT_PAGE_LIMIT };
}
