// Reads of room webhooks (§4.17).
import type { Db } from "../../db/index.js";
import { prepared } from "../../db/prepared.js";
import type { WebhookRow } from "../../db/schema.js";

export const findWebhook = (db: Db, id: number): Promise<WebhookRow | undefined> =>
  db.selectFrom("webhooks").selectAll().where("id", "=", id).executeTakeFirst();

/** A room's webhooks by id. */
export const webhooksOfRoom = (db: Db, roomId: number): Promise<WebhookRow[]> => hooksOfRoom(db, { roomId });
// Looked up by every send.
const hooksOfRoom = prepared((db, a: { roomId: number }) => db.selectFrom("webhooks").selectAll().where("roomId", "=", a.roomId).orderBy("id"));
