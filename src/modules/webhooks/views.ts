// Webhook rows → the Webhook model of API.md §2.5.
import Type from "typebox";
import { model } from "../../http/openapi.js";
import type { WebhookRow } from "../../db/schema.js";

export const Webhook = model("Webhook", Type.Object({
  id: Type.Integer(),
  url: Type.String(),
  verifySignature: Type.String(),
  roomId: Type.Integer(),
  createdAt: Type.Integer(),
  modifiedAt: Type.Integer(),
}));
export type WebhookView = Type.Static<typeof Webhook>;

export const webhookView = (w: WebhookRow): WebhookView => ({
  id: w.id,
  url: w.url,
  verifySignature: w.verifySignature,
  roomId: w.roomId,
  createdAt: w.createdAt,
  modifiedAt: w.modifiedAt,
});
