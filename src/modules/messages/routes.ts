// Messages and message records (§4.14, §4.15).
import Type from "typebox";
import type { App } from "../../app.js";
import { badRequest, notFound } from "../../http/errors.js";
import { Envelope, Nullable, ok, positiveInt, requiredNumber, syncPage } from "../../http/schema.js";
import { membership } from "../rooms/queries.js";
import {
  addMessageRecord,
  deleteMessages,
  deleteReaction,
  editMessage,
  markDelivered,
  markReadDelivered,
  markRoomSeen,
  sendMessage,
  type DeleteTarget,
} from "./actions.js";
import { deviceSync, RECORD_SYNC_LIMIT, reactionsOf, recordsSince, roomHistory, SYNC_LIMIT, visibleCopy } from "./queries.js";
import { Message, MessageRecord, MessageWithReactions, messageViews, recordView, SendMessageBody, withReactions } from "./views.js";

const MessageResponse = { 200: Envelope(Type.Object({ message: Message })) };
const RecordsResponse = { 200: Envelope(Type.Object({ messageRecords: Type.Array(MessageRecord) })) };
const TargetQuery = Type.Object({ target: Type.Optional(Type.String()) });

function targetOf(value: string | undefined): DeleteTarget {
  const t = value?.toLowerCase();
  if (t !== "all" && t !== "user") throw badRequest("Invalid target query param");
  return t;
}

