// Messages (§4.14): send, edit, delete, room history and device sync.
import Type from "typebox";
import type { App } from "../../app.js";
import { badRequest, notFound } from "../../http/errors.js";
import { SYNC_LIMIT } from "../../db/count.js";
import { docAs, IdParams, IntText, MsText, op } from "../../http/openapi.js";
import { CursorPage, Envelope, ok, positiveInt, requiredNumber, SyncPage, syncPage } from "../../http/schema.js";
import { deleteMessages, editMessage, readRoomHistory, sendMessage, type DeleteTarget } from "./actions.js";
import { deviceSync, messageViews } from "./queries.js";
import { Message, MessageWithReactions, SendMessageBody } from "./views.js";

const MessageResponse = { 200: Envelope(Type.Object({ message: Message })) };
const TargetQuery = Type.Object({
  target: Type.Optional(docAs(Type.String(), { type: "string", enum: ["all", "user"], description: "all: for everyone (sender only); user: for the caller (case-insensitive)" })),
});

const MessageSyncPage = SyncPage("MessageSyncPage", Message, "messages");
const DELETE_DESCRIPTION =
  '`target=user`: the caller\'s copies become `{text: "Deleted message"}` with `deleted: true`. `target=all` (the sender only): every copy, and the message itself. Repeating is allowed. Devices of the affected copies get `DELETE_MESSAGE`.';

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
    async (request) => ok({ message: await sendMessage(ctx, request.auth, request.body) }),
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
      return ok({ message: (await deleteMessages(ctx, request.auth, [id], target))[0] });
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
    async (request) => ok({ messages: await deleteMessages(ctx, request.auth, request.body.messageIds, targetOf(request.query.target)) }),
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
    async (request) =>
      ok(
        await readRoomHistory(ctx, request.auth, positiveInt(request.params.roomId), {
          cursor: positiveInt(request.query.cursor) ?? undefined,
          targetMessageId: positiveInt(request.query.targetMessageId) ?? undefined,
          page: positiveInt(request.query.page) ?? 1,
        }),
      ),
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
}
