// Reads of the history list (§4.19) and recent chats (§4.20): rooms ordered by the latest
// message the requester holds a copy of (latestCopyIn() in messages/queries.ts), one query per
// page whatever the number of rooms, and the page's messages through copiesOf().
import { sql, type ExpressionBuilder } from "kysely";
import { pageAndCount } from "../../db/count.js";
import type { Db, Dialect } from "../../db/index.js";
import type { DB, DeviceRow, RoomRow, UserRow } from "../../db/schema.js";
import { matchesIgnoringCase } from "../../db/text.js";
import { notFound } from "../../http/errors.js";
import { copiesOf, latestCopyIn } from "../messages/queries.js";
import type { CopyRow } from "../messages/views.js";

export const HISTORY_PAGING_LIMIT = 20;
export const RECENT_CHATS_LIMIT = 3;

type RoomScope = ExpressionBuilder<DB & { r: DB["rooms"] }, "r">;

/** Number of current members of the outer room `r`. */
const memberCount = (eb: RoomScope) => eb.selectFrom("roomUsers as rc").select(sql<number>`count(*)`.as("n")).whereRef("rc.roomId", "=", "r.id");

/** The requester's non-deleted rooms with the latest message they hold a copy of (or null). */
function historyCandidates(db: Db, dialect: Dialect, viewerId: number, keyword: string | undefined) {
  const latest = latestCopyIn(db, viewerId, { room: "r", member: "ru" });
  return db
    .selectFrom("rooms as r")
    .innerJoin("roomUsers as ru", (j) => j.onRef("ru.roomId", "=", "r.id").on("ru.userId", "=", viewerId))
    .where("r.deleted", "=", 0)
    .where((eb) => eb.or([eb("r.type", "=", "group"), eb(memberCount(eb), "=", 2)]))
    .$if(keyword !== undefined, (q) =>
      q.where((eb) =>
        eb.or([
          eb.and([eb("r.type", "=", "group"), matchesIgnoringCase("r.name", keyword!, dialect)]),
          eb.and([
            eb("r.type", "=", "private"),
            eb.exists(
              eb
                .selectFrom("roomUsers as p")
                .innerJoin("users as u", "u.id", "p.userId")
                .select("p.id")
                .whereRef("p.roomId", "=", "r.id")
                .where("p.userId", "!=", viewerId)
                .where(matchesIgnoringCase("u.displayName", keyword!, dialect)),
            ),
          ]),
        ]),
      ),
    )
    .select(["r.id as roomId", latest.id.as("messageId"), latest.createdAt.as("messageAt")]);
}

export interface HistoryEntry {
  roomId: number;
  /** The requester's copy of the room's latest message they can see. */
  message: CopyRow | null;
}

/**
 * §4.19: the requester's non-deleted group rooms and two-member rooms (with `keyword`: groups
 * whose name, private rooms whose peer's displayName contains it, ignoring case), each by
 * the latest message they hold a copy of, newest first; rooms without one are left out.
 */
export async function historyPage(db: Db, dialect: Dialect, viewerId: number, opts: { page: number; keyword?: string }): Promise<{ entries: HistoryEntry[]; count: number }> {
  const candidates = db.selectFrom(historyCandidates(db, dialect, viewerId, opts.keyword).as("c")).where("c.messageId", "is not", null);
  const { rows, count } = await pageAndCount(candidates.select(["c.roomId", "c.messageId"]).orderBy("c.messageAt", "desc").orderBy("c.messageId", "desc"), {
    page: opts.page,
    limit: HISTORY_PAGING_LIMIT,
  });
  const messages = new Map(
    (
      await copiesOf(
        db,
        viewerId,
        rows.map((r) => Number(r.messageId)),
      )
    ).map((m) => [m.id, m]),
  );
  return {
    entries: rows.map((r) => ({ roomId: r.roomId, message: messages.get(Number(r.messageId)) ?? null })),
    count,
  };
}

/**
 * §4.19 history/roomId: the room's latest message as this device holds it — null when the
 * user holds no copy, or the device was created after the message (it holds none, §9.1).
 * 404 "Chat not found" when the room does not exist or the device's user is not a member (the
 * membership is part of this one query rather than a separate accessRoom()).
 */
