// Reads of room API keys, and the bot-API authentication (§2.4, §4.17).
import type { AppContext } from "../../context.js";
import { sha256Hex } from "../../crypto.js";
import type { Db } from "../../db/index.js";
import type { ApiKeyRow } from "../../db/schema.js";
import type { BotAuth } from "../../http/auth.js";
import { unauthorized } from "../../http/errors.js";
import type { ApiKeyWithBot } from "./views.js";

export async function authenticateApiKey(ctx: AppContext, token: string): Promise<BotAuth> {
  const key = await ctx.db.selectFrom("apiKeys").selectAll().where("tokenHash", "=", sha256Hex(token)).executeTakeFirst();
  if (!key) throw unauthorized("Invalid access token");
  const user = await ctx.db.selectFrom("users").selectAll().where("id", "=", key.userId).where("deleted", "=", 0).executeTakeFirst();
  if (!user) throw unauthorized("Invalid access token");
  return { user, device: null, roomId: key.roomId, apiKeyId: key.id };
}

export const findApiKey = (db: Db, id: number): Promise<ApiKeyRow | undefined> => db.selectFrom("apiKeys").selectAll().where("id", "=", id).executeTakeFirst();

/** Keys with their bot user's name and avatar, one query. */
function keysWithBots(db: Db) {
  return db.selectFrom("apiKeys as k").innerJoin("users as u", "u.id", "k.userId").selectAll("k").select(["u.displayName", "u.avatarFileId"]);
}

export const apiKeyWithBot = (db: Db, id: number): Promise<ApiKeyWithBot | undefined> => keysWithBots(db).where("k.id", "=", id).executeTakeFirst();

/** A room's keys by id, with their bots. */
export const apiKeysOfRoom = (db: Db, roomId: number): Promise<ApiKeyWithBot[]> => keysWithBots(db).where("k.roomId", "=", roomId).orderBy("k.id").execute();
