// Webhook rows → the Webhook model of API.md §2.5, and the body a webhook is sent (§8.1).
import Type from "typebox";
import { model } from "../../http/openapi.js";
import type { RoomRow, UserRow, WebhookRow } from "../../db/schema.js";
import type { MessageView } from "../messages/views.js";

export const Webhook = model(
  "Webhook",
  Type.Object({
    id: Type.Integer(),
    url: Type.String(),
    verifySignature: Type.String(),
    roomId: Type.Integer(),
    createdAt: Type.Integer(),
    modifiedAt: Type.Integer(),
  }),
);
export type WebhookView = Type.Static<typeof Webhook>;

export const webhookView = (w: WebhookRow): WebhookView => ({
  id: w.id,
  url: w.url,
  verifySignature: w.verifySignature,
  roomId: w.roomId,
  createdAt: w.createdAt,
  modifiedAt: w.modifiedAt,
});

/** The JSON body POSTed to a webhook for a new message. */
export const webhookBody = (message: MessageView, fromUser: UserRow | undefined, room: RoomRow | undefined): string =>
  JSON.stringify({
    message,
    fromUser: { displayName: fromUser?.displayName ?? null, avatarFileId: fromUser?.avatarFileId ?? 0 },
    room: { name: room?.name ?? "", avatarFileId: room?.avatarFileId ?? 0 },
  });
