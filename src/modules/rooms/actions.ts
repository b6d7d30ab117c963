// Every change to rooms and memberships (§4.2, §4.6–§4.9), with their system messages and events.
import { isOperator, type Actor, type Me } from "../../actor.js";
import { transact, type AfterCommit, type AppContext } from "../../context.js";
import type { Tx } from "../../db/index.js";
import type { RoomRow, UserRow } from "../../db/schema.js";
import { badRequest, conflict, forbidden, notFound } from "../../http/errors.js";
import { checkFileClaims } from "../files/access.js";
import { visibleName } from "../../names.js";
import { isContact, nameableUsers } from "../users/queries.js";
import { createSystemMessage } from "../messages/actions.js";
import { recordAudit } from "../audit/actions.js";
import { accessRoom } from "./access.js";
import { findRoom, membersOf, privateRoomOf, roomViewFor, roomViewsForMembers } from "./queries.js";
import type { Member, RoomView } from "./views.js";
import { roomSettingKey } from "./userSettings.js";

export interface NewRoomInput {
  name?: string;
  avatarFileId?: number;
  type?: string;
  userIds?: number[];
  adminUserIds?: number[];
}

/**
 * The users named by `ids`, each one the requester may add (nameableUsers); otherwise 400
 * `<what> doesn't exist, ids: …` listing them, the same for unknown users and users it cannot see.
 */
async function namedUsers(ctx: AppContext, tx: Tx, by: Actor, ids: number[], what: string): Promise<UserRow[]> {
  // An operator sees every user, as in team mode.
  const users = await nameableUsers(tx, ctx.config.teamMode || isOperator(by), isOperator(by) ? 0 : by.user.id, ids);
  if (users.length < ids.length) throw badRequest(`${what} doesn't exist, ids: ${ids.filter((id) => !users.some((u) => u.id === id)).join(", ")}`);
  return users;
}

/** The avatar rule (files/access.ts) for a member; an operator may set any file. */
async function claimAvatar(ctx: AppContext, tx: Tx, by: Actor, avatarFileId: number | undefined): Promise<void> {
  if (!isOperator(by)) await checkFileClaims(tx, ctx.dialect, by.user.id, "avatar", { avatarFileId });
}

const displayName = (u: Pick<UserRow, "displayName" | "id">) => u.displayName ?? `User ${u.id}`;

const OPERATOR_NAME = "Administrator";
const actorName = (actor: Actor) => (isOperator(actor) ? OPERATOR_NAME : displayName(actor.user));
/** Rooms as the actor sees them: an operator sees them as a non-member. */
const viewerId = (actor: Actor) => (isOperator(actor) ? 0 : actor.user.id);

/**
 * Who a system message is from. A message needs a sending user, so an operator's change is
 * sent in the name of the first member it concerns, with "Administrator" as its subject.
 */
function systemSender(actor: Actor, concerned: Pick<UserRow, "id">[]): { id: number; displayName: string | null } | null {
  if (!isOperator(actor)) return actor.user;
  return concerned.length ? { id: concerned[0].id, displayName: OPERATOR_NAME } : null;
}

/**
 * Sends each member the room as they see it: one event per group of members who see the same
 * member list (all of them in team mode), with each member's flags as personal fields. One event
 * per member carried the whole member list each time: 440 MB of JSON for a 1000-member room.
 */
export async function announceRoom(tx: Tx, teamMode: boolean, after: AfterCommit, room: RoomRow, type: "NEW_ROOM" | "UPDATE_ROOM" | "DELETE_ROOM") {
  for (const { userIds, view, flags } of await roomViewsForMembers(tx, teamMode, room)) {
    after.emit({ userIds, data: { type, room: view }, personal: { key: "room", byUser: Object.fromEntries(flags) } });
  }
}

async function addMembers(tx: Tx, room: RoomRow, userIds: number[], adminIds: Set<number>, now: number) {
  if (userIds.length === 0) return;
  await tx
    .insertInto("roomUsers")
    .values(
      userIds.map((userId) => ({
        roomId: room.id,
        userId,
        isAdmin: adminIds.has(userId) ? (1 as const) : (0 as const),
        settingsModifiedAt: now,
        messageCountAtJoin: room.messageCount,
        seenMessageId: room.lastMessageId ?? 0,
        createdAt: now,
        modifiedAt: now,
      })),
    )
    .onConflict((oc) => oc.columns(["roomId", "userId"]).doNothing())
    .execute();
}

