// Every change to messages (§4.14, §9.2): send, edit, delete, and the room history read that
// marks what it returns delivered. One shared row per message; per-user exceptions instead of
// per-device copies (docs/messages.md). Records and reactions: modules/records.
import type { Me } from "../../actor.js";
import { transact, type AfterCommit, type AppContext } from "../../context.js";
import type { Dialect, Tx } from "../../db/index.js";
import type { MessageRow, RoomRow } from "../../db/schema.js";
import { badRequest, forbidden, notFound } from "../../http/errors.js";
import { enqueueAll } from "../../jobs/queue.js";
import { checkFileClaims } from "../files/access.js";
import { markReadDelivered } from "../records/actions.js";
import { messagesWithReactions } from "../records/queries.js";
import { recordView } from "../records/views.js";
import { accessRoom } from "../rooms/access.js";
import { webhooksOfRoom } from "../webhooks/queries.js";
import { accessMessage, copyHolders, findMessage, messageView, roomHistory } from "./queries.js";
import { audienceOf, findByLocalId, insertAuthorRecords, insertMessage, setLastMessage } from "./statements.js";
import { asCopy, DELETED_BODY, MEDIA_TYPES, parseBody, type CopyRow, type MessageView } from "./views.js";

export interface SendInput {
  roomId: number;
  type: string;
  body: Record<string, unknown>;
  localId?: string;
  replyId?: number;
  hasLink?: boolean;
}

/** POST /messages (§4.14). */
export async function sendMessage(ctx: AppContext, me: Me, input: SendInput): Promise<MessageView> {
  const userId = me.user.id;
  return transact(ctx, async (tx, after) => {
    const { room } = await accessRoom(tx, input.roomId, userId, { denied: () => badRequest("Chat user not found"), toPost: true });
    // A retried send returns the first message before the body is looked at again.
    const existing = input.localId ? await findByLocalId(tx, room.id, userId, input.localId) : undefined;
    if (existing) return messageView(tx, await ownCopy(tx, userId, existing));
    const body = await checkedBody(tx, ctx.dialect, userId, room.id, input.type, input.body, input.replyId);
    const { message, created } = await createMessage(tx, after, {
      room,
      fromUserId: userId,
      fromDeviceId: me.device?.id ?? null,
      type: input.type,
      body,
      localId: input.localId ?? null,
      replyId: input.replyId ?? null,
      hasLink: input.hasLink ?? false,
    });
    return messageView(tx, created ? asCopy(message) : await ownCopy(tx, userId, message));
  });
}

/**
 * The sender's copy of a message of theirs found again by localId; the bare row when they no
 * longer hold a copy (they left and rejoined the room since).
 */
const ownCopy = async (tx: Tx, senderId: number, message: MessageRow): Promise<CopyRow> => (await accessMessage(tx, senderId, message.id)) ?? asCopy(message);

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
    [...(pushable ? [{ kind: "push", payload: { messageId: message.id } }] : []), ...hooks.map((h) => ({ kind: "webhook", payload: { webhookId: h.id, messageId: message.id } }))],
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

/** §2.6 system message in the name of `subject` (room administration, notes): the acting user, or one standing in for an operator. */
export async function createSystemMessage(
  tx: Tx,
  after: AfterCommit,
  room: RoomRow,
  subject: { id: number; displayName: string | null },
  type: string,
  text: string,
  objects: Array<{ id: number; name: string }> = [],
): Promise<MessageRow> {
  const body = {
    text,
    subject: subject.displayName ?? "",
    subjectId: subject.id,
    type,
    objects: objects.map((o) => o.name),
    objectIds: objects.map((o) => o.id),
  };
  return (await createMessage(tx, after, { room, fromUserId: subject.id, fromDeviceId: null, type: "system", body })).message;
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
    const ref = await accessMessage(tx, senderId, replyId);
    if (!ref || ref.roomId !== roomId) throw badRequest("there is no message with replyId");
    out.referenceMessage = await messageView(tx, ref);
  }
  if (type === "text" && (typeof body.text !== "string" || body.text.length === 0)) throw badRequest("Text is missing");
  return out;
}

