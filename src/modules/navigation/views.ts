// Message rows → the compact items of search, gallery and media lists (§4.13, §4.14). Their
// `date` is an ISO string, as upstream's raw rows had it (§1.4, §13a.2).
import Type from "typebox";
import { model } from "../../http/openapi.js";
import { Nullable } from "../../http/schema.js";
import { MessageBody, type MessageView } from "../messages/views.js";

export const MessageItem = model(
  "MessageItem",
  Type.Object({
    messageId: Type.Integer(),
    type: Type.String(),
    body: MessageBody,
    userId: Type.Integer(),
    username: Nullable(Type.String()),
    date: Type.String({ description: "ISO-8601 creation time" }),
  }),
);
export type MessageItemView = Type.Static<typeof MessageItem>;

/** Message models with their senders' display names → items. */
export function messageItemViews(views: MessageView[], names: Map<number, string | null>): MessageItemView[] {
  return views.map((v) => ({
    messageId: v.id,
    type: v.type,
    body: v.body,
    userId: v.fromUserId,
    username: names.get(v.fromUserId) ?? null,
    date: new Date(v.createdAt).toISOString(),
  }));
}
