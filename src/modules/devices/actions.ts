// Changes to a device.
import type { MeOnDevice } from "../../actor.js";
import { transact, type AppContext } from "../../context.js";
import type { DeviceRow } from "../../db/schema.js";
import { notFound } from "../../http/errors.js";
import { findDevice } from "./queries.js";

/** The caller's device as stored now (the authenticated row may come from the token cache). */
export async function currentDevice(ctx: AppContext, me: MeOnDevice): Promise<DeviceRow> {
  const device = await findDevice(ctx.db, me.device.id);
  if (!device) throw notFound("Device not found");
  return device;
}

/** §3.13: only `pushToken` changes; an absent field leaves the device as it is. */
export async function setPushToken(ctx: AppContext, me: MeOnDevice, pushToken: string | undefined): Promise<DeviceRow> {
  if (pushToken === undefined) return currentDevice(ctx, me);
  const now = Date.now();
  await transact(ctx, (tx) => tx.updateTable("devices").set({ pushToken, modifiedAt: now }).where("id", "=", me.device.id).execute());
  return currentDevice(ctx, me);
}

/** The push service refused `pushToken` for good (§7.2). */
export async function clearPushToken(ctx: AppContext, deviceId: number, pushToken: string): Promise<void> {
  // Only the token that was refused: the app may have registered a new one meanwhile.
  await transact(ctx, (tx) => tx.updateTable("devices").set({ pushToken: null, modifiedAt: Date.now() }).where("id", "=", deviceId).where("pushToken", "=", pushToken).execute());
}
