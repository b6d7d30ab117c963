// The §4.17 access rule (shared with API keys) and every change to room webhooks. Calling them is
// the webhook job's business (§8.1).
import type { Me } from "../../actor.js";
import { transact, type AppContext } from "../../context.js";
import { randomAlnum } from "../../crypto.js";
import type { Db } from "../../db/index.js";
import type { RoomRow, WebhookRow } from "../../db/schema.js";
import { badRequest, forbidden, notFound } from "../../http/errors.js";
import { accessRoom } from "../rooms/access.js";
import { findWebhook, webhooksOfRoom } from "./queries.js";

export const NOT_ALLOWED = "User is not in room or he is not admin in this room";

/** §4.17 access check (shared with API keys): the room if `userId` may manage its integrations, else 403. */
export async function managedRoom(db: Db, roomId: number, userId: number): Promise<RoomRow> {
  return (await accessRoom(db, roomId, userId, { asIntegrator: true, denied: () => forbidden(NOT_ALLOWED) })).room;
}

/** GET /webhooks/roomId/:roomId. */
export async function listWebhooks(db: Db, roomId: number, userId: number): Promise<WebhookRow[]> {
  return webhooksOfRoom(db, (await managedRoom(db, roomId, userId)).id);
}

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
/**
 * §4.17 URL validity: optional http(s)://, a dotted domain with a 2+ letter TLD or an IPv4
 * address, optional port, then optional path, query and fragment (no whitespace).
 * `localhost` has no TLD and is refused; `127.0.0.1` passes.
 */
const URL_PATTERN = new RegExp(`^(?:https?://)?(?:(?:${LABEL}\\.)+[a-z]{2,63}|${OCTET}(?:\\.${OCTET}){3})(?::(\\d{1,5}))?(?:[/?#]\\S*)?$`, "i");

function isValidWebhookUrl(url: string): boolean {
  const m = URL_PATTERN.exec(url);
  if (!m) return false;
  return m[1] === undefined || Number(m[1]) <= 65535;
}

function checkedUrl(url: string): string {
  if (!isValidWebhookUrl(url)) throw badRequest("Url not valid");
  return url;
}

/** POST /webhooks/roomId/:roomId: a new webhook with a fresh 16-character secret. */
export async function createWebhook(ctx: AppContext, me: Me, roomId: number, rawUrl: string): Promise<WebhookRow> {
  const url = checkedUrl(rawUrl);
  return transact(ctx, async (tx) => {
    const room = await managedRoom(tx, roomId, me.user.id);
    const now = Date.now();
    return tx
      .insertInto("webhooks")
      .values({ roomId: room.id, url, verifySignature: randomAlnum(16), createdAt: now, modifiedAt: now })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** PUT /webhooks/:id: a new url; the secret stays, modifiedAt moves. */
export async function updateWebhook(ctx: AppContext, me: Me, id: number, rawUrl: string): Promise<WebhookRow> {
  const url = checkedUrl(rawUrl);
  return transact(ctx, async (tx) => {
    const hook = await findWebhook(tx, id);
    if (!hook) throw notFound("Not found");
    await managedRoom(tx, hook.roomId, me.user.id);
    return tx
      .updateTable("webhooks")
      .set({ url, modifiedAt: Math.max(Date.now(), hook.modifiedAt + 1) })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** DELETE /webhooks/:id. */
export async function deleteWebhook(ctx: AppContext, me: Me, id: number): Promise<void> {
  await transact(ctx, async (tx) => {
    const hook = await findWebhook(tx, id);
    if (!hook) throw notFound("Not found");
    await managedRoom(tx, hook.roomId, me.user.id);
    await tx.deleteFrom("webhooks").where("id", "=", id).execute();
  });
}
