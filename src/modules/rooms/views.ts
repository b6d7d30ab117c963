// Room rows → the Room model of API.md §2.5 (flags and unread count are per viewer).
import Type from "typebox";
import { model } from "../../http/openapi.js";
import type { RoomRow, RoomUserRow, UserRow } from "../../db/schema.js";
import { User, userView } from "../users/views.js";

export const RoomUser = model(
  "RoomUser",
  Type.Object({
    userId: Type.Integer(),
    isAdmin: Type.Boolean(),
    roomId: Type.Integer(),
    createdAt: Type.Integer(),
    user: Type.Optional(User),
  }),
);

export const Room = model(
  "Room",
  Type.Object({
    id: Type.Integer(),
    name: Type.String(),
    users: Type.Array(RoomUser),
    avatarFileId: Type.Integer(),
    muted: Type.Boolean(),
    type: Type.String(),
    deleted: Type.Boolean(),
    pinned: Type.Boolean(),
    createdAt: Type.Integer(),
    modifiedAt: Type.Integer(),
    unreadCount: Type.Integer(),
  }),
);
export type RoomView = Type.Static<typeof Room>;

export interface ViewerFlags {
  muted: boolean;
  pinned: boolean;
  unreadCount: number;
}

export type Member = RoomUserRow & { user: UserRow };

/** The Room model but the viewer's flags: what members who see the same member list share. */
export type SharedRoomView = Omit<RoomView, keyof ViewerFlags>;

/** `knows(userId)`: whether the viewer sees that member's contact details (whoKnowsWhom). */
export function sharedRoomView(room: RoomRow, members: Member[], knows: (userId: number) => boolean, withUsers = true): SharedRoomView {
  return {
    id: room.id,
    name: room.name,
    users: members.map((m) => ({
      userId: m.userId,
      isAdmin: m.isAdmin === 1,
      roomId: m.roomId,
      createdAt: m.createdAt,
      ...(withUsers ? { user: userView(m.user, knows(m.userId)) } : {}),
    })),
    avatarFileId: room.avatarFileId,
    type: room.type,
    deleted: room.deleted === 1,
    createdAt: room.createdAt,
    modifiedAt: room.modifiedAt,
  };
}

export function roomView(room: RoomRow, members: Member[], flags: ViewerFlags, knows: (userId: number) => boolean, withUsers = true): RoomView {
  return { ...sharedRoomView(room, members, knows, withUsers), muted: flags.muted, pinned: flags.pinned, unreadCount: flags.unreadCount };
}

/** The raw room row with ISO times, as upstream's recent-chats returns it (§4.20, §1.4). */
export const RawRoom = model(
  "RawRoom",
  Type.Object({
    id: Type.Integer(),
    type: Type.String(),
    name: Type.String(),
    avatarFileId: Type.Integer(),
    createdAt: Type.String(),
    modifiedAt: Type.String(),
    deleted: Type.Boolean(),
  }),
);

export const rawRoomView = (r: RoomRow) => ({
  id: r.id,
  type: r.type,
  name: r.name,
  avatarFileId: r.avatarFileId,
  createdAt: new Date(r.createdAt).toISOString(),
  modifiedAt: new Date(r.modifiedAt).toISOString(),
  deleted: r.deleted === 1,
});
