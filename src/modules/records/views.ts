// Message records (seen, delivered, reactions; §2.5, §4.15) → JSON.
import Type from "typebox";
import type { MessageRecordRow } from "../../db/schema.js";
import { model } from "../../http/openapi.js";
import { Nullable } from "../../http/schema.js";

export const MessageRecord = model(
  "MessageRecord",
  Type.Object({
    id: Type.Integer(),
    type: Type.String({ description: "seen, delivered or reaction" }),
    messageId: Type.Integer(),
    userId: Type.Integer(),
    reaction: Nullable(Type.String()),
    roomId: Type.Integer(),
    createdAt: Type.Integer(),
    modifiedAt: Type.Integer(),
    isDeleted: Type.Boolean(),
  }),
);
export type MessageRecordView = Type.Static<typeof MessageRecord>;

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
