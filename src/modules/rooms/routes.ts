// Rooms (§4.2–§4.12).
import Type from "typebox";
import type { App } from "../../app.js";
import { badRequest, notFound } from "../../http/errors.js";
import { IdParams, IntText, MsText, model, op } from "../../http/openapi.js";
import { Envelope, ListPage, Nullable, ok, pageOf, positiveInt, requiredNumber, SyncPage, syncPage } from "../../http/schema.js";
import { createRoom, deleteRoom, leaveRoom, ROOM_ACTIONS, setRoomFlag, updateRoom, type RoomFlag } from "./actions.js";
import { SYNC_LIMIT } from "../../db/count.js";
import { GROUP_ROOMS_LIMIT, groupRooms, listRooms, PAGING_LIMIT, privateRoomOf, roomDetail, roomsModifiedSince, roomViewFor, roomViews, unreadByRoom } from "./queries.js";
import { Room } from "./views.js";

const Ids = Type.Array(Type.Integer({ minimum: 1 }));
const RoomIdParams = IdParams("id");
const NOT_FOUND = { 404: ["Chat not found"] };
const RoomResponse = { 200: Envelope(Type.Object({ room: Room })) };

export default async function roomRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "device" as const };
  const tags = ["Room"];

  app.post(
    "/api/messenger/rooms",
    {
      config,
      schema: op({
        operationId: "createRoom",
        tags,
        summary: "Create a private or group room",
        description:
          "The caller is always a member and admin. `type` defaults to `private` for two members, else `group`. A private room needs exactly 2 users, must not exist yet, and in contact mode the other user must be a contact (409 / 400 otherwise). Members get `NEW_ROOM`; a group gets a `created_group` system message.",
        errors: {
          400: ["Users doesn't exist, ids: <ids>", "Admin users doesn't exist, ids: <ids>", "Private room must have 2 users", "Other user is not your contact"],
          409: ["Room already exists"],
        },
        body: Type.Object({
          name: Type.Optional(Type.String({ maxLength: 256 })),
          avatarFileId: Type.Optional(Type.Integer({ minimum: 0 })),
          type: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          userIds: Type.Optional(Ids),
          adminUserIds: Type.Optional(Ids),
        }),
        response: RoomResponse,
      }),
    },
    async (request) => ok({ room: await createRoom(ctx, request.auth, request.body) }),
  );

  app.get(
    "/api/messenger/rooms",
    {
      config,
      schema: op({
        operationId: "listRooms",
        tags,
        summary: "The caller's rooms, oldest first, 10 per page",
        description: "Rooms the caller is a member of, deleted ones excluded; `keyword` filters by name.",
        querystring: Type.Object({ page: Type.Optional(IntText("1-based page; missing or malformed means 1")), keyword: Type.Optional(Type.String()) }),
        response: { 200: Envelope(ListPage("RoomList", Room)) },
      }),
    },
    async (request) => {
      const viewerId = request.auth.user.id;
      const { rows, count } = await listRooms(ctx.db, viewerId, {
        page: pageOf(request.query.page),
        keyword: request.query.keyword?.trim() || undefined,
        dialect: ctx.dialect,
      });
      return ok({ list: await roomViews(ctx.db, ctx.config.teamMode, rows, viewerId), count, limit: PAGING_LIMIT });
    },
  );

  app.get(
    "/api/messenger/rooms/users/:userId",
    {
      config,
      schema: op({
        operationId: "getPrivateRoomWithUser",
        tags,
        summary: "The private room with a user",
        description: "404 when the caller and that user have no private room yet (create one with POST /api/messenger/rooms).",
        params: IdParams("userId"),
        response: RoomResponse,
        errors: NOT_FOUND,
      }),
    },
    async (request) => {
      const viewerId = request.auth.user.id;
      const other = positiveInt(request.params.userId);
      // A room's members exist (foreign key): no separate look-up of the other user.
      const room = other === null ? undefined : await privateRoomOf(ctx.db, viewerId, other);
      if (!room) throw notFound("Chat not found");
      return ok({ room: await roomViewFor(ctx.db, ctx.config.teamMode, room, viewerId) });
    },
  );

  app.get(
    "/api/messenger/rooms/unread-count",
    {
      config,
      schema: op({
        operationId: "getUnreadCounts",
        tags,
        summary: "Rooms with unread messages",
        description: "One entry per room of the caller with messages from others the caller has not seen (POST /api/messenger/messages/{roomId}/seen resets it).",
        response: {
          200: Envelope(Type.Object({ unreadCounts: Type.Array(model("UnreadCount", Type.Object({ roomId: Type.Integer(), unreadCount: Type.Integer() }))) })),
        },
      }),
    },
    async (request) => ok({ unreadCounts: await unreadByRoom(ctx.db, request.auth.user.id) }),
  );

  app.get(
    "/api/messenger/rooms/sync/:lastUpdate",
    {
      config,
      schema: op({
        operationId: "syncRooms",
        tags: ["Room", "Sync"],
        summary: "Rooms changed after a time (ms), deleted ones included",
        description: "Rooms of the caller whose `modifiedAt` (or the caller's flags on them) changed after `lastUpdate`, 100 per page; ask the next page while `hasNext`.",
        params: Type.Object({ lastUpdate: MsText() }),
        querystring: Type.Object({ page: Type.Optional(IntText("1-based page")) }),
        response: { 200: Envelope(SyncPage("RoomSyncPage", Room, "rooms")) },
        errors: { 400: ["lastUpdate must be number", "page must be number"] },
      }),
    },
    async (request) => {
      const viewerId = request.auth.user.id;
      const since = requiredNumber(request.params.lastUpdate, "lastUpdate");
      const page = syncPage(request.query.page);
      const { rows, count } = await roomsModifiedSince(ctx.db, viewerId, since, page);
      const list = await roomViews(ctx.db, ctx.config.teamMode, rows, viewerId);
      return ok({ list, rooms: list, limit: SYNC_LIMIT, count, hasNext: count > page * SYNC_LIMIT });
    },
  );

  app.get(
    "/api/messenger/group-message-rooms",
    {
      config,
      schema: op({
        operationId: "listGroupRooms",
        tags,
        summary: "The caller's group rooms by name, 20 per page",
        description: "Next page: `cursor` = `nextCursor` of the previous one (null: no more). Members come without their `user` objects.",
        querystring: Type.Object({ keyword: Type.Optional(Type.String()), cursor: Type.Optional(IntText("nextCursor of the previous page")) }),
        response: {
          200: Envelope(Type.Object({ groupMessageRoomList: Type.Array(Room), count: Type.Integer(), limit: Type.Integer(), nextCursor: Nullable(Type.Integer()) })),
        },
      }),
    },
    async (request) => {
      const viewerId = request.auth.user.id;
      const { rows, count } = await groupRooms(ctx.db, viewerId, {
        dialect: ctx.dialect,
        keyword: request.query.keyword?.trim() || undefined,
        cursor: positiveInt(request.query.cursor) ?? undefined,
      });
      const list = await roomViews(ctx.db, ctx.config.teamMode, rows, viewerId, false);
      const last = list.at(-1);
      return ok({ groupMessageRoomList: list, count, limit: GROUP_ROOMS_LIMIT, nextCursor: list.length === GROUP_ROOMS_LIMIT && last ? last.id : null });
    },
  );

  app.get(
    "/api/messenger/rooms/:id",
    {
      config,
      schema: op({
        operationId: "getRoom",
        tags,
        summary: "Room detail (deleted rooms too)",
        description: "Members only; the flags (`muted`, `pinned`, `unreadCount`) are the caller's.",
        params: RoomIdParams,
        response: RoomResponse,
        errors: NOT_FOUND,
      }),
    },
    async (request) => ok({ room: await roomDetail(ctx.db, ctx.config.teamMode, positiveInt(request.params.id), request.auth.user.id) }),
  );

  app.put(
    "/api/messenger/rooms/:id",
    {
      config,
      schema: op({
        operationId: "updateRoom",
        tags,
        summary: "Group administration: one action per request",
        description: `Group admins only. \`action\` is one of ${ROOM_ACTIONS.join(", ")}, with \`userIds\` (add/remove members), \`adminUserIds\` (add/remove admins), \`name\` or \`avatarFileId\`. Posts the matching system message; members get \`UPDATE_ROOM\`, removed users \`REMOVED_FROM_ROOM\`.`,
        errors: {
          400: [
            "Invalid params: action is required",
            `Invalid params: action must be one of ${ROOM_ACTIONS.join(", ")}`,
            "Users doesn't exist, ids: <ids>",
            "At least one admin should be in the group",
          ],
          403: ["Can't update private room", "Forbidden"],
          404: ["Not found"],
        },
        params: RoomIdParams,
        body: Type.Object({
          action: Type.Optional(Type.String()),
          name: Type.Optional(Type.String({ maxLength: 256 })),
          avatarFileId: Type.Optional(Type.Integer({ minimum: 0 })),
          userIds: Type.Optional(Ids),
          type: Type.Optional(Type.String()),
          adminUserIds: Type.Optional(Ids),
        }),
        response: RoomResponse,
      }),
    },
    async (request) => ok({ room: await updateRoom(ctx, request.auth, positiveInt(request.params.id), request.body) }),
  );

  app.delete(
    "/api/messenger/rooms/:id",
    {
      config,
      schema: op({
        operationId: "deleteRoom",
        tags,
        summary: "Delete a group room (admins)",
        description: "Marks the group deleted (it stays readable, nobody can post); members get `DELETE_ROOM`.",
        params: RoomIdParams,
        response: RoomResponse,
        errors: { 403: ["Can't delete private room", "Forbidden"], 404: ["Not found"] },
      }),
    },
    async (request) => ok({ room: await deleteRoom(ctx, request.auth, positiveInt(request.params.id)) }),
  );

  app.post(
    "/api/messenger/rooms/:id/leave",
    {
      config,
      schema: op({
        operationId: "leaveRoom",
        tags,
        summary: "Leave a group room; the last admin names new admins",
        description:
          "Posts a `user_left_group` system message; the caller gets `REMOVED_FROM_ROOM`, the remaining members `UPDATE_ROOM`. The only admin must pass `adminUserIds` (members who become admins).",
        params: RoomIdParams,
        body: Type.Object({ adminUserIds: Type.Optional(Ids) }),
        response: RoomResponse,
        errors: { 400: ["New admin(s) must be defined"], 403: ["Can't leave private room"], 404: ["Not found"] },
      }),
    },
    async (request) => ok({ room: await leaveRoom(ctx, request.auth, positiveInt(request.params.id), request.body.adminUserIds) }),
  );

  for (const flag of ["mute", "unmute", "pin", "unpin"] as RoomFlag[]) {
    app.post(
      `/api/messenger/rooms/:id/${flag}`,
      {
        config,
        schema: op({
          operationId: `${flag}Room`,
          tags,
          summary: `${flag[0].toUpperCase()}${flag.slice(1)} a room for the caller`,
          description: "Idempotent; only the caller's flag changes. The caller's devices get `UPDATE_ROOM`.",
          params: RoomIdParams,
          response: RoomResponse,
          errors: { 400: ["id is required"], 404: ["Chat not found"] },
        }),
      },
      async (request) => {
        const id = positiveInt(request.params.id);
        if (id === null) throw badRequest("id is required");
        return ok({ room: await setRoomFlag(ctx, request.auth, id, flag) });
      },
    );
  }
}
