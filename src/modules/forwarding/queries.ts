// Reads for forward/share target resolution (§4.14): a fixed number of queries per request,
// whatever the number of rooms and users named.
import { sql } from "kysely";
import type { Db } from "../../db/index.js";
import type { RoomRow } from "../../db/schema.js";

/** For each of `userIds`: the non-deleted private room of exactly `viewerId` and that user (lowest id). */
export async function privateRoomsWith(db: Db, viewerId: number, userIds: number[]): Promise<Map<number, RoomRow>> {
  const out = new Map<number, RoomRow>();
  if (userIds.length === 0) return out;
  const rows = await db
    .selectFrom("rooms as r")
    .innerJoin("roomUsers as mine", (j) => j.onRef("mine.roomId", "=", "r.id").on("mine.userId", "=", viewerId))
    .innerJoin("roomUsers as peer", (j) => j.onRef("peer.roomId", "=", "r.id").on("peer.userId", "in", userIds).on("peer.userId", "!=", viewerId))
    .selectAll("r")
    .select("peer.userId as peerId")
    .where("r.type", "=", "private")
    .where("r.deleted", "=", 0)
    .where(({ selectFrom }) => selectFrom("roomUsers as rc").select(sql<number>`count(*)`.as("n")).whereRef("rc.roomId", "=", "r.id"), "=", 2)
    .orderBy("r.id")
    .execute();
  for (const { peerId, ...room } of rows) if (!out.has(peerId)) out.set(peerId, room);
  return out;
}

/** For each private room among `rooms`: its member other than `viewerId`. */
export async function privatePeers(db: Db, viewerId: number, rooms: RoomRow[]): Promise<Map<number, number>> {
  const ids = rooms.filter((r) => r.type === "private").map((r) => r.id);
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom("roomUsers").select(["roomId", "userId"]).where("roomId", "in", ids).where("userId", "!=", viewerId).orderBy("id").execute();
  const out = new Map<number, number>();
  for (const r of rows) if (!out.has(r.roomId)) out.set(r.roomId, r.userId);
  return out;
}

/** Which of `ids` `viewerId` has blocked. */
export async function blockedBy(db: Db, viewerId: number, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom("blocks").select("blockedId").where("userId", "=", viewerId).where("blockedId", "in", ids).execute();
  return new Set(rows.map((r) => r.blockedId));
}

/** Which of `ids` are in `viewerId`'s contacts. */
export async function contactsAmong(db: Db, viewerId: number, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom("contacts").select("contactId").where("userId", "=", viewerId).where("contactId", "in", ids).execute();
  return new Set(rows.map((r) => r.contactId));
}
