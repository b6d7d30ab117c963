// Reads of room API keys, and the bot-API authentication (§2.4).
import type { AppContext } from "../../context.js";
import { sha256Hex } from "../../crypto.js";
import type { UserRow } from "../../db/schema.js";
import { unauthorized } from "../../http/errors.js";

export async function authenticateApiKey(ctx: AppContext, token: string): Promise<{ user: UserRow; roomId: number; apiKeyId: number }> {
  const key = await ctx.db.selectFrom("apiKeys").selectAll().where("tokenHash", "=", sha256Hex(token)).executeTakeFirst();
  if (!key) throw unauthorized("Invalid access token");
  const user = await ctx.db.selectFrom("users").selectAll().where("id", "=", key.userId).where("deleted", "=", 0).executeTakeFirst();
  if (!user) throw unauthorized("Invalid access token");
  return { user, roomId: key.roomId, apiKeyId: key.id };
}
