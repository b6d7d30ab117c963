// Messages and message records (§4.14, §4.15).
import Type from "typebox";
import type { App } from "../../app.js";
import { badRequest, notFound } from "../../http/errors.js";
import { docAs, IdParams, IntText, model, MsText, op } from "../../http/openapi.js";
import { CursorPage, Envelope, ok, positiveInt, requiredNumber, SyncPage, syncPage } from "../../http/schema.js";
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
const TargetQuery = Type.Object({
  target: Type.Optional(docAs(Type.String(), { type: "string", enum: ["all", "user"], description: "all: for everyone (sender only); user: for the caller (case-insensitive)" })),
});

const MessageSyncPage = SyncPage("MessageSyncPage", Message, "messages");
const DELETE_DESCRIPTION =
  "`target=user`: the caller's copies become `{text: \"Deleted message\"}` with `deleted: true`. `target=all` (the sender only): every copy, and the message itself. Repeating is allowed. Devices of the affected copies get `DELETE_MESSAGE`.";

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
      schema: op({
        operationId: "sendMessage",
        tags,
        summary: "Send a message (a repeated localId returns the first message)",
        description:
          "Members of a room that is not deleted. `body` by `type`: `text` needs `body.text`; `image`, `video`, `audio`, `file` need `body.fileId` (a File the sender uploaded) and may have `thumbId`. `replyId` embeds the replied-to message (same room) as `body.referenceMessage`. A retry with the same `localId` returns the first message and changes nothing. Every device of the other members that existed at send time gets `NEW_MESSAGE` (or a push when none of its streams is open); the sender's other devices too. Private rooms: a block stops delivery to the blocker and the blocker cannot send.",
        body: SendMessageBody,
        response: MessageResponse,
        errors: {
          400: ["Chat user not found", "Text is missing", "fileId is missing", "Invalid fileId", "Invalid thumbId", "Invalid type", "there is no message with replyId"],
          403: ["Chat is deleted", "Chat is blocked"],
        },
      }),
    },
    async (request) => ok({ message: await sendMessage(ctx, { userId: request.auth.user.id, deviceId: request.auth.device.id }, request.body) }),
  );

  app.put(
    "/api/messenger/messages/:id",
    {
      config,
      schema: op({
        operationId: "editMessage",
        tags,
        summary: "Edit a text message",
        description:
          "The sender only, while a member; text messages that are neither forwarded nor deleted. Sets `body.text` and `body.thumbnailData` (null when not sent). Devices holding a copy get `UPDATE_MESSAGE`.",
        params: IdParams("id"),
        errors: {
          400: ["Only messages with type text can be edited", "Forwarded messages can't be edited", "Deleted messages can't be edited"],
          403: ["Forbidden", "User is not in room", "Room is blocked"],
          404: ["Not found"],
        },
        body: Type.Object({ text: Type.String({ minLength: 1 }), thumbnailData: Type.Optional(Type.Unknown()), hasLink: Type.Optional(Type.Boolean()) }),
        response: MessageResponse,
      }),
    },
    async (request) => {
      const id = positiveInt(request.params.id);
      if (id === null) throw notFound("Not found");
      return ok({ message: await editMessage(ctx, request.auth, id, request.body) });
    },
  );

  app.delete(
    "/api/messenger/messages/:id",
    {
      config,
      schema: op({
        operationId: "deleteMessage",
        tags,
        summary: "Delete a message for the caller or for everyone",
        description: DELETE_DESCRIPTION,
        params: IdParams("id"),
        querystring: TargetQuery,
        response: MessageResponse,
        errors: { 400: ["Invalid target query param"], 403: ["User is not in room", "Only the sender can delete a message for everyone"], 404: ["Message not found"] },
      }),
    },
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
      schema: op({
        operationId: "deleteMessages",
        tags,
        summary: "Delete several messages (all or nothing)",
        description: `${DELETE_DESCRIPTION} Up to 500 ids; if one fails, none is deleted.`,
        querystring: TargetQuery,
        body: Type.Object({ messageIds: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 500 }) }),
        response: { 200: Envelope(Type.Object({ messages: Type.Array(Message) })) },
        errors: { 400: ["Invalid target query param"], 403: ["User is not in room", "Only the sender can delete a message for everyone"], 404: ["Message not found"] },
      }),
    },
    async (request) => ok({ messages: await deleteMessages(ctx, request.auth.user.id, request.body.messageIds, targetOf(request.query.target)) }),
  );

  app.get(
    "/api/messenger/messages/roomId/:roomId",
    {
      config,
      schema: op({
        operationId: "listRoomMessages",
        tags,
        summary: "Room history, newest first, 50 per page",
        description:
          "Members only; messages sent after the caller joined, each with its reactions. Older pages: `cursor` = `nextCursor` (null: no more), or `page`. Reading marks the listed messages delivered to the caller (room members get `NEW_MESSAGE_RECORD`).",
        params: IdParams("roomId"),
        querystring: Type.Object({
          cursor: Type.Optional(IntText("nextCursor of the previous page")),
          targetMessageId: Type.Optional(IntText("the page that holds this message")),
          page: Type.Optional(IntText("1-based page")),
        }),
        response: { 200: Envelope(CursorPage("MessageCursorPage", MessageWithReactions)) },
        errors: { 404: ["No room found"] },
      }),
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
        schema: op({
          operationId: modifiedOnly ? "syncModifiedMessages" : "syncMessages",
          tags: ["Message", "Sync"],
          summary: modifiedOnly ? "This device's copies edited or deleted after a time (ms)" : "This device's copies new or changed after a time (ms)",
          description: `What this device missed since \`lastUpdate\` (call after (re)connecting the event stream), ${SYNC_LIMIT} per page by modification time; ask the next page while \`hasNext\`.`,
          params: Type.Object({ lastUpdate: MsText() }),
          querystring: Type.Object({ page: Type.Optional(IntText("1-based page")) }),
          response: { 200: Envelope(MessageSyncPage) },
          errors: { 400: ["lastUpdate must be number", "page must be number"] },
        }),
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
      schema: op({
        operationId: "listMessageRecords",
        tags: ["Message", "MessageRecord"],
        summary: "Records of a message",
        description: "Seen, delivered and reaction records of a message the caller can see; `type=reaction` lists only current reactions.",
        params: IdParams("id"),
        querystring: Type.Object({ type: Type.Optional(Type.String({ description: "reaction: only reactions that are not deleted" })) }),
        response: RecordsResponse,
        errors: { 404: ["No message found"] },
      }),
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
    {
      config,
      schema: op({
        operationId: "markMessagesDelivered",
        tags,
        summary: "Mark messages delivered to the caller",
        description:
          "Writes the caller's `delivered` records (once per message) for up to 1000 messages of rooms the caller is in; room members get `NEW_MESSAGE_RECORD`. `messageRecords` in the answer is always empty.",
        body: Type.Object({ messageIds: Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 1000 }) }),
        response: RecordsResponse,
        errors: { 400: ["No messages with given ids found", "Messages with ids: <ids> not found", "One or more message is from room that user is not part of"] },
      }),
    },
    async (request) => {
      await markDelivered(ctx, request.auth.user.id, request.body.messageIds);
      return ok({ messageRecords: [] });
    },
  );

  app.post(
    "/api/messenger/messages/:roomId/seen",
    {
      config,
      schema: op({
        operationId: "markRoomSeen",
        tags,
        summary: "Mark every message of a room seen by the caller",
        description:
          "Writes the caller's `seen` (and `delivered`) records for the room's messages and resets the caller's unread count; senders get `NEW_MESSAGE_RECORD`, the caller's other devices `SEEN_ROOM`. `messageRecords` in the answer is always empty.",
        params: IdParams("roomId"),
        response: RecordsResponse,
        errors: { 400: ["roomId must be number", "user is not in this room"] },
      }),
    },
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
      schema: op({
        operationId: "createMessageRecord",
        tags: ["MessageRecord"],
        summary: "React to a message (or mark it seen/delivered)",
        description:
          "`type` defaults to `reaction` (then `reaction` is required; a new reaction replaces the caller's previous one). On a message the caller can see; room members get `NEW_MESSAGE_RECORD`.",
        errors: { 400: ["Invalid params: reaction is required"], 403: ["Room is blocked"], 404: ["Message not found"] },
        body: Type.Object({
          messageId: Type.Integer({ minimum: 1 }),
          type: Type.Optional(Type.Union([Type.Literal("reaction"), Type.Literal("seen"), Type.Literal("delivered")])),
          reaction: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        }),
        response: { 200: Envelope(Type.Object({ messageRecord: MessageRecord })) },
      }),
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
    {
      config,
      schema: op({
        operationId: "deleteMessageRecord",
        tags: ["MessageRecord"],
        summary: "Remove the caller's reaction",
        description: "Soft delete of one of the caller's own reactions (`isDeleted: true`, reaction `Deleted reaction`); room members get `DELETE_MESSAGE_RECORD`.",
        params: IdParams("id"),
        response: { 200: Envelope(Type.Object({ messageRecord: MessageRecord })) },
        errors: { 404: ["Not found", "Only reactions can be deleted"] },
      }),
    },
    async (request) => {
      const id = positiveInt(request.params.id);
      if (id === null) throw notFound("Not found");
      return ok({ messageRecord: recordView(await deleteReaction(ctx, request.auth.user.id, id)) });
    },
  );

  const SyncedRecord = model("SyncedMessageRecord", Type.Intersect([
    MessageRecord,
    Type.Object({
      message: Type.Object({ id: Type.Integer(), totalUserCount: Type.Integer(), deliveredCount: Type.Integer(), seenCount: Type.Integer(), roomId: Type.Integer() }),
    }),
  ]));
  app.get(
    "/api/messenger/message-records/sync/:lastUpdate",
    {
      config,
      schema: op({
        operationId: "syncMessageRecords",
        tags: ["MessageRecord", "Sync"],
        summary: "Records changed after a time (ms)",
        description: `Records of messages this device holds, changed after \`lastUpdate\`, ${RECORD_SYNC_LIMIT} per page, each with the message's current counters; ask the next page while \`hasNext\`.`,
        params: Type.Object({ lastUpdate: MsText() }),
        querystring: Type.Object({ page: Type.Optional(IntText("1-based page")) }),
        response: { 200: Envelope(SyncPage("MessageRecordSyncPage", SyncedRecord, "messageRecords")) },
        errors: { 400: ["lastUpdate must be number", "page must be number"] },
      }),
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
