// The audit trail of operators' changes (management API, `spika admin`): a row written in the
// same transaction as the change it records, so neither exists without the other.
import type { Tx } from "../../db/index.js";
import type { UserRow } from "../../db/schema.js";

/** An operator acting on others' data: `admin:<username>` (management API) or `cli:<os user>`. */
export interface Operator {
  operator: string;
}

/** Who asks for a change that either a user or an operator can make. */
export type Actor = UserRow | Operator;

export const isOperator = (actor: Actor): actor is Operator => "operator" in actor;

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
