// Who may enter a room, and for what (§4, §4.14, §4.17): every room check of every module is one
// call of accessRoom(), so the rules live here and nowhere else.
import { sql, type Expression } from "kysely";
import type { Db } from "../../db/index.js";
import { prepared } from "../../db/prepared.js";
import type { RoomRow, RoomUserRow } from "../../db/schema.js";
import { forbidden, notFound } from "../../http/errors.js";

export interface RoomAccess {
  room: RoomRow;
  /** The caller's membership. */
  member: RoomUserRow;
  /** A private room where the caller blocked the other (human) member. */
  blocksPeer: boolean;
}

/** Under `asAdmin`, an operator is let in without a membership. */
export type AdminAccess = Omit<RoomAccess, "member"> & { member: RoomUserRow | undefined };

export interface RoomRule {
  /** What to throw when the room is unknown or the caller is not a member (default 404 "No room found"). */
  denied?: () => Error;
  /** Sending (§4.14 checks 1–3): the room is not deleted (403 "Chat is deleted") and the caller has not blocked its peer (403 "Chat is blocked"). */
  toPost?: boolean;
  /**
   * Group administration (§4.6, §4.7): a group (else `privateRoom()`), administered by the
   * caller (else 403 "Forbidden"); an `operator` administers every group without being a member.
   */
  asAdmin?: AdminRule;
  /** §4.17 integrations (webhooks, API keys): the caller is an admin, or the room is private. */
  asIntegrator?: boolean;
  /** Room detail: a private room that lost its peer is not shown. */
  withPeer?: boolean;
}

interface AdminRule {
  privateRoom: () => Error;
  operator: boolean;
}

const NO_ROOM = () => notFound("No room found");

/**
 * The room `roomId` (null: an id that did not parse) if `userId` may enter it under `rule`, with
 * the caller's membership and peer block; otherwise throws the rule's error. One query (the send
 * path's only room read); `withPeer` adds one for private rooms.
 */
export async function accessRoom(db: Db, roomId: number | null, userId: number, rule: RoomRule & { asAdmin: AdminRule }): Promise<AdminAccess>;
export async function accessRoom(db: Db, roomId: number | null, userId: number, rule?: RoomRule): Promise<RoomAccess>;
export async function accessRoom(db: Db, roomId: number | null, userId: number, rule: RoomRule = {}): Promise<AdminAccess> {
  const denied = rule.denied ?? NO_ROOM;
  const row = roomId === null ? undefined : (await roomAndMember(db, { roomId, userId }))[0];
  if (!row) throw denied();
  const access = split(row, userId);
  const { room, member } = access;
  if (rule.asAdmin) {
    if (room.type === "private") throw rule.asAdmin.privateRoom();
    if (rule.asAdmin.operator) return access;
    if (member?.isAdmin !== 1) throw forbidden("Forbidden");
    return access;
  }
  if (!member) throw denied();
  if (rule.asIntegrator && member.isAdmin !== 1 && room.type !== "private") throw denied();
  if (rule.toPost) {
    if (room.deleted === 1) throw forbidden("Chat is deleted");
    if (access.blocksPeer) throw forbidden("Chat is blocked");
  }
  if (rule.withPeer && room.type === "private" && (await memberCount(db, room.id)) < 2) throw denied();
  return access;
}

/** The rooms of `roomIds` that `userId` is a member of (one query, for checks over many rooms). */
export async function memberRoomIds(db: Db, userId: number, roomIds: number[]): Promise<Set<number>> {
  if (roomIds.length === 0) return new Set();
  const rows = await db.selectFrom("roomUsers").select("roomId").where("userId", "=", userId).where("roomId", "in", roomIds).execute();
  return new Set(rows.map((r) => r.roomId));
}

/** Join times of `userId` in those of `roomIds` they are a member of. */
export async function joinTimes(db: Db, userId: number, roomIds: number[]): Promise<Map<number, number>> {
  if (roomIds.length === 0) return new Map();
  const rows = await db.selectFrom("roomUsers").select(["roomId", "createdAt"]).where("userId", "=", userId).where("roomId", "in", roomIds).execute();
  return new Map(rows.map((r) => [r.roomId, r.createdAt]));
}

const memberCount = async (db: Db, roomId: number) =>
  Number((await db.selectFrom("roomUsers").select(sql<number>`count(*)`.as("n")).where("roomId", "=", roomId).executeTakeFirstOrThrow()).n);

/** In a private room: whether `viewerId` blocked the other (human) member — one query. */
export async function blocksPrivatePeer(db: Db, room: RoomRow, viewerId: number): Promise<boolean> {
  if (room.type !== "private") return false;
  return (await blockedPeer(db, { roomId: room.id, viewerId })).length > 0;
}
const blockedPeerOf = (db: Db, roomId: number | Expression<number>, viewerId: number) =>
  db
    .selectFrom("roomUsers as peer")
    .innerJoin("users as u", "u.id", "peer.userId")
    .innerJoin("blocks as b", (j) => j.onRef("b.blockedId", "=", "peer.userId").on("b.userId", "=", viewerId))
    .select("peer.userId")
    .where("peer.roomId", "=", roomId)
    .where("peer.userId", "!=", viewerId)
    .where("u.isBot", "=", 0);
const blockedPeer = prepared((db, a: { roomId: number; viewerId: number }) => blockedPeerOf(db, a.roomId, a.viewerId).limit(1));

const roomAndMember = prepared((db, a: { roomId: number; userId: number }) =>
  db
    .selectFrom("rooms as r")
    // Left join: an operator administers groups it is not a member of.
    .leftJoin("roomUsers as ru", (j) => j.onRef("ru.roomId", "=", "r.id").on("ru.userId", "=", a.userId))
    .selectAll("r")
    .select([
      "ru.id as memberId",
      "ru.isAdmin as memberIsAdmin",
      "ru.seenMessageId as memberSeenMessageId",
      "ru.settingsModifiedAt as memberSettingsModifiedAt",
      "ru.messageCountAtJoin as memberMessageCountAtJoin",
      "ru.createdAt as memberCreatedAt",
      "ru.modifiedAt as memberModifiedAt",
    ])
    // Only private rooms look for a block (a large group would scan its members).
    .select((eb) =>
      eb
        .case()
        .when("r.type", "=", "private")
        .then(eb.exists(blockedPeerOf(db, eb.ref("r.id"), a.userId)))
        .else(eb.lit(false))
        .end()
        .as("blocksPeer"),
    )
    .where("r.id", "=", a.roomId),
);

type Joined = Awaited<ReturnType<typeof roomAndMember>>[number];

function split(row: Joined, userId: number): AdminAccess {
  const { memberId, memberIsAdmin, memberSeenMessageId, memberSettingsModifiedAt, memberMessageCountAtJoin, memberCreatedAt, memberModifiedAt, blocksPeer, ...room } = row;
  const member =
    memberId === null
      ? undefined
      : {
          id: memberId,
          roomId: room.id,
          userId,
          isAdmin: memberIsAdmin!,
          seenMessageId: memberSeenMessageId!,
          settingsModifiedAt: memberSettingsModifiedAt!,
          messageCountAtJoin: memberMessageCountAtJoin!,
          createdAt: memberCreatedAt!,
          modifiedAt: memberModifiedAt!,
        };
  return { room, member, blocksPeer: Boolean(blocksPeer) };
}
