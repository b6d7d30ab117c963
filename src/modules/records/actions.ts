// Every change to message records (§4.14, §4.15, §9.3): delivered and seen records with the
// message counters, and reactions. Written when users read, never per recipient on send.
import type { Me, MeOnDevice } from "../../actor.js";
import { transact, type AfterCommit, type AppContext } from "../../context.js";
import type { Tx } from "../../db/index.js";
import type { MessageRecordRow, MessageRow } from "../../db/schema.js";
import { badRequest, forbidden, notFound } from "../../http/errors.js";
import { accessMessage, findMessage, notHiddenFrom } from "../messages/queries.js";
import { recipientsOf } from "../messages/statements.js";
import { accessRoom, memberRoomIds } from "../rooms/access.js";
import { recordView } from "./views.js";

type RecordType = "delivered" | "seen";

/**
 * Creates the missing `type` records of `userId` for `messageIds` (§9.3): one record per
 * (message, user, type), counters incremented atomically by the number of records actually
 * inserted, NEW_MESSAGE_RECORD after commit to the room members (minus blockers of `userId`).
 */
async function addRecords(ctx: AppContext, tx: Tx, after: AfterCommit, userId: number, messages: MessageRow[], types: RecordType[]): Promise<void> {
  if (messages.length === 0) return;
  if (ctx.dialect === "postgres") {
    // Lock the counted rows first, in id order: concurrent requests for the same messages then
    // queue here instead of deadlocking between the record inserts and the counter updates.
    await tx
      .selectFrom("messages")
      .select("id")
      .where(
        "id",
        "in",
        messages.map((m) => m.id),
      )
      .orderBy("id")
      .forUpdate()
      .execute();
  }
  const now = Date.now();
  const created = [];
  for (const type of types) {
    for (let i = 0; i < messages.length; i += 500) {
      const chunk = messages.slice(i, i + 500);
      const rows = await tx
        .insertInto("messageRecords")
        .values(chunk.map((m) => ({ messageId: m.id, roomId: m.roomId, userId, type, reaction: null, createdAt: now, modifiedAt: now })))
        .onConflict((oc) => oc.columns(["messageId", "userId", "type"]).doNothing())
        .returningAll()
        .execute();
      if (rows.length === 0) continue;
      const column = type === "seen" ? "seenCount" : "deliveredCount";
      await tx
        .updateTable("messages")
        .set((eb) => ({ [column]: eb(column, "+", 1) }))
        .where(
          "id",
          "in",
          rows.map((r) => r.messageId),
        )
        .execute();
      created.push(...rows);
    }
  }
  if (created.length === 0) return;
  const ids = [...new Set(created.map((r) => r.messageId))];
  const counters = new Map(
    (await tx.selectFrom("messages").select(["id", "deliveredCount", "seenCount", "totalUserCount"]).where("id", "in", ids).execute()).map((c) => [c.id, c]),
  );
  const audiences = new Map<number, number[]>();
  for (const roomId of new Set(created.map((r) => r.roomId))) audiences.set(roomId, await recipientsOf(tx, roomId, userId));
  for (const r of created) {
    const c = counters.get(r.messageId)!;
    after.emit({
      userIds: audiences.get(r.roomId) ?? [],
      data: { type: "NEW_MESSAGE_RECORD", messageRecord: recordView(r), deliveredCount: c.deliveredCount, seenCount: c.seenCount, totalUserCount: c.totalUserCount },
    });
  }
}

/** POST /messages/delivered (§4.14). */
export async function markDelivered(ctx: AppContext, me: Me, messageIds: number[]): Promise<void> {
  const userId = me.user.id;
  await transact(ctx, async (tx, after) => {
    const ids = [...new Set(messageIds)];
    const found = ids.length ? await tx.selectFrom("messages").selectAll().where("id", "in", ids).execute() : [];
    if (found.length === 0) throw badRequest("No messages with given ids found");
    if (found.length < ids.length) {
      const have = new Set(found.map((m) => m.id));
      throw badRequest(`Messages with ids: ${ids.filter((id) => !have.has(id)).join(", ")} not found`);
    }
    const rooms = [...new Set(found.map((m) => m.roomId))];
    if ((await memberRoomIds(tx, userId, rooms)).size < rooms.length) throw badRequest("One or more message is from room that user is not part of");
    await addRecords(ctx, tx, after, userId, found, ["delivered"]);
  });
}

