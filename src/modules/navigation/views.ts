// Message rows → the compact items of search, gallery and media lists (§4.13, §4.14). Their
// `date` is an ISO string, as upstream's raw rows had it (§1.4, §13a.2).
import Type from "typebox";
import { model } from "../../http/openapi.js";
import type { Db } from "../../db/index.js";
import { Nullable } from "../../http/schema.js";
import { MessageBody, messageViews, type CopyRow } from "../messages/views.js";

export const MessageItem = model("MessageItem", Type.Object({
  messageId: Type.Integer(),
  type: Type.String(),
  body: MessageBody,
  userId: Type.Integer(),
  username: Nullable(Type.String()),
  date: Type.String({ description: "ISO-8601 creation time" }),
}));
export type MessageItemView = Type.Static<typeof MessageItem>;

/** Items of `rows` (the viewer's copies), with file objects in the bodies: two queries. */
export async function messageItems(db: Db, rows: CopyRow[]): Promise<MessageItemView[]> {
  const senders = [...new Set(rows.map((r) => r.fromUserId))];
  const [views, users] = await Promise.all([
    messageViews(db, rows),
    senders.length ? db.selectFrom("users").select(["id", "displayName"]).where("id", "in", senders).execute() : [],
  ]);
  const names = new Map(users.map((u) => [u.id, u.displayName]));
  return views.map((v) => ({
    messageId: v.id,
    type: v.type,
    body: v.body,
    userId: v.fromUserId,
    username: names.get(v.fromUserId) ?? null,
    date: new Date(v.createdAt).toISOString(),
  }));
}
