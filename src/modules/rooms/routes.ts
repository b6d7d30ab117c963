// Rooms (§4.2–§4.12).
import Type from "typebox";
import type { App } from "../../app.js";
import { badRequest, notFound } from "../../http/errors.js";
import { Envelope, Nullable, ok, pageOf, positiveInt, requiredNumber, syncPage } from "../../http/schema.js";
import { findUser } from "../users/queries.js";
import { createRoom, deleteRoom, leaveRoom, setRoomFlag, updateRoom, type RoomFlag } from "./actions.js";
import {
  findRoom,
  GROUP_ROOMS_LIMIT,
  groupRooms,
  listRooms,
  membersOf,
  membership,
  PAGING_LIMIT,
  privateRoomOf,
  roomsModifiedSince,
  roomViewFor,
  roomViews,
  SYNC_LIMIT,
  unreadByRoom,
} from "./queries.js";
import { Room } from "./views.js";

const Ids = Type.Array(Type.Integer({ minimum: 1 }));
const IdParams = Type.Object({ id: Type.String() });
const RoomResponse = { 200: Envelope(Type.Object({ room: Room })) };

export default async function roomRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "device" as const };
  const tags = ["Room"];

  app.post(
    "/api/messenger/rooms",
    {
      config,
      schema: {
        tags,
        summary: "Create a private or group room",
        body: Type.Object({
          name: Type.Optional(Type.String({ maxLength: 256 })),
          avatarFileId: Type.Optional(Type.Integer({ minimum: 0 })),
          type: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          userIds: Type.Optional(Ids),
          adminUserIds: Type.Optional(Ids),
        }),
        response: RoomResponse,
      },
    },
    async (request) => ok({ room: await createRoom(ctx, request.auth.user, request.body) }),
  );

  app.get(
    "/api/messenger/rooms",
    {
      config,
      schema: {
        tags,
        summary: "The caller's rooms, oldest first, 10 per page",
        querystring: Type.Object({ page: Type.Optional(Type.String()), keyword: Type.Optional(Type.String()) }),
        response: { 200: Envelope(Type.Object({ list: Type.Array(Room), count: Type.Integer(), limit: Type.Integer() })) },
      },
    },
    async (request) => {
      const me = request.auth.user.id;
      const { rows, count } = await listRooms(ctx.db, me, {
        page: pageOf(request.query.page),
        keyword: request.query.keyword?.trim() || undefined,
        dialect: ctx.dialect,
      });
      return ok({ list: await roomViews(ctx.db, ctx.config.teamMode, rows, me), count, limit: PAGING_LIMIT });
    },
  );

  app.get(
    "/api/messenger/rooms/users/:userId",
    { config, schema: { tags, summary: "The private room with a user", params: Type.Object({ userId: Type.String() }), response: RoomResponse } },
    async (request) => {
      const me = request.auth.user.id;
      const other = positiveInt(request.params.userId);
      const room = other === null || !(await findUser(ctx.db, other)) ? undefined : await privateRoomOf(ctx.db, me, other);
      if (!room) throw notFound("Chat not found");
      return ok({ room: await roomViewFor(ctx.db, ctx.config.teamMode, room, me) });
    },
  );

  app.get(
    "/api/messenger/rooms/unread-count",
    {
      config,
      schema: {
        tags,
        summary: "Rooms with unread messages",
        response: { 200: Envelope(Type.Object({ unreadCounts: Type.Array(Type.Object({ roomId: Type.Integer(), unreadCount: Type.Integer() })) })) },
      },
    },
    async (request) => ok({ unreadCounts: await unreadByRoom(ctx.db, request.auth.user.id) }),
  );

  app.get(
    "/api/messenger/rooms/sync/:lastUpdate",
    {
      config,
      schema: {
        tags: ["Room", "Sync"],
        summary: "Rooms changed after a time (ms), deleted ones included",
        params: Type.Object({ lastUpdate: Type.String() }),
        querystring: Type.Object({ page: Type.Optional(Type.String()) }),
        response: {
          200: Envelope(
            Type.Object({ list: Type.Array(Room), rooms: Type.Array(Room), limit: Type.Integer(), count: Type.Integer(), hasNext: Type.Boolean() }),
          ),
        },
      },
    },
    async (request) => {
      const me = request.auth.user.id;
      const since = requiredNumber(request.params.lastUpdate, "lastUpdate");
      const page = syncPage(request.query.page);
      const { rows, count } = await roomsModifiedSince(ctx.db, me, since, page);
      const list = await roomViews(ctx.db, ctx.config.teamMode, rows, me);
      return ok({ list, rooms: list, limit: SYNC_LIMIT, count, hasNext: count > page * SYNC_LIMIT });
    },
  );

  app.get(
    "/api/messenger/group-message-rooms",
    {
      config,
      schema: {
        tags,
        summary: "The caller's group rooms by name, 20 per page",
        querystring: Type.Object({ keyword: Type.Optional(Type.String()), cursor: Type.Optional(Type.String()) }),
        response: {
          200: Envelope(
            Type.Object({ groupMessageRoomList: Type.Array(Room), count: Type.Integer(), limit: Type.Integer(), nextCursor: Nullable(Type.Integer()) }),
          ),
        },
      },
    },
    async (request) => {
      const me = request.auth.user.id;
      const { rows, count } = await groupRooms(ctx.db, me, {
        dialect: ctx.dialect,
        keyword: request.query.keyword?.trim() || undefined,
        cursor: positiveInt(request.query.cursor) ?? undefined,
      });
      const list = await roomViews(ctx.db, ctx.config.teamMode, rows, me, false);
      const last = list.at(-1);
      return ok({ groupMessageRoomList: list, count, limit: GROUP_ROOMS_LIMIT, nextCursor: list.length === GROUP_ROOMS_LIMIT && last ? last.id : null });
    },
  );

  app.get(
    "/api/messenger/rooms/:id",
    { config, schema: { tags, summary: "Room detail (deleted rooms too)", params: IdParams, response: RoomResponse } },
    async (request) => {
      const me = request.auth.user.id;
      const id = positiveInt(request.params.id);
      const room = id === null ? undefined : await findRoom(ctx.db, id);
      if (!room || !(await membership(ctx.db, room.id, me))) throw notFound("Chat not found");
      if (room.type === "private" && ((await membersOf(ctx.db, [room.id])).get(room.id)?.length ?? 0) < 2) throw notFound("Chat not found");
      return ok({ room: await roomViewFor(ctx.db, ctx.config.teamMode, room, me) });
    },
  );

  app.put(
    "/api/messenger/rooms/:id",
    {
      config,
      schema: {
        tags,
        summary: "Group administration: one action per request",
        params: IdParams,
        body: Type.Object({
          action: Type.Optional(Type.String()),
          name: Type.Optional(Type.String({ maxLength: 256 })),
          avatarFileId: Type.Optional(Type.Integer({ minimum: 0 })),
          userIds: Type.Optional(Ids),
          type: Type.Optional(Type.String()),
          adminUserIds: Type.Optional(Ids),
        }),
        response: RoomResponse,
      },
    },
    async (request) => ok({ room: await updateRoom(ctx, request.auth.user, positiveInt(request.params.id), request.body) }),
  );

  app.delete(
    "/api/messenger/rooms/:id",
    { config, schema: { tags, summary: "Delete a group room (admins)", params: IdParams, response: RoomResponse } },
    async (request) => ok({ room: await deleteRoom(ctx, request.auth.user, positiveInt(request.params.id)) }),
  );

  app.post(
    "/api/messenger/rooms/:id/leave",
    {
      config,
      schema: {
        tags,
        summary: "Leave a group room; the last admin names new admins",
        params: IdParams,
        body: Type.Object({ adminUserIds: Type.Optional(Ids) }),
        response: RoomResponse,
      },
    },
    async (request) => ok({ room: await leaveRoom(ctx, request.auth.user, positiveInt(request.params.id), request.body.adminUserIds) }),
  );

  for (const flag of ["mute", "unmute", "pin", "unpin"] as RoomFlag[]) {
    app.post(
      `/api/messenger/rooms/:id/${flag}`,
      { config, schema: { tags, summary: `${flag[0].toUpperCase()}${flag.slice(1)} a room for the caller`, params: IdParams, response: RoomResponse } },
      async (request) => {
        const id = positiveInt(request.params.id);
        if (id === null) throw badRequest("id is required");
        return ok({ room: await setRoomFlag(ctx, request.auth.user.id, id, flag) });
      },
    );
  }
}
