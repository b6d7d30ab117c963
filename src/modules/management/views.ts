// Rows → the models of the management API: the messenger's models plus what only an operator
// sees (a bot's webhook URL and devices, device times, the audit trail).
import Type, { type TSchema } from "typebox";
import type { AuditLogRow, DeviceRow, UserRow } from "../../db/schema.js";
import { Nullable } from "../../http/schema.js";
import { Device, deviceView } from "../devices/views.js";
import { User, userView } from "../users/views.js";

/** A page of a list, with the field names the admin app reads. */
export const Paged = <T extends TSchema>(item: T) => Type.Object({ list: Type.Array(item), count: Type.Integer(), limit: Type.Integer() });

export const AdminUser = Type.Object({ ...User.properties, webhookUrl: Nullable(Type.String()) });
export const adminUserView = (u: UserRow) => ({ ...userView(u), webhookUrl: u.webhookUrl });

export const AdminDevice = Type.Object({ ...Device.properties, createdAt: Type.Integer(), modifiedAt: Type.Integer() });
/** `token` only when it has just been issued (only its hash is stored). */
export const adminDeviceView = (d: DeviceRow, token: string | null = null) => ({ ...deviceView(d, token), createdAt: d.createdAt, modifiedAt: d.modifiedAt });

/** A bot with its device(s), as the app's bot page reads it (`device[0].token`). */
export const Bot = Type.Object({ ...AdminUser.properties, device: Type.Array(AdminDevice) });
export const botView = (u: UserRow, devices: DeviceRow[], token: string | null = null) => ({
  ...adminUserView(u),
  device: devices.map((d) => adminDeviceView(d, token)),
});

export const AuditEntry = Type.Object({
  id: Type.Integer(),
  actor: Type.String(),
  action: Type.String(),
  targetType: Type.String(),
  targetId: Nullable(Type.Integer()),
  details: Nullable(Type.Record(Type.String(), Type.Unknown())),
  createdAt: Type.Integer(),
});
export const auditEntryView = (r: AuditLogRow) => ({
  id: r.id,
  actor: r.actor,
  action: r.action,
  targetType: r.targetType,
  targetId: r.targetId,
  details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
  createdAt: r.createdAt,
});
