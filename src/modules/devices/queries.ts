// Reads of devices.
import type { Db } from "../../db/index.js";
import { prepared } from "../../db/prepared.js";
import type { DeviceRow } from "../../db/schema.js";

export const findDevice = (db: Db, id: number): Promise<DeviceRow | undefined> => db.selectFrom("devices").selectAll().where("id", "=", id).executeTakeFirst();

export const findDeviceByDeviceId = (db: Db, deviceId: string): Promise<DeviceRow | undefined> =>
  db.selectFrom("devices").selectAll().where("deviceId", "=", deviceId).executeTakeFirst();

const deviceByTokenHash = prepared((db, a: { tokenHash: string }) => db.selectFrom("devices").selectAll().where("tokenHash", "=", a.tokenHash));
/** Every authenticated request starts here. */
export const findDeviceByTokenHash = async (db: Db, tokenHash: string): Promise<DeviceRow | undefined> => (await deviceByTokenHash(db, { tokenHash }))[0];