/** POST /messages/:roomId/seen (§4.14): everything visible becomes seen (and delivered). */
export async function markRoomSeen(ctx: AppContext, me: MeOnDevice, roomId: number): Promise<void> {
  await transact(ctx, async (tx, after) => {
    const { member } = await accessRoom(tx, roomId, me.user.id, { denied: () => badRequest("user is not in this room") });
    const unseen = await tx
      .selectFrom("messages as m")
      .selectAll("m")
      .where("m.roomId", "=", roomId)
      .where("m.id", ">", member.seenMessageId)
      .where("m.createdAt", ">=", member.createdAt)
      .where((eb) => notHiddenFrom(eb, eb.ref("m.id"), me.user.id))
      .orderBy("m.id")
      .execute();
    await addRecords(ctx, tx, after, me.user.id, unseen, ["seen", "delivered"]);
    const last = await tx.selectFrom("rooms").select("lastMessageId").where("id", "=", roomId).executeTakeFirst();
    const marker = Math.max(member.seenMessageId, last?.lastMessageId ?? 0, unseen.at(-1)?.id ?? 0);
    await tx.updateTable("roomUsers").set({ seenMessageId: marker }).where("id", "=", member.id).execute();
    after.emit({ userIds: [me.user.id], excludeDeviceIds: [me.device.id], data: { type: "SEEN_ROOM", roomId } });
  });
}

/** Room history side effect (§4.14): returned messages become delivered to the reader. */
export async function markReadDelivered(ctx: AppContext, me: Me, messageIds: number[]): Promise<void> {
  const userId = me.user.id;
  if (messageIds.length === 0) return;
  const already = await ctx.db
    .selectFrom("messageRecords")
    .select("messageId")
    .where("userId", "=", userId)
    .where("type", "=", "delivered")
    .where("messageId", "in", messageIds)
    .execute();
  const have = new Set(already.map((r) => r.messageId));
  const missing = messageIds.filter((id) => !have.has(id));
  if (missing.length === 0) return;
  await transact(ctx, async (tx, after) => {
    const rows = await tx.selectFrom("messages").selectAll().where("id", "in", missing).execute();
    await addRecords(ctx, tx, after, userId, rows, ["delivered"]);
  });
}

/** POST /message-records (§4.15): a reaction (replacing the user's previous one), or seen/delivered. */
export async function addMessageRecord(ctx: AppContext, me: Me, input: { messageId: number; type: "reaction" | RecordType; reaction?: string }) {
  const userId = me.user.id;
  return transact(ctx, async (tx, after) => {
    const message = await accessMessage(tx, userId, input.messageId);
    if (!message) throw notFound("Message not found");
    if ((await accessRoom(tx, message.roomId, userId)).blocksPeer) throw forbidden("Room is blocked");
    if (input.type !== "reaction") {
      await addRecords(ctx, tx, after, userId, [message], [input.type]);
      return tx.selectFrom("messageRecords").selectAll().where("messageId", "=", message.id).where("userId", "=", userId).where("type", "=", input.type).executeTakeFirstOrThrow();
    }
    const now = Date.now();
    const record = await tx
      .insertInto("messageRecords")
      .values({ messageId: message.id, roomId: message.roomId, userId, type: "reaction", reaction: input.reaction!, createdAt: now, modifiedAt: now })
      .onConflict((oc) => oc.columns(["messageId", "userId", "type"]).doUpdateSet({ reaction: input.reaction!, isDeleted: 0, modifiedAt: now }))
      .returningAll()
      .executeTakeFirstOrThrow();
    await emitReactionEvent(tx, after, "NEW_MESSAGE_RECORD", message, record);
    return record;
  });
}

async function emitReactionEvent(tx: Tx, after: AfterCommit, type: string, message: MessageRow, record: MessageRecordRow) {
  const recipients = await recipientsOf(tx, message.roomId, record.userId);
  const c = await tx.selectFrom("messages").select(["deliveredCount", "seenCount", "totalUserCount"]).where("id", "=", message.id).executeTakeFirstOrThrow();
  after.emit({
    userIds: recipients,
    data: { type, messageRecord: recordView(record), deliveredCount: c.deliveredCount, seenCount: c.seenCount, totalUserCount: c.totalUserCount },
  });
}

/** DELETE /message-records/:id (§4.15): soft delete of the caller's own reaction. */
export async function deleteReaction(ctx: AppContext, me: Me, id: number) {
  const userId = me.user.id;
  return transact(ctx, async (tx, after) => {
    const record = await tx.selectFrom("messageRecords").selectAll().where("id", "=", id).where("userId", "=", userId).executeTakeFirst();
    if (!record) throw notFound("Not found");
    if (record.type !== "reaction") throw notFound("Only reactions can be deleted");
    const updated = await tx
      .updateTable("messageRecords")
      .set({ isDeleted: 1, reaction: "Deleted reaction", modifiedAt: Math.max(Date.now(), record.modifiedAt + 1) })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const message = await findMessage(tx, record.messageId);
    if (message) await emitReactionEvent(tx, after, "DELETE_MESSAGE_RECORD", message, updated);
    return updated;
  });
}
