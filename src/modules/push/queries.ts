// Who gets a push for a new message and what it says (§7.2); the push job (src/jobs/handlers/push.ts) sends them.
import type { Db } from "../../db/index.js";
import type { DeviceRow, MessageRow } from "../../db/schema.js";
import type { FcmMessage } from "../../providers/push.js";
import { copyHolders, findMessage, messageView } from "../messages/queries.js";
import { asCopy } from "../messages/views.js";
import { findRoom, membersOf, pairKey, unreadCounts } from "../rooms/queries.js";
import { mutedUserIds } from "../rooms/userSettings.js";
import { findUser } from "../users/queries.js";
import { pushMessages } from "./views.js";

export interface Push {
  device: DeviceRow;
  message: FcmMessage;
}

/**
 * Every device of the users holding a copy of the message (members at send time, minus blockers
 * of the sender in a private room) that has a push token and a live access token; never the
 * sending device; the author's other devices only when they are Android (so Android can sync).
 * `only`: the devices a retried push still has to reach.
 */
async function pushTargets(db: Db, message: MessageRow, only?: number[]): Promise<DeviceRow[]> {
  const holders = await copyHolders(db, message);
  if (holders.length === 0) return [];
  const devices = await db
    .selectFrom("devices")
    .selectAll()
    .where("userId", "in", holders)
    .where("pushToken", "is not", null)
    .where("pushToken", "!=", "")
    .where("tokenExpiredAt", ">", Date.now())
    // A device that did not exist when the message was sent holds no copy of it (§9.1).
    .where("createdAt", "<=", message.createdAt)
    .$if(only !== undefined, (q) => q.where("id", "in", only!.length ? only! : [0]))
    .orderBy("id")
    .execute();
  return devices.filter((d) => d.id !== message.fromDeviceId && (d.userId !== message.fromUserId || (d.osName ?? "").toLowerCase() === "android"));
}

/** The pushes message `messageId` calls for now: none once it is gone or deleted for everyone, or its room is. */
export async function pushesFor(db: Db, messageId: number, only?: number[]): Promise<Push[]> {
  const message = await findMessage(db, messageId);
  if (!message || message.deleted === 1) return [];
  const room = await findRoom(db, message.roomId);
  if (!room || room.deleted === 1) return [];
  const devices = await pushTargets(db, message, only);
  if (devices.length === 0) return [];

  const userIds = [...new Set(devices.map((d) => d.userId))];
  const [view, members, unread, muted] = await Promise.all([
    messageView(db, asCopy(message)),
    membersOf(db, [room.id]),
    unreadCounts(db, { roomIds: [room.id], userIds }),
    mutedUserIds(db, room.id, userIds),
  ]);
  const inRoom = members.get(room.id) ?? [];
  const author = inRoom.find((m) => m.userId === message.fromUserId)?.user ?? (await findUser(db, message.fromUserId));
  const pushFor = pushMessages(view, room, author?.displayName ?? "");
  const perUser = new Map(
    userIds.map((userId) => [
      userId,
      pushFor({
        unreadCount: unread.get(pairKey(room.id, userId)) ?? 0,
        muted: muted.has(userId),
        avatarFileId: room.type === "private" ? (inRoom.find((m) => m.userId !== userId)?.user.avatarFileId ?? 0) : room.avatarFileId,
      }),
    ]),
  );
  return devices.map((device) => ({ device, message: { token: device.pushToken!, ...perUser.get(device.userId)! } }));
}
