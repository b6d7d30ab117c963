// The directory a user sees (§3.5): everyone in team mode, otherwise the phone-book contacts.
import type { SelectQueryBuilder } from "kysely";
import { countRows } from "../../db/count.js";
import { matchesIgnoringCase } from "../../db/text.js";
import type { Db, Dialect } from "../../db/index.js";
import type { DB, UserRow } from "../../db/schema.js";

export interface DirectoryPage {
  list: Array<UserRow & { blockedByMe: number | null }>;
  count: number;
}

export async function directory(
  db: Db,
  opts: { teamMode: boolean; dialect: Dialect; viewerId: number; keyword?: string; cursor?: number; page: number; limit: number },
): Promise<DirectoryPage> {
  let base = db.selectFrom("users").where("users.verified", "=", 1).where("users.deleted", "=", 0).where("users.id", "!=", opts.viewerId) as SelectQueryBuilder<
    DB,
    "users",
    object
  >;
  if (!opts.teamMode) {
    base = base.where("users.id", "in", db.selectFrom("contacts").select("contactId").where("userId", "=", opts.viewerId));
  }
  if (opts.keyword) base = base.where(matchesIgnoringCase("users.displayName", opts.keyword, opts.dialect));

  let page = base
    .leftJoin("blocks", (j) => j.onRef("blocks.blockedId", "=", "users.id").on("blocks.userId", "=", opts.viewerId))
    .selectAll("users")
    .select("blocks.userId as blockedByMe")
    .orderBy("users.displayName", (ob) => ob.asc().nullsFirst())
    .orderBy("users.id")
    .limit(opts.limit);

  if (opts.cursor !== undefined) {
    // Keyset on (displayName NULLS FIRST, id): the page starts after the cursor user.
    const after = await db.selectFrom("users").select(["id", "displayName"]).where("id", "=", opts.cursor).executeTakeFirst();
    if (after) {
      const name = after.displayName;
      page = page.where((eb) =>
        name === null
          ? eb.or([eb("users.displayName", "is not", null), eb.and([eb("users.displayName", "is", null), eb("users.id", ">", after.id)])])
          : eb.or([eb("users.displayName", ">", name), eb.and([eb("users.displayName", "=", name), eb("users.id", ">", after.id)])]),
      );
    }
  } else {
    page = page.offset((opts.page - 1) * opts.limit);
  }

  const [list, total] = await Promise.all([page.execute(), countRows(base)]);
  return { list, count: total };
}
