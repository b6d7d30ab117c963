// Device rows → the Device model of API.md §2.5 (only ever shown to its owner).
import Type from "typebox";
import { model } from "../../http/openapi.js";
import type { DeviceRow } from "../../db/schema.js";
import { Nullable } from "../../http/schema.js";

export const Device = model(
  "Device",
  Type.Object({
    id: Type.Integer(),
    userId: Type.Integer(),
    token: Nullable(Type.String()),
    tokenExpiredAt: Nullable(Type.Integer()),
    osName: Nullable(Type.String()),
    osVersion: Nullable(Type.String()),
    appVersion: Nullable(Type.String()),
    deviceName: Nullable(Type.String()),
    pushToken: Nullable(Type.String()),
    deviceId: Type.String(),
    type: Nullable(Type.String()),
  }),
);
export type DeviceView = Type.Static<typeof Device>;

/** `token` is the clear token when the caller has it in hand (it is stored hashed). */
export function deviceView(d: DeviceRow, token: string | null): DeviceView {
  return {
    id: d.id,
    userId: d.userId,
    token: d.tokenHash ? token : null,
    tokenExpiredAt: d.tokenExpiredAt,
    osName: d.osName,
    osVersion: d.osVersion,
    appVersion: d.appVersion,
    deviceName: d.deviceName,
    pushToken: d.pushToken,
    deviceId: d.deviceId,
    type: d.type,
  };
}