export async function historyOfRoom(db: Db, device: DeviceRow, roomId: number): Promise<{ message: CopyRow | null }> {
  const latest = latestCopyIn(db, device.userId, { room: "r", member: "ru" });
  const row = await db
    .selectFrom("rooms as r")
    .innerJoin("roomUsers as ru", (j) => j.onRef("ru.roomId", "=", "r.id").on("ru.userId", "=", device.userId))
    .select([latest.id.as("messageId"), latest.createdAt.as("messageAt")])
    .where("r.id", "=", roomId)
    .executeTakeFirst();
  if (!row) throw notFound("Chat not found");
  if (row.messageId === null || row.messageAt === null || Number(row.messageAt) < device.createdAt) return { message: null };
  return { message: (await copiesOf(db, device.userId, [Number(row.messageId)]))[0] ?? null };
}

/** §4.20: up to 3 non-deleted group rooms of the requester by their latest non-deleted copy. */
export async function recentGroupRooms(db: Db, viewerId: number): Promise<RoomRow[]> {
  const latest = latestCopyIn(db, viewerId, { room: "r", member: "ru" }, { notDeleted: true });
  const rooms = db
    .selectFrom("rooms as r")
    .innerJoin("roomUsers as ru", (j) => j.onRef("ru.roomId", "=", "r.id").on("ru.userId", "=", viewerId))
    .where("r.deleted", "=", 0)
    .where("r.type", "=", "group")
    .selectAll("r")
    .select([latest.id.as("latestId"), latest.createdAt.as("latestAt")]);
  const rows = await db
    .selectFrom(rooms.as("c"))
    .selectAll("c")
    .where("c.latestId", "is not", null)
    .orderBy("c.latestAt", "desc")
    .orderBy("c.latestId", "desc")
    .limit(RECENT_CHATS_LIMIT)
    .execute();
  return rows.map(({ latestId: _id, latestAt: _at, ...room }) => room);
}

/**
 * §4.20: up to 3 peers of the requester's two-member private rooms, by the rooms' latest
 * non-deleted copy. Team mode leaves out peers the requester blocked; otherwise only
 * contacts that are not bots count. Deleted users are left out in both modes.
 */
export async function recentPeers(db: Db, viewerId: number, opts: { teamMode: boolean }): Promise<UserRow[]> {
  const latest = latestCopyIn(db, viewerId, { room: "r", member: "ru" }, { notDeleted: true });
  const rooms = db
    .selectFrom("rooms as r")
    .innerJoin("roomUsers as ru", (j) => j.onRef("ru.roomId", "=", "r.id").on("ru.userId", "=", viewerId))
    .innerJoin("roomUsers as p", (j) => j.onRef("p.roomId", "=", "r.id").on("p.userId", "!=", viewerId))
    .innerJoin("users as u", "u.id", "p.userId")
    .where("r.deleted", "=", 0)
    .where("r.type", "=", "private")
    .where((eb) => eb(memberCount(eb), "=", 2))
    .where("u.deleted", "=", 0)
    .$if(opts.teamMode, (q) =>
      q.where(({ not, exists, selectFrom }) => not(exists(selectFrom("blocks as b").select("b.id").where("b.userId", "=", viewerId).whereRef("b.blockedId", "=", "p.userId")))),
    )
    .$if(!opts.teamMode, (q) => q.where("u.isBot", "=", 0).where("p.userId", "in", db.selectFrom("contacts").select("contactId").where("userId", "=", viewerId)))
    .select(["p.userId as peerId", latest.id.as("latestId"), latest.createdAt.as("latestAt")]);
  const ranked = await db
    .selectFrom(rooms.as("c"))
    .select(["c.peerId", sql<number>`max(c.latest_at)`.as("at"), sql<number>`max(c.latest_id)`.as("id")])
    .where("c.latestId", "is not", null)
    .groupBy("c.peerId")
    .orderBy("at", "desc")
    .orderBy("id", "desc")
    .limit(RECENT_CHATS_LIMIT)
    .execute();
  const ids = ranked.map((r) => r.peerId);
  if (ids.length === 0) return [];
  const users = new Map((await db.selectFrom("users").selectAll().where("id", "in", ids).execute()).map((u) => [u.id, u]));
  return ids.map((id) => users.get(id)).filter((u): u is UserRow => u !== undefined);
}
