// The statements of every send, built once (src/db/prepared.ts): the audience of a message, the
// message row, the author's records, the room's last message, and the localId lookup of a retry.
import type { Tx } from "../../db/index.js";
import { prepared } from "../../db/prepared.js";
import type { MessageRow } from "../../db/schema.js";

export interface Audience {
  members: number[];
  /** In a private room, members who blocked the author: no copy, no notifications. */
  blockers: number[];
  /** Some member's device can get a push. */
  pushable: boolean;
  hasWebhooks: boolean;
}

/** Who a message (or record) by `authorId` reaches, and which follow-ups it needs. One query. */
export async function audienceOf(tx: Tx, roomId: number, authorId: number): Promise<Audience> {
  const rows = await membersAndBlocks(tx, { roomId, authorId });
  return {
    members: rows.map((r) => r.userId),
    blockers: rows.filter((r) => r.type === "private" && r.blockId !== null && r.userId !== authorId).map((r) => r.userId),
    // (Uncorrelated: both engines evaluate these once per statement, not per row.)
    pushable: Boolean(rows[0]?.pushable),
    hasWebhooks: Boolean(rows[0]?.hasWebhooks),
  };
}

/** The members an event about `authorId`'s message or record goes to: the audience minus blockers. */
export async function recipientsOf(tx: Tx, roomId: number, authorId: number): Promise<number[]> {
  const { members, blockers } = await audienceOf(tx, roomId, authorId);
  return members.filter((id) => !blockers.includes(id));
}

const membersAndBlocks = prepared((db, a: { roomId: number; authorId: number }) =>
  db
    .selectFrom("roomUsers as ru")
    .innerJoin("rooms as r", "r.id", "ru.roomId")
    .leftJoin("blocks as b", (j) => j.onRef("b.userId", "=", "ru.userId").on("b.blockedId", "=", a.authorId))
    .select(["ru.userId", "r.type", "b.id as blockId"])
    .select((eb) => [
      eb
        .exists(
          eb
            .selectFrom("roomUsers as pu")
            .innerJoin("devices as d", "d.userId", "pu.userId")
            .select("d.id")
            .where("pu.roomId", "=", a.roomId)
            .where("d.pushToken", "is not", null)
            .where("d.pushToken", "!=", ""),
        )
        .as("pushable"),
      eb.exists(eb.selectFrom("webhooks as w").select("w.id").where("w.roomId", "=", a.roomId)).as("hasWebhooks"),
    ])
    .where("ru.roomId", "=", a.roomId)
    .orderBy("ru.id"),
);

type MessageValues = Omit<MessageRow, "id" | "deleted">;
export const insertMessage = prepared((db, a: MessageValues) =>
  db
    .insertInto("messages")
    .values({
      roomId: a.roomId,
      fromUserId: a.fromUserId,
      fromDeviceId: a.fromDeviceId,
      type: a.type,
      body: a.body,
      localId: a.localId,
      replyId: a.replyId,
      totalUserCount: a.totalUserCount,
      deliveredCount: a.deliveredCount,
      seenCount: a.seenCount,
      isForwarded: a.isForwarded,
      hasLink: a.hasLink,
      createdAt: a.createdAt,
      modifiedAt: a.modifiedAt,
    })
    // A concurrent send with the same localId waits for the first one and then inserts nothing.
    .onConflict((oc) => oc.columns(["roomId", "fromUserId", "localId"]).doNothing())
    .returningAll(),
);

export const insertAuthorRecords = prepared((db, a: { messageId: number; roomId: number; userId: number; now: number }) =>
  db
    .insertInto("messageRecords")
    .values(
      (["delivered", "seen"] as const).map((type) => ({
        messageId: a.messageId,
        roomId: a.roomId,
        userId: a.userId,
        type,
        reaction: null,
        createdAt: a.now,
        modifiedAt: a.now,
      })),
    )
    .returningAll(),
);

export const setLastMessage = prepared((db, a: { roomId: number; messageId: number; now: number }) =>
  db
    .updateTable("rooms")
    .set((eb) => ({ lastMessageId: a.messageId, lastMessageAt: a.now, messageCount: eb("messageCount", "+", 1) }))
    .where("id", "=", a.roomId),
);

export const findByLocalId = async (tx: Tx, roomId: number, fromUserId: number, localId: string): Promise<MessageRow | undefined> =>
  (await messageByLocalId(tx, { roomId, fromUserId, localId }))[0];
const messageByLocalId = prepared((db, a: { roomId: number; fromUserId: number; localId: string }) =>
  db.selectFrom("messages").selectAll().where("roomId", "=", a.roomId).where("fromUserId", "=", a.fromUserId).where("localId", "=", a.localId),
);
