// Message rows, as one user's copy (§9.1), → the Message models of API.md §2.5/§2.6.
import Type from "typebox";
import type { Db } from "../../db/index.js";
import type { MessageRecordRow, MessageRow } from "../../db/schema.js";
import { AnyObject, Nullable } from "../../http/schema.js";

export const Message = Type.Object({
  id: Type.Integer(),
  roomId: Type.Integer(),
  fromUserId: Type.Integer(),
  totalUserCount: Type.Integer(),
  deliveredCount: Type.Integer(),
  seenCount: Type.Integer(),
  type: Type.String(),
  body: AnyObject,
  createdAt: Type.Integer(),
  modifiedAt: Type.Integer(),
  localId: Nullable(Type.String()),
  replyId: Nullable(Type.Integer()),
  deleted: Type.Boolean(),
  isForwarded: Type.Boolean(),
  hasLink: Type.Boolean(),
});
export type MessageView = Type.Static<typeof Message>;

/** The body of POST /messages and of the bot API's POST /messaging/messages. */
export const SendMessageBody = Type.Object({
  roomId: Type.Integer({ minimum: 1 }),
  type: Type.String({ minLength: 1 }),
  body: AnyObject,
  localId: Type.Optional(Type.String({ maxLength: 256 })),
  replyId: Type.Optional(Type.Integer({ minimum: 1 })),
  hasLink: Type.Optional(Type.Boolean()),
});

export const MessageRecord = Type.Object({
  id: Type.Integer(),
  type: Type.String(),
  messageId: Type.Integer(),
  userId: Type.Integer(),
  reaction: Nullable(Type.String()),
  roomId: Type.Integer(),
  createdAt: Type.Integer(),
  modifiedAt: Type.Integer(),
  isDeleted: Type.Boolean(),
});
export type MessageRecordView = Type.Static<typeof MessageRecord>;

export const MessageWithReactions = Type.Intersect([Message, Type.Object({ messageRecords: Type.Array(MessageRecord) })]);

export const recordView = (r: MessageRecordRow): MessageRecordView => ({
  id: r.id,
  type: r.type,
  messageId: r.messageId,
  userId: r.userId,
  reaction: r.reaction,
  roomId: r.roomId,
  createdAt: r.createdAt,
  modifiedAt: r.modifiedAt,
  isDeleted: r.isDeleted === 1,
});

/** A message row together with the viewer's exception to it, if any ("their copy"). */
export type CopyRow = MessageRow & { exKind: "deleted" | "hidden" | null; exModifiedAt: number | null };

export const DELETED_BODY = { text: "Deleted message" };
export const MEDIA_TYPES = new Set(["image", "video", "audio", "file"]);

const isDeletedCopy = (m: CopyRow) => m.deleted === 1 || m.exKind === "deleted";

const fileIdsOf = (body: Record<string, unknown>): number[] =>
  [body.fileId, body.thumbId].filter((v): v is number => typeof v === "number" && Number.isSafeInteger(v));

export const parseBody = (m: Pick<MessageRow, "body">): Record<string, unknown> => JSON.parse(m.body) as Record<string, unknown>;

/** Copies → Message models, with `file`/`thumb` objects added from one files query (§2.6). */
export async function messageViews(db: Db, rows: CopyRow[]): Promise<MessageView[]> {
  const bodies = rows.map((m) => (isDeletedCopy(m) ? null : parseBody(m)));
  const ids = [...new Set(bodies.flatMap((b, i) => (b && MEDIA_TYPES.has(rows[i].type) ? fileIdsOf(b) : [])))];
  const files = ids.length
    ? await db.selectFrom("files").select(["id", "fileName", "mimeType", "size", "metaDuration", "metaWidth", "metaHeight"]).where("id", "in", ids).execute()
    : [];
  const compact = new Map(
    files.map((f) => [
      f.id,
      { id: f.id, fileName: f.fileName, mimeType: f.mimeType, size: f.size, metaData: { duration: f.metaDuration, width: f.metaWidth, height: f.metaHeight } },
    ]),
  );
  return rows.map((m, i) => {
    let body: Record<string, unknown> = bodies[i] ?? DELETED_BODY;
    if (bodies[i] && MEDIA_TYPES.has(m.type)) {
      const file = compact.get(body.fileId as number);
      const thumb = compact.get(body.thumbId as number);
      body = { ...body, ...(file ? { file } : {}), ...(thumb ? { thumb } : {}) };
    }
    return {
      id: m.id,
      roomId: m.roomId,
      fromUserId: m.fromUserId,
      totalUserCount: m.totalUserCount,
      deliveredCount: m.deliveredCount,
      seenCount: m.seenCount,
      type: m.type,
      body,
      createdAt: m.createdAt,
      modifiedAt: Math.max(m.modifiedAt, m.exModifiedAt ?? 0),
      localId: m.localId,
      replyId: m.replyId,
      deleted: isDeletedCopy(m),
      isForwarded: m.isForwarded === 1,
      hasLink: m.hasLink === 1,
    };
  });
}

export async function messageView(db: Db, row: CopyRow): Promise<MessageView> {
  return (await messageViews(db, [row]))[0];
}

/** The shared row as the sender sees it right after a write (no personal exception). */
export const asCopy = (m: MessageRow, ex: Pick<CopyRow, "exKind" | "exModifiedAt"> = { exKind: null, exModifiedAt: null }): CopyRow => ({
  ...m,
  ...ex,
});

/** MessageWithReactions (§2.5): each message with its reaction records. */
export function withReactions(views: MessageView[], reactions: MessageRecordView[]) {
  const byMessage = new Map<number, MessageRecordView[]>();
  for (const r of reactions) byMessage.set(r.messageId, [...(byMessage.get(r.messageId) ?? []), r]);
  return views.map((v) => ({ ...v, messageRecords: byMessage.get(v.id) ?? [] }));
}
