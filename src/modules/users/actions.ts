// Changes to an account (§3.7, §3.8): by its owner, or by an operator (docs/management.md).
import { isOperator, type Actor, type Operator } from "../../actor.js";
import { transact, type AppContext } from "../../context.js";
import { sha256Hex } from "../../crypto.js";
import { isUniqueViolation } from "../../db/errors.js";
import type { Tx } from "../../db/index.js";
import type { UserRow, UserUpdate } from "../../db/schema.js";
import { badRequest, forbidden } from "../../http/errors.js";
import { checkFileClaims } from "../files/access.js";
import { visibleName } from "../../names.js";
import type { OutgoingEvent } from "../../realtime/events.js";
import { recordAudit } from "../audit/actions.js";
import { findUserByEmail, findUserByPhone, userUpdateAudience, whoKnowsWhom } from "./queries.js";
import { userView } from "./views.js";

export interface ProfileChanges {
  telephoneNumber?: string;
  emailAddress?: string;
  displayName?: string;
  avatarFileId?: number;
}

/** What only an operator sets (bots' profile, verification). */
export interface OperatorChanges extends ProfileChanges {
  verified?: boolean;
  webhookUrl?: string | null;
  shortDescription?: string | null;
  longDescription?: string | null;
  coverFileId?: number | null;
}

/** Fields of a new account made by an operator (a verified user, or a bot). */
export interface NewAccount {
  displayName: string;
  telephoneNumber?: string;
  emailAddress?: string;
  avatarFileId?: number;
  isBot?: boolean;
  webhookUrl?: string;
  shortDescription?: string;
  longDescription?: string;
  coverFileId?: number;
}

async function checkFreeContacts(db: Tx | AppContext["db"], userId: number | null, phone: string | undefined, email: string | null | undefined) {
  if (phone) {
    const owner = await findUserByPhone(db, phone);
    if (owner && owner.id !== userId) throw badRequest("User with that telephoneNumber exists");
  }
  if (email) {
    const owner = await findUserByEmail(db, email);
    if (owner && owner.id !== userId) throw badRequest("User with that email exists");
  }
}

/** Unique columns can still collide with a concurrent write: the same 400 as the check above. */
function uniqueViolationAs400(err: unknown): never {
  if (isUniqueViolation(err)) throw badRequest("User with that telephoneNumber or email exists");
  throw err;
}

