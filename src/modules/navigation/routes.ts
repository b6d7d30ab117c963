// Jumping around a room's history (§4.14): oldest message date, batch around a message,
// message id by date, search. Query parameters are validated first (400), then membership (404,
// in the queries).
import Type from "typebox";
import type { App } from "../../app.js";
import { badRequest, notFound } from "../../http/errors.js";
import { IdParams, IntText, op } from "../../http/openapi.js";
import { Envelope, Nullable, ok, positiveInt } from "../../http/schema.js";
import { MessageWithReactions } from "../messages/views.js";
import { messagesWithReactions } from "../records/queries.js";
import { messageIdByDate, messageItems, oldestMessageAt, SEARCH_LIMIT, SEARCH_MAX_LIMIT, searchMessages, targetMessageBatch } from "./queries.js";
import { indexNewMessages } from "./searchIndex.js";
import { MessageItem } from "./views.js";

const RoomParams = IdParams("roomId");
const NO_ROOM = "No room found";
const SEARCH_MIN_CHARS = 3;

/** An optional positive-int query value: absent → undefined, anything but a positive int → 400. */
function optionalId(value: string | undefined, error: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = positiveInt(value);
  if (n === null) throw badRequest(error);
  return n;
}

export default async function navigationRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "device" as const };
  const tags = ["Message"];

  app.get(
    "/api/messenger/messages/roomId/:roomId/oldest-message-date",
    {
      config,
      schema: op({
        operationId: "getOldestMessageDate",
        tags,
        summary: "Creation time (ISO) of the oldest message of the room the caller can see",
        description: "Members only; null when the caller sees no message in the room. For date pickers (then target-message-id-by-date).",
        params: RoomParams,
        response: { 200: Envelope(Type.Object({ messageDate: Nullable(Type.String({ description: "ISO-8601" })) })) },
        errors: { 404: [NO_ROOM] },
      }),
    },
    async (request) => {
      const at = await oldestMessageAt(ctx.db, positiveInt(request.params.roomId), request.auth.user.id);
      return ok({ messageDate: at === null ? null : new Date(at).toISOString() });
    },
  );

  app.get(
    "/api/messenger/messages/roomId/:roomId/target-message-batch",
    {
      config,
      schema: op({
        operationId: "getTargetMessageBatch",
        tags,
        summary: "Messages around a target message, or a page older/newer than a cursor",
        description:
          "Members only; one of the three query values is required. `targetMessageId`: 25 older and 25 newer messages around it; `cursorUp`: the 50 older than it; `cursorDown`: the 50 newer. Follow with `nextCursorUp` / `nextCursorDown` while `hasMoreOlderMessages` / `hasMoreNewerMessages`.",
        params: RoomParams,
        querystring: Type.Object({
          targetMessageId: Type.Optional(IntText("the message to center on")),
          cursorUp: Type.Optional(IntText("page older than this message id")),
          cursorDown: Type.Optional(IntText("page newer than this message id")),
        }),
        errors: { 400: ["Invalid parameters"], 404: [NO_ROOM, "Target message not found"] },
        response: {
          200: Envelope(
            Type.Object({
              list: Type.Array(MessageWithReactions),
              nextCursorUp: Nullable(Type.Integer()),
              nextCursorDown: Nullable(Type.Integer()),
              hasMoreOlderMessages: Type.Boolean(),
              hasMoreNewerMessages: Type.Boolean(),
            }),
          ),
        },
      }),
    },
    async (request) => {
      const q = request.query;
      const target = optionalId(q.targetMessageId, "Invalid parameters");
      const cursorUp = optionalId(q.cursorUp, "Invalid parameters");
      const cursorDown = optionalId(q.cursorDown, "Invalid parameters");
      if (target === undefined && cursorUp === undefined && cursorDown === undefined) throw badRequest("Invalid parameters");
      const batch = await targetMessageBatch(ctx.db, positiveInt(request.params.roomId), request.auth.user.id, { target, cursorUp, cursorDown });
      if (!batch) throw notFound("Target message not found");
      return ok({
        list: await messagesWithReactions(ctx.db, batch.rows),
        nextCursorUp: batch.nextCursorUp,
        nextCursorDown: batch.nextCursorDown,
        hasMoreOlderMessages: batch.hasMoreOlderMessages,
        hasMoreNewerMessages: batch.hasMoreNewerMessages,
      });
    },
  );

  app.get(
    "/api/messenger/messages/roomId/:roomId/target-message-id-by-date",
    {
      config,
      schema: op({
        operationId: "getTargetMessageIdByDate",
        tags,
        summary: "The first message at or after a date (else the newest one)",
        description: "Members only; `date` is anything `Date` parses (ISO-8601 recommended). null when the caller sees no message in the room.",
        params: RoomParams,
        querystring: Type.Object({ date: Type.Optional(Type.String({ description: "ISO-8601 date or time" })) }),
        response: { 200: Envelope(Type.Object({ targetMessageId: Nullable(Type.Integer()) })) },
        errors: { 400: ["Invalid date"], 404: [NO_ROOM] },
      }),
    },
    async (request) => {
      const date = request.query.date?.trim();
      const at = date ? new Date(date).getTime() : NaN;
      if (!Number.isFinite(at)) throw badRequest("Invalid date");
      return ok({ targetMessageId: await messageIdByDate(ctx.db, positiveInt(request.params.roomId), request.auth.user.id, at) });
    },
  );

  app.get(
    "/api/messenger/messages/search",
    {
      config,
      schema: op({
        operationId: "searchMessages",
        tags,
        summary: "Search the caller's text messages of a room (case-insensitive substring), newest first",
        description: `Members only; \`keyword\` at least ${SEARCH_MIN_CHARS} characters after trimming. \`itemsPerBatch\` (default ${SEARCH_LIMIT}, at most ${SEARCH_MAX_LIMIT}); the next batch: \`cursor\` = the last item's \`id\`.`,
        querystring: Type.Object({
          roomId: Type.Optional(IntText("the room to search (required)")),
          keyword: Type.Optional(Type.String({ description: "required" })),
          itemsPerBatch: Type.Optional(IntText("batch size")),
          cursor: Type.Optional(IntText("results older than this message id")),
        }),
        errors: {
          400: ["roomId required", "roomId must be a positive integer", "Keyword required", `Keyword must be at least ${SEARCH_MIN_CHARS} characters`],
          404: [NO_ROOM],
        },
        response: {
          200: Envelope(Type.Object({ list: Type.Array(Type.Intersect([Type.Object({ id: Type.Integer() }), MessageItem])), count: Type.Integer() })),
        },
      }),
    },
    async (request) => {
      const q = request.query;
      if (q.roomId === undefined || q.roomId === "") throw badRequest("roomId required");
      if (positiveInt(q.roomId) === null) throw badRequest("roomId must be a positive integer");
      const keyword = q.keyword?.trim() ?? "";
      if (keyword === "") throw badRequest("Keyword required");
      if ([...keyword].length < SEARCH_MIN_CHARS) throw badRequest(`Keyword must be at least ${SEARCH_MIN_CHARS} characters`);
      const limit = Math.min(positiveInt(q.itemsPerBatch) ?? SEARCH_LIMIT, SEARCH_MAX_LIMIT);
      const cursor = positiveInt(q.cursor) ?? undefined;
      // What the job worker has not indexed yet (at most one poll's worth of messages).
      await indexNewMessages(ctx);
      const { rows, count } = await searchMessages(ctx.db, ctx.dialect, positiveInt(q.roomId), request.auth.user.id, { keyword, limit, cursor });
      const items = await messageItems(ctx.db, rows);
      return ok({ list: items.map((item) => ({ id: item.messageId, ...item })), count });
    },
  );
}
