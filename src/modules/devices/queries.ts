// Reads of devices.
import type { Db } from "../../db/index.js";
import type { DeviceRow } from "../../db/schema.js";

export const findDevice = (db: Db, id: number): Promise<DeviceRow | undefined> =>
  db.selectFrom("devices").selectAll().where("id", "=", id).executeTakeFirst();

export const findDeviceByDeviceId = (db: Db, deviceId: string): Promise<DeviceRow | undefined> =>
  db.selectFrom("devices").selectAll().where("deviceId", "=", deviceId).executeTakeFirst();

export const findDeviceByTokenHash = (db: Db, tokenHash: string): Promise<DeviceRow | undefined> =>
  db.selectFrom("devices").selectAll().where("tokenHash", "=", tokenHash).executeTakeFirst();
