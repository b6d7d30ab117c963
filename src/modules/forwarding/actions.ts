// POST /messages/forward and /messages/share (§4.14). Everything is checked before anything is
// written; then private rooms are opened where needed (NEW_ROOM) and every message is created
// through createMessage(), so fan-out, records and events are those of a normal send, except
// that the requesting device gets NEW_MESSAGE too (the Spika web client waits for it).
import type { Me, MeOnDevice } from "../../actor.js";
import { transact, type AfterCommit, type AppContext } from "../../context.js";
import type { Tx } from "../../db/index.js";
import type { MessageRow, RoomRow } from "../../db/schema.js";
import { badRequest, forbidden, notFound } from "../../http/errors.js";
import { checkedBody, containsLink, createMessage } from "../messages/actions.js";
import { copiesOf, messageViews } from "../messages/queries.js";
import { asCopy, parseBody, type MessageView } from "../messages/views.js";
import { joinTimes, memberRoomIds } from "../rooms/access.js";
import { announceRoom } from "../rooms/actions.js";
import { roomViews } from "../rooms/queries.js";
import type { RoomView } from "../rooms/views.js";
import { blockedBy, contactsAmong, privatePeers, privateRoomsWith } from "./queries.js";

/** Most messages one forward/share may create (messages × target rooms). */
export const MAX_CREATED_MESSAGES = 500;

export interface Targets {
  roomIds?: number[];
  userIds?: number[];
}

export interface Outgoing {
  type: string;
  body: Record<string, unknown>;
}

export interface ForwardResult {
  messages: MessageView[];
  newRooms: RoomView[];
}

const unique = (ids: number[] | undefined) => [...new Set(ids ?? [])];

interface TargetPlan {
  /** Existing rooms to post to: the named rooms, then private rooms with the named users. */
  rooms: RoomRow[];
  /** Users to open a private room with. */
  open: number[];
}

/**
 * Resolves `roomIds` and `userIds` without writing: every named room must exist, have the caller
 * as a member and not be deleted (400); unknown, unverified or deleted users and the caller are
 * skipped, as are users without a private room who are not contacts (non-team mode, §4.2); private
 * rooms whose peer the caller blocked are skipped (§4.18).
 */
async function planTargets(ctx: AppContext, tx: Tx, me: Me, targets: Targets): Promise<TargetPlan> {
  const userId = me.user.id;
  const roomIds = unique(targets.roomIds);
  const found = roomIds.length ? await tx.selectFrom("rooms").selectAll().where("id", "in", roomIds).execute() : [];
  const byId = new Map(found.map((r) => [r.id, r]));
  const missing = roomIds.find((id) => !byId.has(id));
  if (missing !== undefined) throw badRequest(`Room with id ${missing} does not exist`);
  if ((await memberRoomIds(tx, userId, roomIds)).size < roomIds.length) throw badRequest("User is not in one or more rooms sent in roomIds");
  const deleted = roomIds.find((id) => byId.get(id)!.deleted === 1);
  if (deleted !== undefined) throw badRequest(`Room with id ${deleted} is deleted`);
  const named = roomIds.map((id) => byId.get(id)!);

  const requested = unique(targets.userIds).filter((id) => id !== userId);
  const users = requested.length ? await tx.selectFrom("users").select("id").where("id", "in", requested).where("deleted", "=", 0).where("verified", "=", 1).execute() : [];
  const known = new Set(users.map((u) => u.id));
  const userIds = requested.filter((id) => known.has(id));

  const peers = await privatePeers(tx, userId, named);
  const blocked = await blockedBy(tx, userId, [...new Set([...peers.values(), ...userIds])]);
  const reachable = userIds.filter((id) => !blocked.has(id));
  const existing = await privateRoomsWith(tx, userId, reachable);
  const contacts = ctx.config.teamMode
    ? null
    : await contactsAmong(
        tx,
        userId,
        reachable.filter((id) => !existing.has(id)),
      );

  const rooms = named.filter((r) => !(peers.has(r.id) && blocked.has(peers.get(r.id)!)));
  const open: number[] = [];
  for (const id of reachable) {
    const room = existing.get(id);
    if (room) rooms.push(room);
    else if (contacts === null || contacts.has(id)) open.push(id);
  }
  const seen = new Set<number>();
  return { rooms: rooms.filter((r) => !seen.has(r.id) && seen.add(r.id)), open };
}