/** An operator creates a verified account that signs in with its number (or a bot, see management). */
export async function createAccount(ctx: AppContext, by: Operator, input: NewAccount, extra?: (tx: Tx, user: UserRow) => Promise<void>): Promise<UserRow> {
  const email = input.emailAddress?.trim() || null;
  await checkFreeContacts(ctx.db, null, input.telephoneNumber, email);
  try {
    return await transact(ctx, async (tx) => {
      const now = Date.now();
      const user = await tx
        .insertInto("users")
        .values({
          displayName: input.displayName,
          telephoneNumber: input.telephoneNumber ?? null,
          telephoneNumberHashed: input.telephoneNumber ? sha256Hex(input.telephoneNumber) : null,
          emailAddress: email,
          avatarFileId: input.avatarFileId ?? 0,
          isBot: input.isBot ? 1 : 0,
          verified: 1,
          webhookUrl: input.webhookUrl || null,
          shortDescription: input.shortDescription ?? null,
          longDescription: input.longDescription ?? null,
          coverFileId: input.coverFileId ?? null,
          createdAt: now,
          modifiedAt: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await extra?.(tx, user);
      await recordAudit(tx, by, { action: input.isBot ? "bot.create" : "user.create", targetType: "user", targetId: user.id, details: { displayName: user.displayName } });
      return user;
    });
  } catch (err) {
    uniqueViolationAs400(err);
  }
}

/** USER_UPDATE to everyone who hears of the change; room-mates who do not know the user get it without contact details. */
async function announce(tx: Tx, user: UserRow, teamMode: boolean): Promise<OutgoingEvent[]> {
  if (teamMode) return [{ userIds: [], allUsers: true, data: { type: "USER_UPDATE", user: userView(user) } }];
  const audience = await userUpdateAudience(tx, user.id);
  const knows = await whoKnowsWhom(tx, teamMode, audience, [user.id]);
  const known = audience.filter((id) => knows(id, user.id));
  const strangers = audience.filter((id) => !knows(id, user.id));
  return [
    { userIds: known, data: { type: "USER_UPDATE", user: userView(user) } },
    ...(strangers.length ? [{ userIds: strangers, data: { type: "USER_UPDATE", user: userView(user, false) } }] : []),
  ];
}

/** `by` may act on `account`: an operator on any account, a user on their own only. */
function operatorOn(by: Actor, account: UserRow): Operator | null {
  if (isOperator(by)) return by;
  if (by.user.id !== account.id) throw forbidden("Forbidden");
  return null;
}

/**
 * §3.7 with §13a.4: for its owner a new number needs an SMS round, so only the same number
 * passes; an operator sets it (and the fields of OperatorChanges) directly.
 */
export async function updateMe(ctx: AppContext, by: Actor, account: UserRow, changes: OperatorChanges): Promise<UserRow> {
  const operator = operatorOn(by, account);
  const set: UserUpdate = {};
  const email = changes.emailAddress === undefined ? undefined : changes.emailAddress.trim() || null;
  const newPhone = changes.telephoneNumber !== undefined && changes.telephoneNumber !== account.telephoneNumber ? changes.telephoneNumber : undefined;
  await checkFreeContacts(ctx.db, account.id, newPhone, email);
  if (email !== undefined) set.emailAddress = email;
  if (newPhone !== undefined) {
    if (!operator) throw forbidden("Changing the telephone number requires verification");
    set.telephoneNumber = newPhone;
    set.telephoneNumberHashed = sha256Hex(newPhone);
  }
  if (changes.displayName !== undefined) set.displayName = visibleName(changes.displayName);
  if (changes.avatarFileId !== undefined) {
    // Sending the current avatar again claims nothing new; an operator may set any file.
    if (changes.avatarFileId !== account.avatarFileId && !operator) await checkFileClaims(ctx.db, ctx.dialect, account.id, "avatar", { avatarFileId: changes.avatarFileId });
    set.avatarFileId = changes.avatarFileId;
  }
  if (operator) {
    if (changes.verified !== undefined) set.verified = changes.verified ? 1 : 0;
    for (const key of ["webhookUrl", "shortDescription", "longDescription", "coverFileId"] as const) {
      if (changes[key] !== undefined) (set as Record<string, unknown>)[key] = changes[key];
    }
  }
  if (Object.keys(set).length === 0) return account;

  try {
    const user = await transact(ctx, async (tx, after) => {
      const user = await tx
        .updateTable("users")
        .set({ ...set, modifiedAt: Date.now() })
        .where("id", "=", account.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      after.emit(...(await announce(tx, user, ctx.config.teamMode)));
      if (operator)
        await recordAudit(tx, operator, { action: user.isBot ? "bot.update" : "user.update", targetType: "user", targetId: user.id, details: { fields: Object.keys(set) } });
      return user;
    });
    // Cached authentications carry the user row.
    await ctx.bus.revoke({ userIds: [account.id] });
    return user;
  } catch (err) {
    uniqueViolationAs400(err);
  }
}

/**
 * §3.8: soft-deletes the account and removes everything that ties it to others; its devices'
 * tokens die and their streams close. The owner asks for it, or an operator.
 */
export async function deleteMe(ctx: AppContext, by: Actor, account: UserRow): Promise<void> {
  const operator = operatorOn(by, account);
  await transact(ctx, async (tx, after) => {
    const id = account.id;
    const audience = ctx.config.teamMode ? null : await userUpdateAudience(tx, id);
    const user = await tx
      .updateTable("users")
      .set({
        deleted: 1,
        displayName: `Deleted user ${id}`,
        avatarFileId: 0,
        telephoneNumber: null,
        telephoneNumberHashed: null,
        emailAddress: null,
        verificationCodeHash: null,
        verificationCodeExpiresAt: null,
        modifiedAt: Date.now(),
      })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await tx.deleteFrom("messageExceptions").where("userId", "=", id).execute();
    await tx.deleteFrom("messageRecords").where("userId", "=", id).execute();
    await tx.deleteFrom("devices").where("userId", "=", id).execute();
    await tx
      .deleteFrom("contacts")
      .where((eb) => eb.or([eb("userId", "=", id), eb("contactId", "=", id)]))
      .execute();
    await tx
      .deleteFrom("blocks")
      .where((eb) => eb.or([eb("userId", "=", id), eb("blockedId", "=", id)]))
      .execute();
    await tx.deleteFrom("userSettings").where("userId", "=", id).execute();
    // Private memberships stay so the peer keeps the conversation.
    await tx
      .deleteFrom("roomUsers")
      .where("userId", "=", id)
      .where("roomId", "not in", tx.selectFrom("rooms").select("id").where("type", "=", "private"))
      .execute();
    const data = { type: "USER_UPDATE", user: userView(user) };
    after.emit(audience ? { userIds: audience.filter((u) => u !== id), data } : { userIds: [], allUsers: true, data });
    after.emit({ userIds: [id], data: { type: "LOGOUT" }, closeStreams: true });
    if (operator) await recordAudit(tx, operator, { action: user.isBot ? "bot.delete" : "user.delete", targetType: "user", targetId: id });
  });
  await ctx.bus.revoke({ userIds: [account.id] });
}
