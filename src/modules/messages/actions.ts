// Every change to messages and their records (§4.14, §4.15, §9.2, §9.3). One shared row per
// message; per-user exceptions instead of per-device copies (docs/messages.md).
import { transact, type AfterCommit, type AppContext } from "../../context.js";
import type { Dialect, Tx } from "../../db/index.js";
import { prepared } from "../../db/prepared.js";
import type { MessageRecordRow, MessageRow, RoomRow } from "../../db/schema.js";
import type { DeviceAuth } from "../../http/auth.js";
import { badRequest, forbidden, notFound } from "../../http/errors.js";
import { enqueueAll } from "../../jobs/queue.js";
import { checkFileClaims } from "../files/access.js";
import { blocksPrivatePeer, findRoom, memberRoom, membership } from "../rooms/queries.js";
import { webhooksOfRoom } from "../webhooks/queries.js";
import { copyHolders, copyOf, findMessage, visibleCopy } from "./queries.js";
import { asCopy, DELETED_BODY, MEDIA_TYPES, messageView, parseBody, recordView, type MessageView } from "./views.js";

export const MESSAGE_TYPES = ["text", "image", "video", "audio", "file"] as const;

export interface NewMessage {
  room: RoomRow;
  fromUserId: number;
  /** null for system and bot messages: then every device of every member gets it. */
  fromDeviceId: number | null;
  type: string;
  body: Record<string, unknown>;
  localId?: string | null;
  replyId?: number | null;
  hasLink?: boolean;
  isForwarded?: boolean;
  /**
   * NEW_MESSAGE to the sending device too: clients add what they send with POST /messages
   * themselves, but wait for the event for what they forward or share.
   */
  echoToSendingDevice?: boolean;
}

interface Audience {
  members: number[];
  /** In a private room, members who blocked the author: no copy, no notifications. */
  blockers: number[];
  /** Some member's device can get a push. */
  pushable: boolean;
  hasWebhooks: boolean;
}

