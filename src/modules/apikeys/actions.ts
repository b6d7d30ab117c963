// Every change to room API keys (§2.4, §4.17): each key owns a bot user that is a
// non-admin member of the room while the key exists.
import type { Me } from "../../actor.js";
import { transact, type AfterCommit, type AppContext } from "../../context.js";
import { newToken, sha256Hex } from "../../crypto.js";
import type { Db, Tx } from "../../db/index.js";
import type { RoomRow } from "../../db/schema.js";
import { badRequest, notFound } from "../../http/errors.js";
import { visibleName } from "../../names.js";
import { announceRoom } from "../rooms/actions.js";
import { findRoom } from "../rooms/queries.js";
import { userUpdateAudience } from "../users/queries.js";
import { userView } from "../users/views.js";
import { managedRoom } from "../webhooks/actions.js";
import { apiKeysOfRoom, apiKeyWithBot, findApiKey } from "./queries.js";
import type { ApiKeyWithBot } from "./views.js";

function checkedName(displayName: string): string {
  const name = visibleName(displayName).trim();
  if (!name) throw badRequest("Invalid params: displayName is required");
  return name;
}

/** The bot joined or left: the room changed for every (remaining) member. */
async function roomChanged(ctx: AppContext, tx: Tx, after: AfterCommit, room: RoomRow, now: number): Promise<void> {
  await tx
    .updateTable("rooms")
    .set({ modifiedAt: Math.max(now, room.modifiedAt + 1) })
    .where("id", "=", room.id)
    .execute();
  const fresh = (await findRoom(tx, room.id))!;
  await announceRoom(tx, ctx.config.teamMode, after, fresh, "UPDATE_ROOM");
}

/** GET /api-keys/roomId/:roomId. */
export async function listApiKeys(db: Db, roomId: number, userId: number): Promise<ApiKeyWithBot[]> {
  return apiKeysOfRoom(db, (await managedRoom(db, roomId, userId)).id);
}

/** POST /api-keys/roomId/:roomId: bot user + key + non-admin membership; UPDATE_ROOM to members. */
export async function createApiKey(ctx: AppContext, me: Me, roomId: number, displayName: string): Promise<ApiKeyWithBot> {
  const name = checkedName(displayName);
  return transact(ctx, async (tx, after) => {
    const room = await managedRoom(tx, roomId, me.user.id);
    const now = Date.now();
    const bot = await tx.insertInto("users").values({ displayName: name, isBot: 1, verified: 1, createdAt: now, modifiedAt: now }).returning("id").executeTakeFirstOrThrow();
    const token = newToken();
    const key = await tx
      .insertInto("apiKeys")
      .values({ roomId: room.id, userId: bot.id, token, tokenHash: sha256Hex(token), createdAt: now, modifiedAt: now })
      .returning("id")
      .executeTakeFirstOrThrow();
    await tx
      .insertInto("roomUsers")
      .values({
        roomId: room.id,
        userId: bot.id,
        isAdmin: 0,
        settingsModifiedAt: now,
        messageCountAtJoin: room.messageCount,
        seenMessageId: room.lastMessageId ?? 0,
        createdAt: now,
        modifiedAt: now,
      })
      .execute();
    await roomChanged(ctx, tx, after, room, now);
    return (await apiKeyWithBot(tx, key.id))!;
  });
}

/** PUT /api-keys/:id: renames the bot user (USER_UPDATE as for a profile edit). */
export async function updateApiKey(ctx: AppContext, me: Me, id: number, displayName: string): Promise<ApiKeyWithBot> {
  const name = checkedName(displayName);
  return transact(ctx, async (tx, after) => {
    const key = await findApiKey(tx, id);
    if (!key) throw notFound("Not found");
    await managedRoom(tx, key.roomId, me.user.id);
    const now = Date.now();
    const bot = await tx.updateTable("users").set({ displayName: name, modifiedAt: now }).where("id", "=", key.userId).returningAll().executeTakeFirstOrThrow();
    await tx
      .updateTable("apiKeys")
      .set({ modifiedAt: Math.max(now, key.modifiedAt + 1) })
      .where("id", "=", id)
      .execute();
    const data = { type: "USER_UPDATE", user: userView(bot) };
    after.emit(ctx.config.teamMode ? { userIds: [], allUsers: true, data } : { userIds: await userUpdateAudience(tx, bot.id), data });
    return (await apiKeyWithBot(tx, id))!;
  });
}

/** DELETE /api-keys/:id: the bot leaves the room and the key is gone; the bot user stays. */
export async function deleteApiKey(ctx: AppContext, me: Me, id: number): Promise<{ roomId: number }> {
  return transact(ctx, async (tx, after) => {
    const key = await findApiKey(tx, id);
    if (!key) throw notFound("Not found");
    const room = await managedRoom(tx, key.roomId, me.user.id);
    await tx.deleteFrom("roomUsers").where("roomId", "=", room.id).where("userId", "=", key.userId).execute();
    await tx.deleteFrom("apiKeys").where("id", "=", id).execute();
    await roomChanged(ctx, tx, after, room, Date.now());
    return { roomId: room.id };
  });
}
