// Reads of rooms, memberships and per-viewer room state (§4.1–§4.12, §9.4). Every list is built
// with a fixed number of queries, whatever its length.
import { sql } from "kysely";
import { countRows, pageAndCount, SYNC_LIMIT } from "../../db/count.js";
import type { Db } from "../../db/index.js";
import type { RoomRow, RoomUserRow } from "../../db/schema.js";
import type { Dialect } from "../../db/index.js";
import { matchesIgnoringCase } from "../../db/text.js";
import { notFound } from "../../http/errors.js";
import { notHiddenFrom } from "../messages/queries.js";
import { whoKnowsWhom, type Knows } from "../users/queries.js";
import { userView } from "../users/views.js";
import { accessRoom } from "./access.js";
import { roomView, sharedRoomView, type Member, type RoomView, type SharedRoomView, type ViewerFlags } from "./views.js";
import { roomSettingKey } from "./userSettings.js";

export const findRoom = (db: Db, id: number): Promise<RoomRow | undefined> => db.selectFrom("rooms").selectAll().where("id", "=", id).executeTakeFirst();

export const membership = (db: Db, roomId: number, userId: number): Promise<RoomUserRow | undefined> =>
  db.selectFrom("roomUsers").selectAll().where("roomId", "=", roomId).where("userId", "=", userId).executeTakeFirst();

/** Members (with their users) of each room, in joining order. */
export async function membersOf(db: Db, roomIds: number[]): Promise<Map<number, Member[]>> {
  const out = new Map<number, Member[]>(roomIds.map((id) => [id, []]));
  if (roomIds.length === 0) return out;
  const rows = await db.selectFrom("roomUsers").selectAll().where("roomId", "in", roomIds).orderBy("id").execute();
  const userIds = [...new Set(rows.map((r) => r.userId))];
  const users = userIds.length ? await db.selectFrom("users").selectAll().where("id", "in", userIds).execute() : [];
  const byId = new Map(users.map((u) => [u.id, u]));
  for (const r of rows) {
    const user = byId.get(r.userId);
    if (user) out.get(r.roomId)?.push({ ...r, user });
  }
  return out;
}

/** The key of a (room, member) pair in the maps `unreadCounts` returns. */
export const pairKey = (roomId: number, userId: number) => `${roomId}:${userId}`;

/**
 * Unread counts (§9.4) for every (room, member) pair selected: messages at or after the join
 * time, not from the member, not hidden from them, without a `seen` record by them. Only
 * messages above the member's seen marker are examined, so the cost follows what is unread.
 */
export async function unreadCounts(db: Db, opts: { roomIds: number[]; userIds?: number[] }): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (opts.roomIds.length === 0 || opts.userIds?.length === 0) return out;
  let q = db
    .selectFrom("roomUsers as ru")
    .innerJoin("messages as m", (j) =>
      j.onRef("m.roomId", "=", "ru.roomId").onRef("m.id", ">", "ru.seenMessageId").onRef("m.createdAt", ">=", "ru.createdAt").onRef("m.fromUserId", "!=", "ru.userId"),
    )
    .select(["ru.roomId", "ru.userId", sql<number>`count(*)`.as("n")])
    .where("ru.roomId", "in", opts.roomIds)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom("messageRecords as r").select("r.id").whereRef("r.messageId", "=", "m.id").whereRef("r.userId", "=", "ru.userId").where("r.type", "=", "seen"))),
    )
    .where((eb) => notHiddenFrom(eb, eb.ref("m.id"), eb.ref("ru.userId")))
    .groupBy(["ru.roomId", "ru.userId"]);
  if (opts.userIds) q = q.where("ru.userId", "in", opts.userIds);
  for (const r of await q.execute()) out.set(pairKey(r.roomId, r.userId), Number(r.n));
  return out;
}

/** The mute and pin settings of the given users for the given rooms, as `<userId>:<key>`. */
async function roomSettings(db: Db, userIds: number[], roomIds: number[]): Promise<Set<string>> {
  if (userIds.length === 0 || roomIds.length === 0) return new Set();
  const keys = roomIds.flatMap((id) => [roomSettingKey("mute", id), roomSettingKey("pin", id)]);
  const rows = await db.selectFrom("userSettings").select(["userId", "key"]).where("userId", "in", userIds).where("key", "in", keys).execute();
  return new Set(rows.map((r) => `${r.userId}:${r.key}`));
}

function flagsOf(settings: Set<string>, unread: Map<string, number>, roomId: number, userId: number): ViewerFlags {
  return {
    muted: settings.has(`${userId}:${roomSettingKey("mute", roomId)}`),
    pinned: settings.has(`${userId}:${roomSettingKey("pin", roomId)}`),
    unreadCount: unread.get(pairKey(roomId, userId)) ?? 0,
  };
}

