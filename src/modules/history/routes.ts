// History (§4.19) and recent chats (§4.20): read-only lists of the caller's rooms by their
// latest message.
import Type from "typebox";
import type { App } from "../../app.js";
import { badRequest } from "../../http/errors.js";
import { IdParams, IntText, op } from "../../http/openapi.js";
import { Envelope, Nullable, ok, pageOf, positiveInt } from "../../http/schema.js";
import { messageViews } from "../messages/queries.js";
import { Message } from "../messages/views.js";
import { viewerFlags } from "../rooms/queries.js";
import { HISTORY_PAGING_LIMIT, historyOfRoom, historyPage, recentGroupRooms, recentPeers } from "./queries.js";
import { HistoryItem, historyItems, RecentChats, recentChatsView } from "./views.js";

export default async function historyRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "device" as const };

  app.get(
    "/api/messenger/history",
    {
      config,
      schema: op({
        operationId: "listHistory",
        tags: ["History"],
        summary: "The caller's rooms by their latest message, newest first, 20 per page",
        description:
          "The chat list: each room of the caller with its latest message (null when none), the caller's flags and unread count; `keyword` filters by group name or private peer's display name.",
        querystring: Type.Object({ page: Type.Optional(IntText("1-based page; missing or malformed means 1")), keyword: Type.Optional(Type.String()) }),
        response: {
          200: Envelope(Type.Object({ list: Type.Array(HistoryItem), count: Type.Integer(), limit: Type.Integer(), page: Type.Integer() })),
        },
      }),
    },
    async (request) => {
      const viewerId = request.auth.user.id;
      const page = pageOf(request.query.page);
      const { entries, count } = await historyPage(ctx.db, ctx.dialect, viewerId, { page, keyword: request.query.keyword?.trim() || undefined });
      const [flags, messages] = await Promise.all([
        viewerFlags(
          ctx.db,
          entries.map((e) => e.roomId),
          viewerId,
        ),
        messageViews(
          ctx.db,
          entries.flatMap((e) => (e.message ? [e.message] : [])),
        ),
      ]);
      return ok({ list: historyItems(entries, messages, flags), count, limit: HISTORY_PAGING_LIMIT, page });
    },
  );

  app.get(
    "/api/messenger/history/roomId/:roomId",
    {
      config,
      schema: op({
        operationId: "getRoomHistoryItem",
        tags: ["History"],
        summary: "One room's history item, with this device's copy of the latest message",
        description: "Members only; refreshes one entry of the chat list.",
        params: IdParams("roomId"),
        errors: { 400: ["Invalid roomId"], 404: ["Chat not found"] },
        response: {
          200: Envelope(Type.Object({ unreadCount: Type.Integer(), roomId: Type.Integer(), lastMessage: Nullable(Message), muted: Type.Boolean(), pinned: Type.Boolean() })),
        },
      }),
    },
    async (request) => {
      const { user, device } = request.auth;
      const roomId = positiveInt(request.params.roomId);
      if (roomId === null) throw badRequest("Invalid roomId");
      const found = await historyOfRoom(ctx.db, device, roomId);
      const [flags, views] = await Promise.all([viewerFlags(ctx.db, [roomId], user.id), found.message ? messageViews(ctx.db, [found.message]) : Promise.resolve([])]);
      const f = flags.get(roomId)!;
      return ok({ unreadCount: f.unreadCount, roomId, lastMessage: views[0] ?? null, muted: f.muted, pinned: f.pinned });
    },
  );

  app.get(
    "/api/messenger/recent-chats",
    {
      config,
      schema: op({
        operationId: "getRecentChats",
        tags: ["Room"],
        summary: "Up to 3 recent private-chat peers and 3 recent group rooms",
        description:
          "By latest message; for share sheets. Group rooms are raw rows (ISO-8601 times). Deleted users are left out; in team mode also peers the caller blocked, otherwise only contacts that are not bots count.",
        response: { 200: Envelope(RecentChats) },
      }),
    },
    async (request) => {
      const viewerId = request.auth.user.id;
      const [users, rooms] = await Promise.all([recentPeers(ctx.db, viewerId, { teamMode: ctx.config.teamMode }), recentGroupRooms(ctx.db, viewerId)]);
      return ok(recentChatsView(users, rooms));
    },
  );
}
