// A user's settings for a room (§4.9): `mute_<roomId>` and `pin_<roomId>` rows of user_settings.
import type { Db } from "../../db/index.js";

export type RoomSetting = "mute" | "pin";

/** The one spelling of a room setting's key; its row exists (value "true") while the setting is on. */
export const roomSettingKey = (setting: RoomSetting, roomId: number): string => `${setting}_${roomId}`;

/** Which of `userIds` muted room `roomId`. */
export async function mutedUserIds(db: Db, roomId: number, userIds: number[]): Promise<Set<number>> {
  if (userIds.length === 0) return new Set();
  const rows = await db.selectFrom("userSettings").select("userId").where("userId", "in", userIds).where("key", "=", roomSettingKey("mute", roomId)).execute();
  return new Set(rows.map((r) => r.userId));
}