/**
 * Room models of `rooms` as `viewerId` sees them: three queries for any number of rooms, and one
 * more in contact mode for whose contact details the viewer may see.
 */
export async function roomViews(db: Db, teamMode: boolean, rooms: RoomRow[], viewerId: number, withUsers = true): Promise<RoomView[]> {
  const ids = rooms.map((r) => r.id);
  const [members, settings, unread] = await Promise.all([membersOf(db, ids), roomSettings(db, [viewerId], ids), unreadCounts(db, { roomIds: ids, userIds: [viewerId] })]);
  const memberIds = withUsers ? [...members.values()].flatMap((ms) => ms.map((m) => m.userId)) : [];
  const knows = await whoKnowsWhom(db, teamMode, [viewerId], memberIds);
  return rooms.map((r) => roomView(r, members.get(r.id) ?? [], flagsOf(settings, unread, r.id, viewerId), (u) => knows(viewerId, u), withUsers));
}

export async function roomViewFor(db: Db, teamMode: boolean, room: RoomRow, viewerId: number): Promise<RoomView> {
  return (await roomViews(db, teamMode, [room], viewerId))[0];
}

/** §4.4 room detail for a member (deleted rooms too; a private room needs both members), else 404. */
export async function roomDetail(db: Db, teamMode: boolean, roomId: number | null, viewerId: number): Promise<RoomView> {
  const { room } = await accessRoom(db, roomId, viewerId, { denied: () => notFound("Chat not found"), withPeer: true });
  return roomViewFor(db, teamMode, room, viewerId);
}

/** Members who see the same member list, that list, and each one's flags. */
export interface MembersView {
  userIds: number[];
  view: SharedRoomView;
  flags: Map<number, ViewerFlags>;
}

/**
 * The room as its current members see it (for NEW_ROOM / UPDATE_ROOM / DELETE_ROOM), one view
 * per group of members who see the same member list. The list differs only by whose contact
 * details a member sees: in team mode everybody sees the same (one group); in contact mode
 * members are grouped by which of the members with contact details they know, O(members²)
 * booleans, much less than the O(members²) users of one view per member it spares when they agree.
 */
export async function roomViewsForMembers(db: Db, teamMode: boolean, room: RoomRow): Promise<MembersView[]> {
  const members = (await membersOf(db, [room.id])).get(room.id) ?? [];
  if (members.length === 0) return [];
  const userIds = members.map((m) => m.userId);
  const [settings, unread, knows] = await Promise.all([
    roomSettings(db, userIds, [room.id]),
    unreadCounts(db, { roomIds: [room.id] }),
    whoKnowsWhom(db, teamMode, userIds, userIds),
  ]);
  const groups = teamMode ? [userIds] : bySameMemberList(members, knows);
  return groups.map((group) => ({
    userIds: group,
    view: sharedRoomView(room, members, (u) => knows(group[0], u)),
    flags: new Map(group.map((v) => [v, flagsOf(settings, unread, room.id, v)])),
  }));
}

/** The members grouped by whose contact details they see (only members whose view hides something differ). */
function bySameMemberList(members: Member[], knows: Knows): number[][] {
  // What a stranger does not see is userView's rule: ask it rather than restate it.
  const detailed = members.filter(({ user }) => JSON.stringify(userView(user, true)) !== JSON.stringify(userView(user, false)));
  const groups = new Map<string, number[]>();
  for (const { userId: viewer } of members) {
    let seen = "";
    for (const m of detailed) seen += knows(viewer, m.userId) ? "1" : "0";
    const group = groups.get(seen);
    if (group) group.push(viewer);
    else groups.set(seen, [viewer]);
  }
  return [...groups.values()];
}

export const PAGING_LIMIT = 10;

/** §4.3: the caller's non-deleted rooms, oldest first; `keyword` = name prefix. */
export async function listRooms(db: Db, viewerId: number, opts: { page: number; keyword?: string; dialect: Dialect }) {
  let q = db
    .selectFrom("rooms as r")
    .innerJoin("roomUsers as ru", (j) => j.onRef("ru.roomId", "=", "r.id").on("ru.userId", "=", viewerId))
    .where("r.deleted", "=", 0);
  if (opts.keyword) q = q.where(matchesIgnoringCase("r.name", opts.keyword, opts.dialect, "prefix"));
  return pageAndCount(q.selectAll("r").orderBy("r.createdAt").orderBy("r.id"), { page: opts.page, limit: PAGING_LIMIT });
}

