// The audit trail of operators' changes (management API, `spika admin`): a row written in the
// same transaction as the change it records, so neither exists without the other.
import type { Operator } from "../../actor.js";
import type { Tx } from "../../db/index.js";

export interface AuditEntry {
  action: string;
  targetType: "user" | "device" | "room" | "admin";
  targetId: number | null;
  details?: Record<string, unknown>;
}

export async function recordAudit(tx: Tx, by: Operator, entry: AuditEntry): Promise<void> {
  await tx
    .insertInto("auditLog")
    .values({
      actor: by.operator,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      details: entry.details ? JSON.stringify(entry.details) : null,
      createdAt: Date.now(),
    })
    .execute();
}
