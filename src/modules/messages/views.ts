// Message rows, as one user's copy (§9.1), → the Message models of API.md §2.5/§2.6.
import Type from "typebox";
import type { FileRow, MessageRow } from "../../db/schema.js";
import { docAs, model } from "../../http/openapi.js";
import { AnyObject, Nullable } from "../../http/schema.js";
import { MessageRecord, type MessageRecordView } from "../records/views.js";

// Message bodies by `type` (§2.6), for the document: the server stores any further keys verbatim.
const Open = { additionalProperties: true };
const CompactFile = model(
  "CompactFile",
  Type.Object(
    {
      id: Type.Integer(),
      fileName: Type.String(),
      mimeType: Type.String(),
      size: Type.Number(),
      metaData: Type.Object({ duration: Type.Integer(), width: Type.Integer(), height: Type.Integer() }),
    },
    { description: "The file a media body points at, added by the server when the message is read." },
  ),
);
const TextBody = model(
  "TextBody",
  Type.Object(
    {
      text: Type.String({ minLength: 1, description: "required on send; `Deleted message` for deleted copies" }),
      referenceMessage: Type.Optional(Type.Object({}, { ...Open, description: "the replied-to Message, embedded by the server when `replyId` is sent" })),
      thumbnailData: Type.Optional(Type.Unknown({ description: "link preview; set (or null) by edits" })),
    },
    { ...Open, description: 'Body of a `text` message (also of every deleted copy: `{text: "Deleted message"}`).' },
  ),
);
const mediaBody = (type: string) =>
  model(
    `${type[0].toUpperCase()}${type.slice(1)}Body`,
    Type.Object(
      {
        fileId: Type.Integer({ minimum: 1, description: "required on send: a File the sender uploaded (POST /api/upload/files/verify)" }),
        thumbId: Type.Optional(Type.Integer({ minimum: 1, description: "optional thumbnail File" })),
        text: Type.Optional(Type.String({ description: "caption" })),
        file: Type.Optional(CompactFile),
        thumb: Type.Optional(CompactFile),
      },
      { ...Open, description: `Body of a \`${type}\` message; \`file\` and \`thumb\` are added by the server on read.` },
    ),
  );
const SYSTEM_EVENTS = [
  "created_group",
  "user_left_group",
  "updated_group_name",
  "updated_group_avatar",
  "added_group_members",
  "removed_group_members",
  "added_group_admins",
  "removed_group_admins",
  "created_note",
  "updated_note",
  "deleted_note",
];
const SystemBody = model(
  "SystemBody",
  Type.Object(
    {
      text: Type.String({ description: "English text, informative" }),
      subject: Type.String({ description: "display name of the acting user" }),
      subjectId: Type.Integer({ description: "id of the acting user" }),
      type: Type.Union(SYSTEM_EVENTS.map((e) => Type.Literal(e))),
      objects: Type.Array(Type.String(), { description: "names of the users or the note concerned" }),
      objectIds: Type.Array(Type.Integer(), { description: "their ids" }),
    },
    { description: "Body of a `system` message (created by the server for room administration and notes; never sent by clients)." },
  ),
);

/** Message `body`: a free JSON object, whose keys depend on the message `type`. */
export const MessageBody = docAs(
  AnyObject,
  model("MessageBody", {
    description:
      "Depends on the message `type`: `text` → TextBody, `image` → ImageBody, `video` → VideoBody, `audio` → AudioBody, `file` → FileBody, `system` → SystemBody. Other keys sent by the client are stored and returned verbatim.",
    anyOf: [TextBody, mediaBody("image"), mediaBody("video"), mediaBody("audio"), mediaBody("file"), SystemBody],
  }),
);

export const Message = model(
  "Message",
  Type.Object({
    id: Type.Integer(),
    roomId: Type.Integer(),
    fromUserId: Type.Integer(),
    totalUserCount: Type.Integer(),
    deliveredCount: Type.Integer(),
    seenCount: Type.Integer(),
    type: Type.String({ description: "text, image, video, audio, file or system" }),
    body: MessageBody,
    createdAt: Type.Integer(),
    modifiedAt: Type.Integer(),
    localId: Nullable(Type.String()),
    replyId: Nullable(Type.Integer()),
    deleted: Type.Boolean(),
    isForwarded: Type.Boolean(),
    hasLink: Type.Boolean(),
  }),
);
export type MessageView = Type.Static<typeof Message>;

/** The body of POST /messages and of the bot API's POST /messaging/messages. */
export const SendMessageBody = model(
  "SendMessage",
  Type.Object({
    roomId: Type.Integer({ minimum: 1 }),
    type: Type.String({ minLength: 1, description: "text, image, video, audio or file" }),
    body: MessageBody,
    localId: Type.Optional(Type.String({ maxLength: 256 })),
    replyId: Type.Optional(Type.Integer({ minimum: 1 })),
    hasLink: Type.Optional(Type.Boolean()),
  }),
);

export const MessageWithReactions = model(
  "MessageWithReactions",
  Type.Intersect([Message, Type.Object({ messageRecords: Type.Array(MessageRecord, { description: "its reaction records, deleted ones included" }) })]),
);

/** A message row together with the viewer's exception to it, if any ("their copy"). */
export type CopyRow = MessageRow & { exKind: "deleted" | "hidden" | null; exModifiedAt: number | null };

export const DELETED_BODY = { text: "Deleted message" };
export const MEDIA_TYPES = new Set(["image", "video", "audio", "file"]);

const isDeletedCopy = (m: CopyRow) => m.deleted === 1 || m.exKind === "deleted";

const fileIdsOf = (body: Record<string, unknown>): number[] => [body.fileId, body.thumbId].filter((v): v is number => typeof v === "number" && Number.isSafeInteger(v));

export const parseBody = (m: Pick<MessageRow, "body">): Record<string, unknown> => JSON.parse(m.body) as Record<string, unknown>;

type CompactFileView = Type.Static<typeof CompactFile>;
type FileRowPart = Pick<FileRow, "id" | "fileName" | "mimeType" | "size" | "metaDuration" | "metaWidth" | "metaHeight">;

/** The ids of the files a copy's body points at (none for deleted copies and non-media types). */
export const attachedFileIds = (m: CopyRow): number[] => (isDeletedCopy(m) || !MEDIA_TYPES.has(m.type) ? [] : fileIdsOf(parseBody(m)));

export const compactFiles = (files: FileRowPart[]): Map<number, CompactFileView> =>
  new Map(
    files.map((f) => [
      f.id,
      { id: f.id, fileName: f.fileName, mimeType: f.mimeType, size: f.size, metaData: { duration: f.metaDuration, width: f.metaWidth, height: f.metaHeight } },
    ]),
  );

/** Copies → Message models, with the `file`/`thumb` objects of their bodies from `files` (§2.6). */
export function shapeMessages(rows: CopyRow[], files: Map<number, CompactFileView>): MessageView[] {
  return rows.map((m) => {
    const deleted = isDeletedCopy(m);
    let body: Record<string, unknown> = deleted ? DELETED_BODY : parseBody(m);
    if (!deleted && MEDIA_TYPES.has(m.type)) {
      const file = files.get(body.fileId as number);
      const thumb = files.get(body.thumbId as number);
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
      deleted,
      isForwarded: m.isForwarded === 1,
      hasLink: m.hasLink === 1,
    };
  });
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