/** The non-deleted private room of exactly `a` and `b` (room API-key bots may be in it too). */
export async function privateRoomOf(db: Db, a: number, b: number): Promise<RoomRow | undefined> {
  return db
    .selectFrom("rooms as r")
    .innerJoin("roomUsers as ra", (j) => j.onRef("ra.roomId", "=", "r.id").on("ra.userId", "=", a))
    .innerJoin("roomUsers as rb", (j) => j.onRef("rb.roomId", "=", "r.id").on("rb.userId", "=", b))
    .selectAll("r")
    .where("r.type", "=", "private")
    .where("r.deleted", "=", 0)
    .where(
      ({ selectFrom }) =>
        selectFrom("roomUsers as rc")
          .innerJoin("users as uc", "uc.id", "rc.userId")
          .select(sql<number>`count(*)`.as("n"))
          .whereRef("rc.roomId", "=", "r.id")
          .where("uc.isBot", "=", 0),
      "=",
      2,
    )
    .orderBy("r.id")
    .executeTakeFirst();
}

/** §4.11: rooms the caller is in that changed (or whose mute/pin changed) after `since`. */
export async function roomsModifiedSince(db: Db, viewerId: number, since: number, page: number) {
  const q = db
    .selectFrom("rooms as r")
    .innerJoin("roomUsers as ru", (j) => j.onRef("ru.roomId", "=", "r.id").on("ru.userId", "=", viewerId))
    .where((eb) => eb.or([eb("r.modifiedAt", ">", since), eb("ru.settingsModifiedAt", ">", since), eb("ru.createdAt", ">", since)]));
  return pageAndCount(q.selectAll("r").orderBy("r.modifiedAt").orderBy("r.id"), { page, limit: SYNC_LIMIT });
}

export const GROUP_ROOMS_LIMIT = 20;

/** §4.12: the caller's non-deleted group rooms by name; cursor = room id of the last item. */
export async function groupRooms(db: Db, viewerId: number, opts: { keyword?: string; cursor?: number; dialect: Dialect }) {
  let q = db
    .selectFrom("rooms as r")
    .innerJoin("roomUsers as ru", (j) => j.onRef("ru.roomId", "=", "r.id").on("ru.userId", "=", viewerId))
    .where("r.deleted", "=", 0)
    .where("r.type", "=", "group");
  if (opts.keyword) q = q.where(matchesIgnoringCase("r.name", opts.keyword, opts.dialect));
  let page = q.selectAll("r").orderBy("r.name").orderBy("r.id").limit(GROUP_ROOMS_LIMIT);
  if (opts.cursor !== undefined) {
    const after = await db.selectFrom("rooms").select(["id", "name"]).where("id", "=", opts.cursor).executeTakeFirst();
    if (after) page = page.where((eb) => eb.or([eb("r.name", ">", after.name), eb.and([eb("r.name", "=", after.name), eb("r.id", ">", after.id)])]));
  }
  const [rows, total] = await Promise.all([page.execute(), countRows(q)]);
  return { rows, count: total };
}

/** §4.10: rooms of the caller with unread messages. */
export async function unreadByRoom(db: Db, viewerId: number): Promise<Array<{ roomId: number; unreadCount: number }>> {
  const rooms = await db
    .selectFrom("roomUsers as ru")
    .innerJoin("rooms as r", "r.id", "ru.roomId")
    .select("ru.roomId")
    .where("ru.userId", "=", viewerId)
    .where("r.deleted", "=", 0)
    .execute();
  const ids = rooms.map((r) => r.roomId);
  const counts = await unreadCounts(db, { roomIds: ids, userIds: [viewerId] });
  return ids.map((roomId) => ({ roomId, unreadCount: counts.get(pairKey(roomId, viewerId)) ?? 0 })).filter((r) => r.unreadCount > 0);
}

/** In a private room: the other human member's id (undefined for groups or lone members). */
export async function privatePeer(db: Db, room: RoomRow, viewerId: number): Promise<number | undefined> {
  if (room.type !== "private") return undefined;
  const peer = await db
    .selectFrom("roomUsers as ru")
    .innerJoin("users as u", "u.id", "ru.userId")
    .select("ru.userId")
    .where("ru.roomId", "=", room.id)
    .where("ru.userId", "!=", viewerId)
    .where("u.isBot", "=", 0)
    .orderBy("ru.id")
    .executeTakeFirst();
  return peer?.userId;
}

/**
 * `muted`, `pinned` and `unreadCount` of each room for one viewer, without loading members
 * (lists that show flags but not Room models, e.g. history): two queries for any number of rooms.
 */
export async function viewerFlags(db: Db, roomIds: number[], viewerId: number): Promise<Map<number, ViewerFlags>> {
  const [settings, unread] = await Promise.all([roomSettings(db, [viewerId], roomIds), unreadCounts(db, { roomIds, userIds: [viewerId] })]);
  return new Map(roomIds.map((id) => [id, flagsOf(settings, unread, id, viewerId)]));
}