/** PUT /messages/:id (§4.14). */
export async function editMessage(ctx: AppContext, me: Me, id: number, input: { text: string; thumbnailData?: unknown; hasLink?: boolean }): Promise<MessageView> {
  return transact(ctx, async (tx, after) => {
    const message = await findMessage(tx, id);
    if (!message) throw notFound("Not found");
    if (message.fromUserId !== me.user.id) throw forbidden("Forbidden");
    const { blocksPeer } = await accessRoom(tx, message.roomId, me.user.id, { denied: () => forbidden("User is not in room") });
    if (message.type !== "text") throw badRequest("Only messages with type text can be edited");
    if (message.isForwarded === 1) throw badRequest("Forwarded messages can't be edited");
    if (message.deleted === 1) throw badRequest("Deleted messages can't be edited");
    if (blocksPeer) throw forbidden("Room is blocked");

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
    const view = await messageView(tx, (await accessMessage(tx, me.user.id, id)) ?? asCopy(updated));
    after.emit({ userIds: await copyHolders(tx, updated), data: { type: "UPDATE_MESSAGE", message: { ...view, deleted: false } } });
    return view;
  });
}

export type DeleteTarget = "all" | "user";

async function deleteOne(tx: Tx, after: AfterCommit, me: Me, id: number, target: DeleteTarget): Promise<MessageView> {
  const userId = me.user.id;
  const message = await findMessage(tx, id);
  if (!message) throw notFound("Message not found");
  await accessRoom(tx, message.roomId, userId, { denied: () => forbidden("User is not in room") });
  const now = Date.now();
  if (target === "all") {
    if (message.fromUserId !== userId) throw forbidden("Only the sender can delete a message for everyone");
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
  // Only a copy the user holds can be deleted for them.
  if (!(await accessMessage(tx, userId, id))) throw notFound("Message not found");
  await tx
    .insertInto("messageExceptions")
    .values({ messageId: id, roomId: message.roomId, userId, kind: "deleted", createdAt: now, modifiedAt: now })
    .onConflict((oc) => oc.columns(["messageId", "userId"]).doUpdateSet({ kind: "deleted", modifiedAt: now }))
    .execute();
  const view = await messageView(tx, (await accessMessage(tx, userId, id))!);
  after.emit({ userIds: [userId], data: { type: "DELETE_MESSAGE", message: view } });
  return view;
}

/** DELETE /messages/:id and POST /messages/delete-many (§4.14): all or nothing. */
export async function deleteMessages(ctx: AppContext, me: Me, ids: number[], target: DeleteTarget): Promise<MessageView[]> {
  return transact(ctx, async (tx, after) => {
    const out: MessageView[] = [];
    for (const id of ids) out.push(await deleteOne(tx, after, me, id, target));
    return out;
  });
}

/**
 * GET /messages/roomId/:roomId (§4.14): a page of the member's room history with reactions;
 * reading marks the page delivered to them. The reads run outside a transaction (a read-only
 * page must not queue behind the SQLite group commit); only missing delivered records are written.
 */
export async function readRoomHistory(ctx: AppContext, me: Me, roomId: number | null, opts: { cursor?: number; targetMessageId?: number; page: number }) {
  const { member } = await accessRoom(ctx.db, roomId, me.user.id);
  const { rows, count, limit, hasMore } = await roomHistory(ctx.db, member, opts);
  const list = await messagesWithReactions(ctx.db, rows);
  await markReadDelivered(
    ctx,
    me,
    rows.map((r) => r.id),
  );
  return { list, count, limit, nextCursor: hasMore && rows.length ? rows[rows.length - 1].id : null };
}
