// Changes only operators make: signing in to the management API, and bots with their own
// access token (docs/management.md). Everything else an operator does goes through the
// messenger's own actions (users, auth, rooms) with the operator as the acting party.
import type { Operator } from "../../actor.js";
import { transact, type AppContext } from "../../context.js";
import { newToken, safeEqual, sha256Hex, verifyPassword } from "../../crypto.js";
import type { Tx } from "../../db/index.js";
import type { DeviceRow, UserRow } from "../../db/schema.js";
import type { AdminAuth } from "../../http/auth.js";
import { forbidden, notFound } from "../../http/errors.js";
import { recordAudit } from "../audit/actions.js";
import { updateRoom } from "../rooms/actions.js";
import { membership } from "../rooms/queries.js";
import { createAccount, type NewAccount } from "../users/actions.js";

const LOGIN_ATTEMPTS = 10;
const LOGIN_WINDOW_MS = 15 * 60 * 1000;
/** Bot tokens do not expire (as upstream's); they are renewed by an operator instead. */
const BOT_TOKEN_LIFETIME_MS = 100 * 365 * 24 * 60 * 60 * 1000;

export const operatorOf = (admin: AdminAuth): Operator => ({ operator: `admin:${admin.username}` });

/** POST /api/management/auth: a new token for the configured administrator. */
export async function signIn(ctx: AppContext, input: { username: string; password: string; ip: string }): Promise<{ token: string; expireDate: number }> {
  const admin = ctx.config.admin!;
  await ctx.limiter.hit(`admin-login:${input.ip}`, LOGIN_ATTEMPTS, LOGIN_WINDOW_MS);
  // Both checks always run, and on equal-length digests: the answer time tells nothing.
  const nameOk = safeEqual(sha256Hex(input.username), sha256Hex(admin.username));
  const passwordOk = await verifyPassword(input.password, admin.passwordHash);
  if (!nameOk || !passwordOk) throw forbidden("Invalid username or password");
  const token = newToken();
  const now = Date.now();
  const expireDate = now + admin.tokenTtlMs;
  await transact(ctx, async (tx) => {
    await tx.deleteFrom("adminTokens").where("expiresAt", "<=", now).execute();
    await tx
      .insertInto("adminTokens")
      .values({ tokenHash: sha256Hex(token), username: admin.username, createdAt: now, expiresAt: expireDate })
      .execute();
    await recordAudit(tx, { operator: `admin:${admin.username}` }, { action: "admin.login", targetType: "admin", targetId: null, details: { ip: input.ip } });
  });
  return { token, expireDate };
}

/** The token presented dies. */
export async function signOut(ctx: AppContext, admin: AdminAuth): Promise<void> {
  await transact(ctx, async (tx) => {
    await tx.deleteFrom("adminTokens").where("tokenHash", "=", admin.tokenHash).execute();
    await recordAudit(tx, operatorOf(admin), { action: "admin.logout", targetType: "admin", targetId: null });
  });
}

export interface BotWithToken {
  user: UserRow;
  device: DeviceRow;
  /** The bot's access token in clear: shown once, only its hash is kept. */
  token: string;
}

/** Gives the bot's device (made on first use) a new token; the old one dies with its streams. */
async function issueBotToken(tx: Tx, userId: number): Promise<{ device: DeviceRow; token: string }> {
  const token = newToken();
  const now = Date.now();
  const fields = { tokenHash: sha256Hex(token), tokenExpiredAt: now + BOT_TOKEN_LIFETIME_MS, modifiedAt: now };
  const existing = await tx.selectFrom("devices").select("id").where("userId", "=", userId).where("type", "=", "bot").orderBy("id").executeTakeFirst();
  const device = existing
    ? await tx.updateTable("devices").set(fields).where("id", "=", existing.id).returningAll().executeTakeFirstOrThrow()
    : await tx
        .insertInto("devices")
        .values({
          ...fields,
          userId,
          deviceId: `bot-${userId}-${newToken().slice(0, 12)}`,
          type: "bot",
          osName: "bot",
          osVersion: "bot",
          deviceName: "bot",
          appVersion: "bot",
          createdAt: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
  return { device, token };
}

/** A bot: a verified account flagged isBot whose device token signs in to the messenger API. */
export async function createBot(ctx: AppContext, by: Operator, input: Omit<NewAccount, "isBot" | "telephoneNumber" | "emailAddress">): Promise<BotWithToken> {
  let issued: { device: DeviceRow; token: string } | undefined;
  const user = await createAccount(ctx, by, { ...input, isBot: true }, async (tx, bot) => {
    issued = await issueBotToken(tx, bot.id);
  });
  return { user, ...issued! };
}

/** PUT …/bot/renewAccessToken/:id: a live bot gets a new token. */
export async function renewBotToken(ctx: AppContext, by: Operator, userId: number): Promise<BotWithToken> {
  const renewed = await transact(ctx, async (tx, after) => {
    const user = await tx.selectFrom("users").selectAll().where("id", "=", userId).where("isBot", "=", 1).where("deleted", "=", 0).executeTakeFirst();
    if (!user) throw notFound("Bot not found");
    const issued = await issueBotToken(tx, user.id);
    after.emit({ userIds: [], deviceIds: [issued.device.id], data: { type: "LOGOUT" }, closeStreams: true });
    await recordAudit(tx, by, { action: "bot.renewToken", targetType: "user", targetId: user.id });
    return { user, ...issued };
  });
  // The old token leaves every instance's token cache before the new one is shown.
  await ctx.bus.revoke({ deviceIds: [renewed.device.id] });
  return renewed;
}

/** DELETE /management/groups/:groupId/:userId: 404 unless `userId` is a member, then the messenger's removeGroupUsers. */
export async function removeGroupMember(ctx: AppContext, by: Operator, roomId: number, userId: number): Promise<void> {
  if (!(await membership(ctx.db, roomId, userId))) throw notFound("Member not found");
  await updateRoom(ctx, by, roomId, { action: "removeGroupUsers", userIds: [userId] });
}
