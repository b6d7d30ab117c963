// Reads of room webhooks (§4.17).
import type { Db } from "../../db/index.js";
import type { WebhookRow } from "../../db/schema.js";

export const findWebhook = (db: Db, id: number): Promise<WebhookRow | undefined> =>
  db.selectFrom("webhooks").selectAll().where("id", "=", id).executeTakeFirst();

/** A room's webhooks by id. */
export const webhooksOfRoom = (db: Db, roomId: number): Promise<WebhookRow[]> =>
  db.selectFrom("webhooks").selectAll().where("roomId", "=", roomId).orderBy("id").execute();
