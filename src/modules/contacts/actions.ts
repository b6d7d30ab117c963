// Phone-book matching (§3.4).
import type { Me } from "../../actor.js";
import { transact, type AppContext } from "../../context.js";
import type { UserRow } from "../../db/schema.js";

/** Contacts not confirmed within this window are pruned by a last page. */
const PRUNE_AFTER_MS = 10 * 60 * 1000;

/**
 * Every verified, non-deleted user whose number hash is in `hashes` becomes (or stays) the
 * requester's contact; a last page then drops contacts the phone book no longer confirms.
 */
export async function syncContacts(ctx: AppContext, me: Me, hashes: string[], isLastPage: boolean): Promise<UserRow[]> {
  const userId = me.user.id;
  const now = Date.now();
  return transact(ctx, async (tx) => {
    const found = await tx
      .selectFrom("users")
      .selectAll()
      .where("telephoneNumberHashed", "in", [...new Set(hashes)])
      .where("verified", "=", 1)
      .where("deleted", "=", 0)
      .where("id", "!=", userId)
      .orderBy("id")
      .execute();
    if (found.length > 0) {
      await tx
        .insertInto("contacts")
        .values(found.map((u) => ({ userId, contactId: u.id, createdAt: now, modifiedAt: now })))
        .onConflict((oc) => oc.columns(["userId", "contactId"]).doUpdateSet({ modifiedAt: now }))
        .execute();
    }
    if (isLastPage) {
      await tx
        .deleteFrom("contacts")
        .where("userId", "=", userId)
        .where("modifiedAt", "<", now - PRUNE_AFTER_MS)
        .execute();
    }
    return found;
  });
}
