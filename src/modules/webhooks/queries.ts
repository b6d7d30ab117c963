// Reads of room webhooks (§4.17) and what a webhook is sent (§8.1).
import type { Db } from "../../db/index.js";
import { prepared } from "../../db/prepared.js";
import type { WebhookRow } from "../../db/schema.js";
import { findMessage, messageView } from "../messages/queries.js";
import { asCopy } from "../messages/views.js";
import { findRoom } from "../rooms/queries.js";
import { findUser } from "../users/queries.js";
import { webhookBody } from "./views.js";

export const findWebhook = (db: Db, id: number): Promise<WebhookRow | undefined> => db.selectFrom("webhooks").selectAll().where("id", "=", id).executeTakeFirst();

/** A room's webhooks by id. */
export const webhooksOfRoom = (db: Db, roomId: number): Promise<WebhookRow[]> => hooksOfRoom(db, { roomId });
// Looked up by every send.
const hooksOfRoom = prepared((db, a: { roomId: number }) => db.selectFrom("webhooks").selectAll().where("roomId", "=", a.roomId).orderBy("id"));

/** The call webhook `webhookId` gets for message `messageId`; none once either is gone. */
export async function webhookCall(db: Db, webhookId: number, messageId: number): Promise<{ hook: WebhookRow; body: string } | undefined> {
  const hook = await findWebhook(db, webhookId);
  const message = hook ? await findMessage(db, messageId) : undefined;
  if (!hook || !message) return undefined;
  const [view, fromUser, room] = await Promise.all([messageView(db, asCopy(message)), findUser(db, message.fromUserId), findRoom(db, message.roomId)]);
  return { hook, body: webhookBody(view, fromUser, room) };
}
