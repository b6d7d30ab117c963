// Changes to the caller's own account (§3.7, §3.8).
import { transact, type AppContext } from "../../context.js";
import { isUniqueViolation } from "../../db/errors.js";
import type { Tx } from "../../db/index.js";
import type { UserRow, UserUpdate } from "../../db/schema.js";
import { badRequest, forbidden } from "../../http/errors.js";
import { findUserByEmail, findUserByPhone, userUpdateAudience } from "./queries.js";
import { userView } from "./views.js";

export interface ProfileChanges {
  telephoneNumber?: string;
  emailAddress?: string;
  displayName?: string;
  avatarFileId?: number;
}

async function announce(tx: Tx, user: UserRow, teamMode: boolean) {
  const data = { type: "USER_UPDATE", user: userView(user) };
  return teamMode ? { userIds: [], allUsers: true, data } : { userIds: await userUpdateAudience(tx, user.id), data };
}

/** §3.7 with §13a.4: a new number needs an SMS round, so only the same number passes. */
export async function updateMe(ctx: AppContext, me: UserRow, changes: ProfileChanges): Promise<UserRow> {
  const set: UserUpdate = {};
  if (changes.emailAddress !== undefined) {
    const email = changes.emailAddress.trim() || null;
    if (email) {
      const owner = await findUserByEmail(ctx.db, email);
      if (owner && owner.id !== me.id) throw badRequest("User with that email exists");
    }
    set.emailAddress = email;
  }
  if (changes.telephoneNumber !== undefined && changes.telephoneNumber !== me.telephoneNumber) {
    const owner = await findUserByPhone(ctx.db, changes.telephoneNumber);
    if (owner && owner.id !== me.id) throw badRequest("User with that telephoneNumber exists");
    throw forbidden("Changing the telephone number requires verification");
  }
  if (changes.displayName !== undefined) set.displayName = changes.displayName;
  if (changes.avatarFileId !== undefined) set.avatarFileId = changes.avatarFileId;
  if (Object.keys(set).length === 0) return me;

  try {
    const user = await transact(ctx, async (tx, after) => {
      const user = await tx
        .updateTable("users")
        .set({ ...set, modifiedAt: Date.now() })
        .where("id", "=", me.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      after.emit(await announce(tx, user, ctx.config.teamMode));
      return user;
    });
    // Cached authentications carry the user row.
    await ctx.bus.revoke({ userIds: [me.id] });
    return user;
  } catch (err) {
    if (isUniqueViolation(err)) throw badRequest("User with that email exists");
    throw err;
  }
}

/** §3.8: soft-deletes the account and removes everything that ties it to others. */
export async function deleteMe(ctx: AppContext, me: UserRow): Promise<void> {
  await transact(ctx, async (tx, after) => {
    const id = me.id;
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
    await tx.deleteFrom("contacts").where((eb) => eb.or([eb("userId", "=", id), eb("contactId", "=", id)])).execute();
    await tx.deleteFrom("blocks").where((eb) => eb.or([eb("userId", "=", id), eb("blockedId", "=", id)])).execute();
    await tx.deleteFrom("userSettings").where("userId", "=", id).execute();
    // Private memberships stay so the peer keeps the conversation.
    await tx
      .deleteFrom("roomUsers")
      .where("userId", "=", id)
      .where("roomId", "not in", tx.selectFrom("rooms").select("id").where("type", "=", "private"))
      .execute();
    const data = { type: "USER_UPDATE", user: userView(user) };
    after.emit(audience ? { userIds: audience.filter((u) => u !== id), data } : { userIds: [], allUsers: true, data });
  });
  await ctx.bus.revoke({ userIds: [me.id] });
}