/** Who a message by `authorId` reaches, and which follow-ups it needs. One query. */
async function audienceOf(tx: Tx, roomId: number, authorId: number): Promise<Audience> {
  const rows = await membersAndBlocks(tx, { roomId, authorId });
  return {
    members: rows.map((r) => r.userId),
    blockers: rows.filter((r) => r.type === "private" && r.blockId !== null && r.userId !== authorId).map((r) => r.userId),
    // (Uncorrelated: both engines evaluate these once per statement, not per row.)
    pushable: Boolean(rows[0]?.pushable),
    hasWebhooks: Boolean(rows[0]?.hasWebhooks),
  };
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

// The statements of every send, built once (src/db/prepared.ts).
type MessageValues = Omit<MessageRow, "id" | "deleted">;
const insertMessage = prepared((db, a: MessageValues) =>
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
const insertAuthorRecords = prepared((db, a: { messageId: number; roomId: number; userId: number; now: number }) =>
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
const setLastMessage = prepared((db, a: { roomId: number; messageId: number; now: number }) =>
  db
    .updateTable("rooms")
    .set((eb) => ({ lastMessageId: a.messageId, lastMessageAt: a.now, messageCount: eb("messageCount", "+", 1) }))
    .where("id", "=", a.roomId),
);
/**
 * Creates one message and its fan-out (§9.2) inside `tx`: the shared row, `hidden`
 * exceptions for blockers, the author's delivered+seen records, the room's last message;
 * after commit NEW_MESSAGE to every recipient device but the sending one (unless
 * `echoToSendingDevice`) and NEW_MESSAGE_RECORD for the author's records. A repeated `localId`
 * returns the first message and does nothing else.
 */
export async function createMessage(tx: Tx, after: AfterCommit, m: NewMessage): Promise<{ message: MessageRow; created: boolean }> {
  const { members, blockers, pushable, hasWebhooks } = await audienceOf(tx, m.room.id, m.fromUserId);
  const now = Date.now();
  const [message] = await insertMessage(tx, {
    roomId: m.room.id,
    fromUserId: m.fromUserId,
    fromDeviceId: m.fromDeviceId,
    type: m.type,
    body: JSON.stringify(m.body),
    localId: m.localId ?? null,
    replyId: m.replyId ?? null,
    totalUserCount: members.length,
    deliveredCount: 1,
    seenCount: 1,
    isForwarded: m.isForwarded ? 1 : 0,
    hasLink: m.hasLink ? 1 : 0,
    createdAt: now,
    modifiedAt: now,
  });
  if (!message) {
    const existing = await findByLocalId(tx, m.room.id, m.fromUserId, m.localId!);
    if (!existing) throw new Error("message with this localId vanished");
    return { message: existing, created: false };
  }
  const records = await insertAuthorRecords(tx, { messageId: message.id, roomId: m.room.id, userId: m.fromUserId, now });
  if (blockers.length > 0) {
    await tx
      .insertInto("messageExceptions")
      .values(blockers.map((userId) => ({ messageId: message.id, roomId: m.room.id, userId, kind: "hidden" as const, createdAt: now, modifiedAt: now })))
      .execute();
  }
  await setLastMessage(tx, { roomId: m.room.id, messageId: message.id, now });
  // Durable follow-ups, committed with the message (src/jobs): its push (§7.2) and, except for
  // system messages, one call per webhook of the room (§8.1).
  // A room where no device can receive a push gets no push job: the job's own cost (claim,
  // recipients, delete) was ~40 % of the SQL time of a send in the benchmark.
  const hooks = m.type === "system" || !hasWebhooks ? [] : await webhooksOfRoom(tx, m.room.id);
  await enqueueAll(
    tx,
    [
      ...(pushable ? [{ kind: "push", payload: { messageId: message.id } }] : []),
      ...hooks.map((h) => ({ kind: "webhook", payload: { webhookId: h.id, messageId: message.id } })),
    ],
    { after },
  );

  const recipients = members.filter((id) => !blockers.includes(id));
  const view = await messageView(tx, asCopy(message));
  const excludeDeviceIds = m.fromDeviceId && !m.echoToSendingDevice ? [m.fromDeviceId] : [];
  after.emit({ userIds: recipients, excludeDeviceIds, data: { type: "NEW_MESSAGE", message: view } });
  for (const r of records) {
    after.emit({
      userIds: recipients,
      data: { type: "NEW_MESSAGE_RECORD", messageRecord: recordView(r), deliveredCount: 1, seenCount: 1, totalUserCount: members.length },
    });
  }
  return { message, created: true };
}

const findByLocalId = async (tx: Tx, roomId: number, fromUserId: number, localId: string): Promise<MessageRow | undefined> =>
  (await messageByLocalId(tx, { roomId, fromUserId, localId }))[0];
const messageByLocalId = prepared((db, a: { roomId: number; fromUserId: number; localId: string }) =>
  db.selectFrom("messages").selectAll().where("roomId", "=", a.roomId).where("fromUserId", "=", a.fromUserId).where("localId", "=", a.localId),
);

/** §2.6 system message by `actor` (room administration, notes). */
export async function createSystemMessage(
  tx: Tx,
  after: AfterCommit,
  room: RoomRow,
  actor: { id: number; displayName: string | null },
  type: string,
  text: string,
  objects: Array<{ id: number; name: string }> = [],
): Promise<MessageRow> {
  const body = {
    text,
    subject: actor.displayName ?? "",
    subjectId: actor.id,
    type,
    objects: objects.map((o) => o.name),
    objectIds: objects.map((o) => o.id),
  };
  return (await createMessage(tx, after, { room, fromUserId: actor.id, fromDeviceId: null, type: "system", body })).message;
}

const URL_PATTERN = /\bhttps?:\/\/[^\s]+|\bwww\.[^\s]+\.[a-z]{2,}/i;
export const containsLink = (text: unknown) => typeof text === "string" && URL_PATTERN.test(text);

/**
 * §2.6 body rules for a user's message: media need files the sender may attach
 * (checkFileClaims), text needs `text`, a reply must point at a message of the same room the
 * sender can see (its view is embedded as `referenceMessage`).
 */
export async function checkedBody(
  tx: Tx,
  dialect: Dialect,
  senderId: number,
  roomId: number,
  type: string,
  body: Record<string, unknown>,
  replyId: number | null | undefined,
): Promise<Record<string, unknown>> {
  const out = { ...body };
  delete out.referenceMessage;
  delete out.file;
  delete out.thumb;
  if (MEDIA_TYPES.has(type)) {
    if (body.fileId === undefined || body.fileId === null) throw badRequest("fileId is missing");
    await checkFileClaims(tx, dialect, senderId, "attachment", { fileId: body.fileId, thumbId: body.thumbId });
  } else if (type !== "text") {
    throw badRequest("Invalid type");
  }
  if (replyId !== undefined && replyId !== null) {
    const ref = await visibleCopy(tx, senderId, replyId);
    if (!ref || ref.roomId !== roomId) throw badRequest("there is no message with replyId");
    out.referenceMessage = await messageView(tx, ref);
  }
  if (type === "text" && (typeof body.text !== "string" || body.text.length === 0)) throw badRequest("Text is missing");
  return out;
}

/** Loads a room the sender may post to (§4.14 checks 1–3). */
export async function postableRoom(tx: Tx, senderId: number, roomId: number, opts: { notMember: () => Error }): Promise<RoomRow> {
  const member = await memberRoom(tx, roomId, senderId);
  if (!member) throw opts.notMember();
  if (member.room.deleted === 1) throw forbidden("Chat is deleted");
  if (member.blocksPeer) throw forbidden("Chat is blocked");
  return member.room;
}

export interface SendInput {
  roomId: number;
  type: string;
  body: Record<string, unknown>;
  localId?: string;
  replyId?: number;
  hasLink?: boolean;
}

/** POST /messages (§4.14). */
export async function sendMessage(ctx: AppContext, sender: { userId: number; deviceId: number | null }, input: SendInput): Promise<MessageView> {
  return transact(ctx, async (tx, after) => {
    const room = await postableRoom(tx, sender.userId, input.roomId, { notMember: () => badRequest("Chat user not found") });
    // A retried send returns the first message before the body is looked at again.
    const existing = input.localId ? await findByLocalId(tx, room.id, sender.userId, input.localId) : undefined;
    if (existing) return messageView(tx, (await copyOf(tx, sender.userId, existing.id))!);
    const body = await checkedBody(tx, ctx.dialect, sender.userId, room.id, input.type, input.body, input.replyId);
    const { message, created } = await createMessage(tx, after, {
      room,
      fromUserId: sender.userId,
      fromDeviceId: sender.deviceId,
      type: input.type,
      body,
      localId: input.localId ?? null,
      replyId: input.replyId ?? null,
      hasLink: input.hasLink ?? false,
    });
    return messageView(tx, created ? asCopy(message) : (await copyOf(tx, sender.userId, message.id))!);
  });
}

/** PUT /messages/:id (§4.14). */
export async function editMessage(
  ctx: AppContext,
  me: DeviceAuth,
  id: number,
  input: { text: string; thumbnailData?: unknown; hasLink?: boolean },
): Promise<MessageView> {
  return transact(ctx, async (tx, after) => {
    const message = await findMessage(tx, id);
    if (!message) throw notFound("Not found");
    if (message.fromUserId !== me.user.id) throw forbidden("Forbidden");
    if (!(await membership(tx, message.roomId, me.user.id))) throw forbidden("User is not in room");
    if (message.type !== "text") throw badRequest("Only messages with type text can be edited");
    if (message.isForwarded === 1) throw badRequest("Forwarded messages can't be edited");
    if (message.deleted === 1) throw badRequest("Deleted messages can't be edited");
    const room = await findRoom(tx, message.roomId);
    if (room && (await blocksPrivatePeer(tx, room, me.user.id))) throw forbidden("Room is blocked");

    const body = { ...parseBody(message), text: input.text, thumbnailData: input.thumbnailData ?? null };
    const updated = await tx
      .updateTable("messages")
      .set({
        body: JSON.stringify(body),
        modifiedAt: Math.max(Date.now(), message.modifiedAt + 1),
        ...(input.hasLink !== undefined ? { hasLink: input.hasLink ? 1 : 0 } : {}),
      })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const view = await messageView(tx, (await copyOf(tx, me.user.id, id)) ?? asCopy(updated));
    after.emit({ userIds: await copyHolders(tx, updated), data: { type: "UPDATE_MESSAGE", message: { ...view, deleted: false } } });
    return view;
  });
}

export type DeleteTarget = "all" | "user";

async function deleteOne(tx: Tx, after: AfterCommit, me: number, id: number, target: DeleteTarget): Promise<MessageView> {
  const message = await findMessage(tx, id);
  if (!message) throw notFound("Message not found");
  if (!(await membership(tx, message.roomId, me))) throw forbidden("User is not in room");
  const now = Date.now();
  if (target === "all") {
    if (message.fromUserId !== me) throw forbidden("Only the sender can delete a message for everyone");
    const updated = await tx
      .updateTable("messages")
      .set({ deleted: 1, type: "text", body: JSON.stringify(DELETED_BODY), modifiedAt: Math.max(now, message.modifiedAt + 1) })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const view = await messageView(tx, asCopy(updated));
    after.emit({ userIds: await copyHolders(tx, updated), data: { type: "DELETE_MESSAGE", message: view } });
    return view;
  }
  const existing = await copyOf(tx, me, id);
  if (existing?.exKind !== "hidden") {
    await tx
      .insertInto("messageExceptions")
      .values({ messageId: id, roomId: message.roomId, userId: me, kind: "deleted", createdAt: now, modifiedAt: now })
      .onConflict((oc) => oc.columns(["messageId", "userId"]).doUpdateSet({ kind: "deleted", modifiedAt: now }))
      .execute();
  }
  const view = await messageView(tx, (await copyOf(tx, me, id))!);
  after.emit({ userIds: [me], data: { type: "DELETE_MESSAGE", message: view } });
  return view;
}

/** DELETE /messages/:id and POST /messages/delete-many (§4.14): all or nothing. */
export async function deleteMessages(ctx: AppContext, me: number, ids: number[], target: DeleteTarget): Promise<MessageView[]> {
  return transact(ctx, async (tx, after) => {
    const out: MessageView[] = [];
    for (const id of ids) out.push(await deleteOne(tx, after, me, id, target));
    return out;
  });
}

type RecordType = "delivered" | "seen";

/**
 * Creates the missing `type` records of `userId` for `messageIds` (§9.3): one record per
 * (message, user, type), counters incremented atomically by the number of records actually
 * inserted, NEW_MESSAGE_RECORD after commit to the room members (minus blockers of `userId`).
 */
export async function addRecords(
  ctx: AppContext,
  tx: Tx,
  after: AfterCommit,
  userId: number,
  messages: MessageRow[],
  types: RecordType[],
): Promise<void> {
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
  for (const roomId of new Set(created.map((r) => r.roomId))) {
    const { members, blockers } = await audienceOf(tx, roomId, userId);
    audiences.set(roomId, members.filter((id) => !blockers.includes(id)));
  }
  for (const r of created) {
    const c = counters.get(r.messageId)!;
    after.emit({
      userIds: audiences.get(r.roomId) ?? [],
      data: { type: "NEW_MESSAGE_RECORD", messageRecord: recordView(r), deliveredCount: c.deliveredCount, seenCount: c.seenCount, totalUserCount: c.totalUserCount },
    });
  }
}

/** POST /messages/delivered (§4.14). */
export async function markDelivered(ctx: AppContext, me: number, messageIds: number[]): Promise<void> {
  await transact(ctx, async (tx, after) => {
    const ids = [...new Set(messageIds)];
    const found = ids.length ? await tx.selectFrom("messages").selectAll().where("id", "in", ids).execute() : [];
    if (found.length === 0) throw badRequest("No messages with given ids found");
    if (found.length < ids.length) {
      const have = new Set(found.map((m) => m.id));
      throw badRequest(`Messages with ids: ${ids.filter((id) => !have.has(id)).join(", ")} not found`);
    }
    const rooms = [...new Set(found.map((m) => m.roomId))];
    const mine = await tx.selectFrom("roomUsers").select("roomId").where("userId", "=", me).where("roomId", "in", rooms).execute();
    if (mine.length < rooms.length) throw badRequest("One or more message is from room that user is not part of");
    await addRecords(ctx, tx, after, me, found, ["delivered"]);
  });
}

/** POST /messages/:roomId/seen (§4.14): everything visible becomes seen (and delivered). */
export async function markRoomSeen(ctx: AppContext, me: DeviceAuth, roomId: number): Promise<void> {
  await transact(ctx, async (tx, after) => {
    const member = await membership(tx, roomId, me.user.id);
    if (!member) throw badRequest("user is not in this room");
    const unseen = await tx
      .selectFrom("messages as m")
      .selectAll("m")
      .where("m.roomId", "=", roomId)
      .where("m.id", ">", member.seenMessageId)
      .where("m.createdAt", ">=", member.createdAt)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("messageExceptions as e").select("e.id").whereRef("e.messageId", "=", "m.id").where("e.userId", "=", me.user.id).where("e.kind", "=", "hidden"),
          ),
        ),
      )
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
export async function markReadDelivered(ctx: AppContext, me: number, messageIds: number[]): Promise<void> {
  if (messageIds.length === 0) return;
  const already = await ctx.db
    .selectFrom("messageRecords")
    .select("messageId")
    .where("userId", "=", me)
    .where("type", "=", "delivered")
    .where("messageId", "in", messageIds)
    .execute();
  const have = new Set(already.map((r) => r.messageId));
  const missing = messageIds.filter((id) => !have.has(id));
  if (missing.length === 0) return;
  await transact(ctx, async (tx, after) => {
    const rows = await tx.selectFrom("messages").selectAll().where("id", "in", missing).execute();
    await addRecords(ctx, tx, after, me, rows, ["delivered"]);
  });
}

/** POST /message-records (§4.15): a reaction (replacing the user's previous one), or seen/delivered. */
export async function addMessageRecord(
  ctx: AppContext,
  me: number,
  input: { messageId: number; type: "reaction" | RecordType; reaction?: string },
) {
  return transact(ctx, async (tx, after) => {
    const message = await findMessage(tx, input.messageId);
    if (!message || !(await visibleCopy(tx, me, message.id))) throw notFound("Message not found");
    const room = await findRoom(tx, message.roomId);
    if (room && (await blocksPrivatePeer(tx, room, me))) throw forbidden("Room is blocked");
    if (input.type !== "reaction") {
      await addRecords(ctx, tx, after, me, [message], [input.type]);
      return tx
        .selectFrom("messageRecords")
        .selectAll()
        .where("messageId", "=", message.id)
        .where("userId", "=", me)
        .where("type", "=", input.type)
        .executeTakeFirstOrThrow();
    }
    const now = Date.now();
    const record = await tx
      .insertInto("messageRecords")
      .values({ messageId: message.id, roomId: message.roomId, userId: me, type: "reaction", reaction: input.reaction!, createdAt: now, modifiedAt: now })
      .onConflict((oc) => oc.columns(["messageId", "userId", "type"]).doUpdateSet({ reaction: input.reaction!, isDeleted: 0, modifiedAt: now }))
      .returningAll()
      .executeTakeFirstOrThrow();
    await emitReactionEvent(tx, after, "NEW_MESSAGE_RECORD", message, record);
    return record;
  });
}

async function emitReactionEvent(tx: Tx, after: AfterCommit, type: string, message: MessageRow, record: MessageRecordRow) {
  const { members, blockers } = await audienceOf(tx, message.roomId, record.userId);
  const c = await tx.selectFrom("messages").select(["deliveredCount", "seenCount", "totalUserCount"]).where("id", "=", message.id).executeTakeFirstOrThrow();
  after.emit({
    userIds: members.filter((id) => !blockers.includes(id)),
    data: { type, messageRecord: recordView(record), deliveredCount: c.deliveredCount, seenCount: c.seenCount, totalUserCount: c.totalUserCount },
  });
}

/** DELETE /message-records/:id (§4.15): soft delete of the caller's own reaction. */
export async function deleteReaction(ctx: AppContext, me: number, id: number) {
  return transact(ctx, async (tx, after) => {
    const record = await tx.selectFrom("messageRecords").selectAll().where("id", "=", id).where("userId", "=", me).executeTakeFirst();
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