/** POST /rooms (§4.2); an operator creates groups of the users it names (possibly none yet). */
export async function createRoom(ctx: AppContext, by: Actor, input: NewRoomInput): Promise<RoomView> {
  return transact(ctx, async (tx, after) => {
    const self = isOperator(by) ? [] : [by.user.id];
    const userIds = [...new Set([...(input.userIds ?? []), ...self])];
    const adminIds = [...new Set([...(input.adminUserIds ?? []), ...self])];
    const users = await namedUsers(ctx, tx, by, userIds, "Users");
    await namedUsers(ctx, tx, by, adminIds, "Admin users");
    const members = [...new Set([...userIds, ...adminIds])];
    await claimAvatar(ctx, tx, by, input.avatarFileId);
    const type = isOperator(by) ? "group" : (input.type ?? (members.length < 3 ? "private" : "group"));
    if (type === "private" && !isOperator(by)) {
      if (members.length !== 2) throw badRequest("Private room must have 2 users");
      const other = members.find((id) => id !== by.user.id)!;
      if (await privateRoomOf(tx, by.user.id, other)) throw conflict("Room already exists");
      if (!ctx.config.teamMode && !(await isContact(tx, by.user.id, other))) throw badRequest("Other user is not your contact");
    }
    const name = input.name !== undefined ? visibleName(input.name) : members.length === 1 ? "Private room" : members.length === 2 ? "" : "Untitled room";
    const now = Date.now();
    const room = await tx
      .insertInto("rooms")
      .values({ type, name, avatarFileId: input.avatarFileId ?? 0, createdAt: now, modifiedAt: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    await addMembers(tx, room, members, new Set(adminIds), now);
    const sender = systemSender(by, users);
    if (type === "group" && sender) await createSystemMessage(tx, after, room, sender, "created_group", `${actorName(by)} created the group ${name}`);
    const fresh = (await findRoom(tx, room.id))!;
    await announceRoom(tx, ctx.config.teamMode, after, fresh, "NEW_ROOM");
    if (isOperator(by)) await recordAudit(tx, by, { action: "group.create", targetType: "room", targetId: room.id, details: { name, userIds: members } });
    return roomViewFor(tx, ctx.config.teamMode, fresh, viewerId(by));
  });
}

export const ROOM_ACTIONS = ["addGroupUsers", "removeGroupUsers", "addGroupAdmins", "removeGroupAdmins", "changeGroupName", "changeGroupAvatar"] as const;
export type RoomAction = (typeof ROOM_ACTIONS)[number];

export interface UpdateRoomInput {
  action?: string;
  name?: string;
  avatarFileId?: number;
  userIds?: number[];
}

/** A group room the caller administers (§4.6 checks 1–3, §4.7); operators administer every group. */
async function administeredRoom(tx: Tx, roomId: number | null, by: Actor, privateMessage: string): Promise<RoomRow> {
  const rule = { denied: () => notFound("Not found"), asAdmin: { privateRoom: () => forbidden(privateMessage), operator: isOperator(by) } };
  return (await accessRoom(tx, roomId, isOperator(by) ? 0 : by.user.id, rule)).room;
}

/** What one PUT /rooms/:id action works with. */
interface ActionScope {
  ctx: AppContext;
  by: Actor;
  room: RoomRow;
  input: UpdateRoomInput;
  members: Member[];
  byId: Map<number, Member>;
  /** The distinct `userIds` of the request. */
  ids: number[];
  now: number;
  /** Posts the action's system message, naming `users`. */
  system(type: string, text: string, users?: UserRow[]): Promise<void>;
}

const names = (users: UserRow[]) => users.map(displayName).join(", ");
const picked = (s: ActionScope, keep: (m: Member) => boolean) => s.ids.map((id) => s.byId.get(id)).filter((m): m is Member => m !== undefined && keep(m));
const setAdmin = (tx: Tx, s: ActionScope, members: Member[], isAdmin: 0 | 1) =>
  tx
    .updateTable("roomUsers")
    .set({ isAdmin, modifiedAt: s.now })
    .where("roomId", "=", s.room.id)
    .where(
      "userId",
      "in",
      members.map((m) => m.userId),
    )
    .execute();

/** §4.6, one handler per action; each returns the users it removed from the room. */
const ROOM_ACTION_HANDLERS: Record<RoomAction, (tx: Tx, s: ActionScope) => Promise<number[]>> = {
  async addGroupUsers(tx: Tx, s: ActionScope) {
    const users = await namedUsers(s.ctx, tx, s.by, s.ids, "Users");
    const added = users.filter((u) => !s.byId.has(u.id));
    await addMembers(
      tx,
      s.room,
      added.map((u) => u.id),
      new Set(),
      s.now,
    );
    if (added.length) await s.system("added_group_members", `${actorName(s.by)} added ${names(added)} to the group`, added);
    return [];
  },
  async removeGroupUsers(tx: Tx, s: ActionScope) {
    // Members remove members; an operator may remove admins too, as long as one stays.
    const gone = picked(s, (m) => m.isAdmin !== 1 || isOperator(s.by));
    if (gone.some((m) => m.isAdmin === 1) && !s.members.some((m) => m.isAdmin === 1 && !gone.includes(m))) {
      throw badRequest("At least one admin should be in the group");
    }
    if (gone.length === 0) return [];
    await tx
      .deleteFrom("roomUsers")
      .where("roomId", "=", s.room.id)
      .where(
        "userId",
        "in",
        gone.map((m) => m.userId),
      )
      .execute();
    await s.system(
      "removed_group_members",
      `${actorName(s.by)} removed ${names(gone.map((m) => m.user))} from the group`,
      gone.map((m) => m.user),
    );
    return gone.map((m) => m.userId);
  },
  async addGroupAdmins(tx: Tx, s: ActionScope) {
    const promoted = picked(s, (m) => m.isAdmin !== 1);
    if (promoted.length) {
      await setAdmin(tx, s, promoted, 1);
      await s.system(
        "added_group_admins",
        `${actorName(s.by)} added ${names(promoted.map((m) => m.user))} as admin(s)`,
        promoted.map((m) => m.user),
      );
    }
    return [];
  },
  async removeGroupAdmins(tx: Tx, s: ActionScope) {
    const demoted = picked(s, (m) => m.isAdmin === 1);
    if (!s.members.some((m) => m.isAdmin === 1 && !demoted.includes(m))) throw badRequest("At least one admin should be in the group");
    if (demoted.length) {
      await setAdmin(tx, s, demoted, 0);
      await s.system(
        "removed_group_admins",
        `${actorName(s.by)} removed ${names(demoted.map((m) => m.user))} from admin(s)`,
        demoted.map((m) => m.user),
      );
    }
    return [];
  },
  async changeGroupName(tx: Tx, s: ActionScope) {
    const name = visibleName(s.input.name ?? "");
    if (name && name !== s.room.name) {
      await tx.updateTable("rooms").set({ name }).where("id", "=", s.room.id).execute();
      await s.system("updated_group_name", "Updated room name");
    }
    return [];
  },
  async changeGroupAvatar(tx: Tx, s: ActionScope) {
    const { avatarFileId } = s.input;
    if (avatarFileId !== undefined && avatarFileId !== s.room.avatarFileId) {
      await claimAvatar(s.ctx, tx, s.by, avatarFileId);
      await tx.updateTable("rooms").set({ avatarFileId }).where("id", "=", s.room.id).execute();
      await s.system("updated_group_avatar", "Updated room avatar");
    }
    return [];
  },
};

/** PUT /rooms/:id (§4.6). */
export async function updateRoom(ctx: AppContext, by: Actor, roomId: number | null, input: UpdateRoomInput): Promise<RoomView> {
  return transact(ctx, async (tx, after) => {
    const room = await administeredRoom(tx, roomId, by, "Can't update private room");
    if (room.deleted === 1) throw notFound("Not found");
    if (!input.action) throw badRequest("Invalid params: action is required");
    if (!Object.hasOwn(ROOM_ACTION_HANDLERS, input.action)) throw badRequest(`Invalid params: action must be one of ${ROOM_ACTIONS.join(", ")}`);
    const action = input.action as RoomAction;
    const now = Date.now();
    const members = (await membersOf(tx, [room.id])).get(room.id) ?? [];
    const system = async (type: string, text: string, users: UserRow[] = []) => {
      const sender = systemSender(by, users.length ? users : members.map((m) => m.user));
      if (sender)
        await createSystemMessage(
          tx,
          after,
          room,
          sender,
          type,
          text,
          users.map((u) => ({ id: u.id, name: displayName(u) })),
        );
    };
    const byId = new Map(members.map((m) => [m.userId, m]));
    const removed = await ROOM_ACTION_HANDLERS[action](tx, { ctx, by, room, input, members, byId, ids: [...new Set(input.userIds ?? [])], now, system });

    const count = (await membersOf(tx, [room.id])).get(room.id)?.length ?? 0;
    await tx
      .updateTable("rooms")
      .set({ modifiedAt: Math.max(now, room.modifiedAt + 1), ...(count > 2 ? { type: "group" } : {}) })
      .where("id", "=", room.id)
      .execute();
    const fresh = (await findRoom(tx, room.id))!;
    if (removed.length) after.emit({ userIds: removed, data: { type: "REMOVED_FROM_ROOM", roomId: room.id } });
    await announceRoom(tx, ctx.config.teamMode, after, fresh, "UPDATE_ROOM");
    if (isOperator(by)) await recordAudit(tx, by, { action: `group.${action}`, targetType: "room", targetId: room.id, details: { ...input, action: undefined } });
    return roomViewFor(tx, ctx.config.teamMode, fresh, viewerId(by));
  });
}

/** DELETE /rooms/:id (§4.7). */
export async function deleteRoom(ctx: AppContext, by: Actor, roomId: number | null): Promise<RoomView> {
  return transact(ctx, async (tx, after) => {
    const room = await administeredRoom(tx, roomId, by, "Can't delete private room");
    const now = Date.now();
    await tx
      .updateTable("rooms")
      .set({ deleted: 1, modifiedAt: Math.max(now, room.modifiedAt + 1) })
      .where("id", "=", room.id)
      .execute();
    const fresh = (await findRoom(tx, room.id))!;
    await announceRoom(tx, ctx.config.teamMode, after, fresh, "DELETE_ROOM");
    if (isOperator(by)) await recordAudit(tx, by, { action: "group.delete", targetType: "room", targetId: room.id });
    return roomViewFor(tx, ctx.config.teamMode, fresh, viewerId(by));
  });
}

/** POST /rooms/:id/leave (§4.8): the last admin hands over to members named in adminUserIds. */
export async function leaveRoom(ctx: AppContext, me: Me, roomId: number | null, adminUserIds: number[] | undefined): Promise<RoomView> {
  return transact(ctx, async (tx, after) => {
    const { room, member } = await accessRoom(tx, roomId, me.user.id, { denied: () => notFound("Not found") });
    if (room.type === "private") throw forbidden("Can't leave private room");
    const members = (await membersOf(tx, [room.id])).get(room.id) ?? [];
    const otherAdmins = members.filter((m) => m.isAdmin === 1 && m.userId !== me.user.id);
    const now = Date.now();
    if (member.isAdmin === 1 && otherAdmins.length === 0) {
      const heirs = members.filter((m) => m.userId !== me.user.id && (adminUserIds ?? []).includes(m.userId));
      if (heirs.length === 0) throw badRequest("New admin(s) must be defined");
      await tx
        .updateTable("roomUsers")
        .set({ isAdmin: 1, modifiedAt: now })
        .where("roomId", "=", room.id)
        .where(
          "userId",
          "in",
          heirs.map((h) => h.userId),
        )
        .execute();
    }
    await tx.deleteFrom("roomUsers").where("id", "=", member.id).execute();
    await tx
      .updateTable("rooms")
      .set({ modifiedAt: Math.max(now, room.modifiedAt + 1) })
      .where("id", "=", room.id)
      .execute();
    after.emit({ userIds: [me.user.id], data: { type: "REMOVED_FROM_ROOM", roomId: room.id } });
    await createSystemMessage(tx, after, room, me.user, "user_left_group", `${displayName(me.user)} left the room`);
    const fresh = (await findRoom(tx, room.id))!;
    await announceRoom(tx, ctx.config.teamMode, after, fresh, "UPDATE_ROOM");
    return roomViewFor(tx, ctx.config.teamMode, fresh, me.user.id);
  });
}

export type RoomFlag = "mute" | "unmute" | "pin" | "unpin";

/** POST /rooms/:id/mute|unmute|pin|unpin (§4.9): idempotent. */
export async function setRoomFlag(ctx: AppContext, me: Me, roomId: number | null, flag: RoomFlag): Promise<RoomView> {
  const userId = me.user.id;
  return transact(ctx, async (tx, after) => {
    const { room, member } = await accessRoom(tx, roomId, userId, { denied: () => notFound("Chat not found") });
    const on = flag === "mute" || flag === "pin";
    const key = roomSettingKey(on ? flag : flag === "unmute" ? "mute" : "pin", room.id);
    const now = Date.now();
    if (on) {
      await tx
        .insertInto("userSettings")
        .values({ userId, key, value: "true", createdAt: now, modifiedAt: now })
        .onConflict((oc) => oc.columns(["userId", "key"]).doUpdateSet({ modifiedAt: now }))
        .execute();
    } else {
      await tx.deleteFrom("userSettings").where("userId", "=", userId).where("key", "=", key).execute();
    }
    await tx.updateTable("roomUsers").set({ settingsModifiedAt: now }).where("id", "=", member.id).execute();
    await announceRoom(tx, ctx.config.teamMode, after, room, "UPDATE_ROOM");
    return roomViewFor(tx, ctx.config.teamMode, room, userId);
  });
}
