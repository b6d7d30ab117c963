// 'push' jobs (§7.2): one per NEW_MESSAGE, enqueued by createMessage in its transaction. The
// recipients are worked out when the job runs: every device of the users holding a copy of the
// message (members at send time, minus blockers of the sender in a private room) that has a
// push token and a live access token; never the sending device; the author's other devices
// only when they are Android (so Android can sync).
import type { AppContext } from "../../context.js";
import type { DeviceRow, MessageRow, RoomRow } from "../../db/schema.js";
import { copyHolders, findMessage, messageView } from "../../modules/messages/queries.js";
import { asCopy } from "../../modules/messages/views.js";
import { findRoom, membersOf, unreadCounts } from "../../modules/rooms/queries.js";
import { createPushSender, type FcmMessage, type PushSender } from "../../providers/push.js";
import { RetryJobError, type JobHandler } from "../worker.js";

export interface PushJob {
  messageId: number;
  /** Set on a retry: only these devices are still to be reached. */
  deviceIds?: number[];
}

/** Pushes sent at once per job. */
const PARALLEL = 16;

/** Devices that get a push for `message` (§7.2). */
export async function pushTargets(ctx: AppContext, message: MessageRow, only?: number[]): Promise<DeviceRow[]> {
  const holders = await copyHolders(ctx.db, message);
  if (holders.length === 0) return [];
  const devices = await ctx.db
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
  return devices.filter(
    (d) => d.id !== message.fromDeviceId && (d.userId !== message.fromUserId || (d.osName ?? "").toLowerCase() === "android"),
  );
}

/** The FCM v1 message of §7.2 for each recipient user (all data values are JSON strings). */
async function messagesFor(ctx: AppContext, message: MessageRow, room: RoomRow, userIds: number[]): Promise<Map<number, Omit<FcmMessage, "token">>> {
  const [view, members, unread, mutes] = await Promise.all([
    messageView(ctx.db, asCopy(message)),
    membersOf(ctx.db, [room.id]),
    unreadCounts(ctx.db, { roomIds: [room.id], userIds }),
    ctx.db.selectFrom("userSettings").select("userId").where("userId", "in", userIds).where("key", "=", `mute_${room.id}`).execute(),
  ]);
  const inRoom = members.get(room.id) ?? [];
  const author = inRoom.find((m) => m.userId === message.fromUserId)?.user ?? (await ctx.db.selectFrom("users").selectAll().where("id", "=", message.fromUserId).executeTakeFirst());
  const muted = new Set(mutes.map((m) => m.userId));
  const isPrivate = room.type === "private";
  const messageAttributes = JSON.stringify(isPrivate ? { fromUserName: author?.displayName ?? "" } : { fromUserName: author?.displayName ?? "", groupName: room.name });
  const data = JSON.stringify(view);
  const out = new Map<number, Omit<FcmMessage, "token">>();
  for (const userId of userIds) {
    const isMuted = muted.has(userId);
    // Private rooms show the other user's avatar, other rooms their own.
    const avatarFileId = isPrivate ? (inRoom.find((m) => m.userId !== userId)?.user.avatarFileId ?? 0) : room.avatarFileId;
    out.set(userId, {
      data: {
        message: data,
        messageAttributes,
        roomAttributes: JSON.stringify({ unreadCount: unread.get(`${room.id}:${userId}`) ?? 0, muted: isMuted, avatarFileId }),
      },
      android: { priority: "HIGH" },
      webpush: { headers: { Topic: String(room.id) } },
      apns: {
        payload: {
          aps: isMuted ? { "content-available": 1 } : { "mutable-content": 1, alert: { title: "New message" }, "thread-id": String(room.id) },
        },
      },
    });
  }
  return out;
}

export function pushHandler(ctx: AppContext, sender: PushSender = createPushSender(ctx.config, ctx.log)): JobHandler {
  return {
    async run(payload: PushJob) {
      const message = await findMessage(ctx.db, payload.messageId);
      // Gone, or deleted for everyone before the push went out: nothing to announce.
      if (!message || message.deleted === 1) return;
      const room = await findRoom(ctx.db, message.roomId);
      if (!room || room.deleted === 1) return;
      const devices = await pushTargets(ctx, message, payload.deviceIds);
      if (devices.length === 0) return;
      const perUser = await messagesFor(ctx, message, room, [...new Set(devices.map((d) => d.userId))]);

      const retry: number[] = [];
      const errors: string[] = [];
      for (let i = 0; i < devices.length; i += PARALLEL) {
        await Promise.all(
          devices.slice(i, i + PARALLEL).map(async (device) => {
            const outcome = await sender.send({ token: device.pushToken!, ...perUser.get(device.userId)! }, { deviceId: device.id, messageId: message.id });
            if (outcome.result === "sent") return;
            if (outcome.result === "unregistered") {
              // Only the token FCM refused: the app may have registered a new one meanwhile.
              await ctx.db
                .updateTable("devices")
                .set({ pushToken: null, modifiedAt: Date.now() })
                .where("id", "=", device.id)
                .where("pushToken", "=", device.pushToken)
                .execute();
              ctx.log.info({ deviceId: device.id, err: outcome.error }, "push token unregistered: cleared");
            } else if (outcome.result === "transient") {
              retry.push(device.id);
              errors.push(outcome.error);
            } else {
              ctx.log.warn({ deviceId: device.id, messageId: message.id, err: outcome.error }, "push rejected");
            }
          }),
        );
      }
      if (retry.length > 0) {
        throw new RetryJobError(`push failed for ${retry.length} of ${devices.length} devices: ${errors[0]}`, { messageId: message.id, deviceIds: retry.sort((a, b) => a - b) });
      }
    },
  };
}
