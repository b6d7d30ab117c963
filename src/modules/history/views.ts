// History items (§4.19) and recent chats (§4.20) → JSON.
import Type from "typebox";
import { model } from "../../http/openapi.js";
import type { RoomRow, UserRow } from "../../db/schema.js";
import { Nullable } from "../../http/schema.js";
import { Message, type MessageView } from "../messages/views.js";
import type { ViewerFlags } from "../rooms/views.js";
import { RawRoom, rawRoomView } from "../rooms/views.js";
import { User, userView } from "../users/views.js";
import type { HistoryEntry } from "./queries.js";

export const HistoryItem = model(
  "HistoryItem",
  Type.Object({
    roomId: Type.Integer(),
    muted: Type.Boolean(),
    pinned: Type.Boolean(),
    lastMessage: Nullable(Message),
    unreadCount: Type.Integer(),
  }),
);
export type HistoryItemView = Type.Static<typeof HistoryItem>;

/** Entries with the viewer's flags and the Message models of their messages → history items. */
export function historyItems(entries: HistoryEntry[], messages: MessageView[], flags: Map<number, ViewerFlags>): HistoryItemView[] {
  const views = new Map(messages.map((v) => [v.id, v]));
  return entries.map((e) => {
    const f = flags.get(e.roomId) ?? { muted: false, pinned: false, unreadCount: 0 };
    return {
      roomId: e.roomId,
      muted: f.muted,
      pinned: f.pinned,
      lastMessage: e.message ? (views.get(e.message.id) ?? null) : null,
      unreadCount: f.unreadCount,
    };
  });
}

export const RecentChats = model("RecentChats", Type.Object({ recentUserChats: Type.Array(User), recentGroupChats: Type.Array(RawRoom) }));

export const recentChatsView = (users: UserRow[], rooms: RoomRow[]) => ({
  // recentPeers are contacts in contact mode: known (whoKnowsWhom).
  recentUserChats: users.map((u) => userView(u)),
  recentGroupChats: rooms.map(rawRoomView),
});