/** Opens a private room (name "", no admins) with each of `userIds`; NEW_ROOM to both members. */
async function openPrivateRooms(tx: Tx, teamMode: boolean, after: AfterCommit, me: Me, userIds: number[]): Promise<RoomRow[]> {
  const ownId = me.user.id;
  const rooms: RoomRow[] = [];
  for (const userId of userIds) {
    const now = Date.now();
    const room = await tx.insertInto("rooms").values({ type: "private", name: "", avatarFileId: 0, createdAt: now, modifiedAt: now }).returningAll().executeTakeFirstOrThrow();
    await tx
      .insertInto("roomUsers")
      .values([ownId, userId].map((u) => ({ roomId: room.id, userId: u, isAdmin: 0 as const, settingsModifiedAt: now, createdAt: now, modifiedAt: now })))
      .execute();
    await announceRoom(tx, teamMode, after, room, "NEW_ROOM");
    rooms.push(room);
  }
  return rooms;
}

/** Plans the targets, opens rooms, and posts every message to every target room. */
async function deliver(ctx: AppContext, tx: Tx, after: AfterCommit, me: MeOnDevice, plan: TargetPlan, items: Outgoing[]): Promise<ForwardResult> {
  if (items.length * (plan.rooms.length + plan.open.length) > MAX_CREATED_MESSAGES) {
    throw badRequest(`Too many messages: at most ${MAX_CREATED_MESSAGES} (messages × rooms) per request`);
  }
  const opened = await openPrivateRooms(tx, ctx.config.teamMode, after, me, plan.open);
  const created: MessageRow[] = [];
  for (const item of items) {
    const hasLink = item.type === "text" && containsLink(item.body.text);
    for (const room of [...plan.rooms, ...opened]) {
      const { message } = await createMessage(tx, after, {
        room,
        fromUserId: me.user.id,
        fromDeviceId: me.device.id,
        type: item.type,
        body: item.body,
        isForwarded: true,
        hasLink,
        echoToSendingDevice: true,
      });
      created.push(message);
    }
  }
  const [messages, newRooms] = await Promise.all([
    messageViews(
      tx,
      created.map((m) => asCopy(m)),
    ),
    roomViews(tx, ctx.config.teamMode, opened, me.user.id),
  ]);
  return { messages, newRooms };
}

/**
 * The caller's copies of `messageIds`, checked in the given order (404 missing, 403 not a member,
 * 403 no copy; deleted copies and system messages cannot be forwarded), as type + body in
 * chronological order. The body is the caller's copy without a reply reference (a forward is not
 * a reply) or server-added file objects.
 */
async function forwardable(tx: Tx, me: Me, messageIds: number[]): Promise<Outgoing[]> {
  const userId = me.user.id;
  const ids = unique(messageIds);
  const copies = new Map((await copiesOf(tx, userId, ids)).map((c) => [c.id, c]));
  const roomIds = [...new Set([...copies.values()].map((c) => c.roomId))];
  const joined = await joinTimes(tx, userId, roomIds);
  for (const id of ids) {
    const copy = copies.get(id);
    if (!copy) throw notFound("Message not found");
    const joinedAt = joined.get(copy.roomId);
    if (joinedAt === undefined) throw forbidden("User is not in room");
    if (copy.createdAt < joinedAt || copy.exKind === "hidden") throw forbidden("No device message found");
    if (copy.deleted === 1 || copy.exKind === "deleted") throw badRequest("Deleted messages can't be forwarded");
    if (copy.type === "system") throw badRequest("System messages can't be forwarded");
  }
  return ids
    .map((id) => copies.get(id)!)
    .sort((a, b) => a.id - b.id)
    .map((c) => {
      const body = parseBody(c);
      delete body.referenceMessage;
      delete body.file;
      delete body.thumb;
      return { type: c.type, body };
    });
}

/** POST /messages/forward (§4.14). */
export async function forwardMessages(ctx: AppContext, me: MeOnDevice, input: Targets & { messageIds: number[] }): Promise<ForwardResult> {
  return transact(ctx, async (tx, after) => {
    const items = await forwardable(tx, me, input.messageIds);
    const plan = await planTargets(ctx, tx, me, input);
    return deliver(ctx, tx, after, me, plan, items);
  });
}

/** POST /messages/share (§4.14): external content, checked by the §2.6 body rules of a send. */
export async function shareMessages(ctx: AppContext, me: MeOnDevice, input: Targets & { messages: Outgoing[] }): Promise<ForwardResult> {
  return transact(ctx, async (tx, after) => {
    const plan = await planTargets(ctx, tx, me, input);
    const items: Outgoing[] = [];
    for (const m of input.messages) items.push({ type: m.type, body: await checkedBody(tx, ctx.dialect, me.user.id, 0, m.type, m.body, undefined) });
    return deliver(ctx, tx, after, me, plan, items);
  });
}