export default async function messageRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "device" as const };
  const tags = ["Message"];

  app.post(
    "/api/messenger/messages",
    {
      config,
      schema: {
        tags,
        summary: "Send a message (a repeated localId returns the first message)",
        body: SendMessageBody,
        response: MessageResponse,
      },
    },
    async (request) => ok({ message: await sendMessage(ctx, { userId: request.auth.user.id, deviceId: request.auth.device.id }, request.body) }),
  );

  app.put(
    "/api/messenger/messages/:id",
    {
      config,
      schema: {
        tags,
        summary: "Edit a text message",
        params: Type.Object({ id: Type.String() }),
        body: Type.Object({ text: Type.String({ minLength: 1 }), thumbnailData: Type.Optional(Type.Unknown()), hasLink: Type.Optional(Type.Boolean()) }),
        response: MessageResponse,
      },
    },
    async (request) => {
      const id = positiveInt(request.params.id);
      if (id === null) throw notFound("Not found");
      return ok({ message: await editMessage(ctx, request.auth, id, request.body) });
    },
  );

  app.delete(
    "/api/messenger/messages/:id",
    { config, schema: { tags, summary: "Delete a message for the caller or for everyone", params: Type.Object({ id: Type.String() }), querystring: TargetQuery, response: MessageResponse } },
    async (request) => {
      const target = targetOf(request.query.target);
      const id = positiveInt(request.params.id);
      if (id === null) throw notFound("Message not found");
      return ok({ message: (await deleteMessages(ctx, request.auth.user.id, [id], target))[0] });
    },
  );

  app.post(
    "/api/messenger/messages/delete-many",
    {
      config,
      schema: {
        tags,
        summary: "Delete several messages (all or nothing)",
        querystring: TargetQuery,
        body: Type.Object({ messageIds: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 500 }) }),
        response: { 200: Envelope(Type.Object({ messages: Type.Array(Message) })) },
      },
    },
    async (request) => ok({ messages: await deleteMessages(ctx, request.auth.user.id, request.body.messageIds, targetOf(request.query.target)) }),
  );

  app.get(
    "/api/messenger/messages/roomId/:roomId",
    {
      config,
      schema: {
        tags,
        summary: "Room history, newest first, 50 per page",
        params: Type.Object({ roomId: Type.String() }),
        querystring: Type.Object({ cursor: Type.Optional(Type.String()), targetMessageId: Type.Optional(Type.String()), page: Type.Optional(Type.String()) }),
        response: {
          200: Envelope(Type.Object({ list: Type.Array(MessageWithReactions), count: Type.Integer(), limit: Type.Integer(), nextCursor: Nullable(Type.Integer()) })),
        },
      },
    },
    async (request) => {
      const me = request.auth.user.id;
      const roomId = positiveInt(request.params.roomId);
      const member = roomId === null ? undefined : await membership(ctx.db, roomId, me);
      if (!member) throw notFound("No room found");
      const { rows, count, limit, hasMore } = await roomHistory(ctx.db, member, {
        cursor: positiveInt(request.query.cursor) ?? undefined,
        targetMessageId: positiveInt(request.query.targetMessageId) ?? undefined,
        page: positiveInt(request.query.page) ?? 1,
      });
      const [views, reactions] = await Promise.all([messageViews(ctx.db, rows), reactionsOf(ctx.db, rows.map((r) => r.id))]);
      await markReadDelivered(ctx, me, rows.map((r) => r.id));
      const list = withReactions(views, reactions.map(recordView));
      return ok({ list, count, limit, nextCursor: hasMore && rows.length ? rows[rows.length - 1].id : null });
    },
  );

  for (const modifiedOnly of [false, true]) {
    app.get(
      modifiedOnly ? "/api/messenger/messages/sync/modified/:lastUpdate" : "/api/messenger/messages/sync/:lastUpdate",
      {
        config,
        schema: {
          tags: ["Message", "Sync"],
          summary: modifiedOnly ? "This device's copies edited or deleted after a time (ms)" : "This device's copies new or changed after a time (ms)",
          params: Type.Object({ lastUpdate: Type.String() }),
          querystring: Type.Object({ page: Type.Optional(Type.String()) }),
          response: {
            200: Envelope(
              Type.Object({ list: Type.Array(Message), messages: Type.Array(Message), limit: Type.Integer(), count: Type.Integer(), hasNext: Type.Boolean() }),
            ),
          },
        },
      },
      async (request) => {
        const since = requiredNumber(request.params.lastUpdate, "lastUpdate");
        const page = syncPage(request.query.page);
        const { rows, count } = await deviceSync(ctx.db, request.auth.device, { since, page, modifiedOnly });
        const list = await messageViews(ctx.db, rows);
        return ok({ list, messages: list, limit: SYNC_LIMIT, count, hasNext: count > page * SYNC_LIMIT });
      },
    );
  }

  app.get(
    "/api/messenger/messages/:id/message-records",
    {
      config,
      schema: { tags: ["Message", "MessageRecord"], summary: "Records of a message", params: Type.Object({ id: Type.String() }), querystring: Type.Object({ type: Type.Optional(Type.String()) }), response: RecordsResponse },
    },
    async (request) => {
      const id = positiveInt(request.params.id);
      if (id === null || !(await visibleCopy(ctx.db, request.auth.user.id, id))) throw notFound("No message found");
      let q = ctx.db.selectFrom("messageRecords").selectAll().where("messageId", "=", id);
      if (request.query.type === "reaction") q = q.where("type", "=", "reaction").where("isDeleted", "=", 0);
      return ok({ messageRecords: (await q.orderBy("id").execute()).map(recordView) });
    },
  );

  app.post(
    "/api/messenger/messages/delivered",
    { config, schema: { tags, summary: "Mark messages delivered to the caller", body: Type.Object({ messageIds: Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 1000 }) }), response: RecordsResponse } },
    async (request) => {
      await markDelivered(ctx, request.auth.user.id, request.body.messageIds);
      return ok({ messageRecords: [] });
    },
  );

  app.post(
    "/api/messenger/messages/:roomId/seen",
    { config, schema: { tags, summary: "Mark every message of a room seen by the caller", params: Type.Object({ roomId: Type.String() }), response: RecordsResponse } },
    async (request) => {
      const roomId = positiveInt(request.params.roomId);
      if (roomId === null) throw badRequest("roomId must be number");
      await markRoomSeen(ctx, request.auth, roomId);
      return ok({ messageRecords: [] });
    },
  );

  app.post(
    "/api/messenger/message-records",
    {
      config,
      schema: {
        tags: ["MessageRecord"],
        summary: "React to a message (or mark it seen/delivered)",
        body: Type.Object({
          messageId: Type.Integer({ minimum: 1 }),
          type: Type.Optional(Type.Union([Type.Literal("reaction"), Type.Literal("seen"), Type.Literal("delivered")])),
          reaction: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        }),
        response: { 200: Envelope(Type.Object({ messageRecord: MessageRecord })) },
      },
    },
    async (request) => {
      const type = request.body.type ?? "reaction";
      if (type === "reaction" && request.body.reaction === undefined) throw badRequest("Invalid params: reaction is required");
      const record = await addMessageRecord(ctx, request.auth.user.id, { messageId: request.body.messageId, type, reaction: request.body.reaction });
      return ok({ messageRecord: recordView(record) });
    },
  );

  app.delete(
    "/api/messenger/message-records/:id",
    { config, schema: { tags: ["MessageRecord"], summary: "Remove the caller's reaction", params: Type.Object({ id: Type.String() }), response: { 200: Envelope(Type.Object({ messageRecord: MessageRecord })) } } },
    async (request) => {
      const id = positiveInt(request.params.id);
      if (id === null) throw notFound("Not found");
      return ok({ messageRecord: recordView(await deleteReaction(ctx, request.auth.user.id, id)) });
    },
  );

  const SyncedRecord = Type.Intersect([
    MessageRecord,
    Type.Object({
      message: Type.Object({ id: Type.Integer(), totalUserCount: Type.Integer(), deliveredCount: Type.Integer(), seenCount: Type.Integer(), roomId: Type.Integer() }),
    }),
  ]);
  app.get(
    "/api/messenger/message-records/sync/:lastUpdate",
    {
      config,
      schema: {
        tags: ["MessageRecord", "Sync"],
        summary: "Records changed after a time (ms)",
        params: Type.Object({ lastUpdate: Type.String() }),
        querystring: Type.Object({ page: Type.Optional(Type.String()) }),
        response: {
          200: Envelope(
            Type.Object({ list: Type.Array(SyncedRecord), messageRecords: Type.Array(SyncedRecord), limit: Type.Integer(), count: Type.Integer(), hasNext: Type.Boolean() }),
          ),
        },
      },
    },
    async (request) => {
      const since = requiredNumber(request.params.lastUpdate, "lastUpdate");
      const page = syncPage(request.query.page);
      const { rows, count } = await recordsSince(ctx.db, request.auth.device, { since, page });
      const list = rows.map((r) => ({
        ...recordView(r),
        message: { id: r.messageId, totalUserCount: r.totalUserCount, deliveredCount: r.deliveredCount, seenCount: r.seenCount, roomId: r.roomId },
      }));
      return ok({ list, messageRecords: list, limit: RECORD_SYNC_LIMIT, count, hasNext: count > page * RECORD_SYNC_LIMIT });
    },
  );
}
