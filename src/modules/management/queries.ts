// Reads of the management API: accounts, bots, groups and devices as an operator sees them.
import type { AppContext } from "../../context.js";
import { sha256Hex } from "../../crypto.js";
import { countRows, pageAndCount } from "../../db/count.js";
import type { Db, Dialect } from "../../db/index.js";
import type { DeviceRow, RoomRow, UserRow } from "../../db/schema.js";
import { matchesIgnoringCase } from "../../db/text.js";
import type { AdminAuth } from "../../http/auth.js";
import { unauthorized } from "../../http/errors.js";
import { roomViews } from "../rooms/queries.js";
import type { RoomView } from "../rooms/views.js";

/** Page sizes of the lists (the answers carry them as `limit`). */
const USERS_PAGE_LIMIT = 20;
const GROUPS_PAGE_LIMIT = 20;

/** Rooms as a non-member sees them (no per-viewer flags). */
const OPERATOR_VIEWER = 0;

/** A live management token of the configured administrator. */
export async function authenticateAdmin(ctx: AppContext, token: string): Promise<AdminAuth> {
  const tokenHash = sha256Hex(token);
  const row = await ctx.db.selectFrom("adminTokens").selectAll().where("tokenHash", "=", tokenHash).executeTakeFirst();
  if (!row || row.username !== ctx.config.admin?.username) throw unauthorized("Invalid admin access token");
  if (row.expiresAt <= Date.now()) throw unauthorized("Expired admin access token");
  return { username: row.username, tokenHash };
}

export async function counts(db: Db): Promise<{ users: number; bots: number; groups: number }> {
  const live = db.selectFrom("users").where("deleted", "=", 0);
  const [users, bots, groups] = await Promise.all([
    countRows(live.where("isBot", "=", 0)),
    countRows(live.where("isBot", "=", 1)),
    countRows(db.selectFrom("rooms").where("type", "=", "group").where("deleted", "=", 0)),
  ]);
  return { users, bots, groups };
}

/** Live accounts (or bots) by name, then id; `keyword` anywhere in the name, any case. */
export async function listAccounts(db: Db, opts: { page: number; keyword?: string; bots: boolean; dialect: Dialect }) {
  let q = db
    .selectFrom("users")
    .where("deleted", "=", 0)
    .where("isBot", "=", opts.bots ? 1 : 0);
  if (opts.keyword) q = q.where(matchesIgnoringCase("displayName", opts.keyword, opts.dialect));
  const { rows, count } = await pageAndCount(q.selectAll().orderBy("displayName").orderBy("id"), { page: opts.page, limit: USERS_PAGE_LIMIT });
  return { list: rows, count, limit: USERS_PAGE_LIMIT };
}

/** Any account by id, deleted ones included (an operator may look at what is left of them). */
export const accountById = (db: Db, id: number): Promise<UserRow | undefined> => db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();

export const devicesOf = (db: Db, userId: number): Promise<DeviceRow[]> => db.selectFrom("devices").selectAll().where("userId", "=", userId).orderBy("id").execute();

/** The groups `userId` belongs to, with their members. */
export async function groupsOf(db: Db, userId: number): Promise<RoomView[]> {
  const rooms = await db
    .selectFrom("rooms as r")
    .innerJoin("roomUsers as ru", (j) => j.onRef("ru.roomId", "=", "r.id").on("ru.userId", "=", userId))
    .selectAll("r")
    .where("r.type", "=", "group")
    .where("r.deleted", "=", 0)
    .orderBy("r.id")
    .execute();
  return roomViews(db, true, rooms, OPERATOR_VIEWER);
}

/** Live groups, oldest first; `keyword` anywhere in the name. */
export async function listGroups(db: Db, opts: { page: number; keyword?: string; dialect: Dialect }) {
  let q = db.selectFrom("rooms").where("type", "=", "group").where("deleted", "=", 0);
  if (opts.keyword) q = q.where(matchesIgnoringCase("name", opts.keyword, opts.dialect));
  const { rows, count } = await pageAndCount(q.selectAll().orderBy("createdAt").orderBy("id"), { page: opts.page, limit: GROUPS_PAGE_LIMIT });
  return { list: await roomViews(db, true, rows, OPERATOR_VIEWER), count, limit: GROUPS_PAGE_LIMIT };
}

/** A live group by id, with its members. */
export async function groupById(db: Db, id: number): Promise<{ row: RoomRow; view: RoomView } | undefined> {
  const row = await db.selectFrom("rooms").selectAll().where("id", "=", id).where("type", "=", "group").where("deleted", "=", 0).executeTakeFirst();
  return row && { row, view: (await roomViews(db, true, [row], OPERATOR_VIEWER))[0] };
}
