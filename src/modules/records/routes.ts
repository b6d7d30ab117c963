// Message records (§4.14, §4.15): a message's records, delivered and seen marks, reactions and
// the record sync.
import Type from "typebox";
import type { App } from "../../app.js";
import { badRequest, notFound } from "../../http/errors.js";
import { IdParams, IntText, model, MsText, op } from "../../http/openapi.js";
import { Envelope, ok, positiveInt, requiredNumber, SyncPage, syncPage } from "../../http/schema.js";
import { addMessageRecord, deleteReaction, markDelivered, markRoomSeen } from "./actions.js";
import { RECORD_SYNC_LIMIT, recordsOfMessage, recordsSince } from "./queries.js";
import { MessageRecord, recordView } from "./views.js";

const RecordsResponse = { 200: Envelope(Type.Object({ messageRecords: Type.Array(MessageRecord) })) };

export default async function recordRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "device" as const };
  const tags = ["Message"];

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
      const rows = await recordsOfMessage(ctx.db, request.auth.user.id, positiveInt(request.params.id), { reactions: request.query.type === "reaction" });
      return ok({ messageRecords: rows.map(recordView) });
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
      await markDelivered(ctx, request.auth, request.body.messageIds);
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
      const record = await addMessageRecord(ctx, request.auth, { messageId: request.body.messageId, type, reaction: request.body.reaction });
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
      return ok({ messageRecord: recordView(await deleteReaction(ctx, request.auth, id)) });
    },
  );

  const SyncedRecord = model(
    "SyncedMessageRecord",
    Type.Intersect([
      MessageRecord,
      Type.Object({
        message: Type.Object({ id: Type.Integer(), totalUserCount: Type.Integer(), deliveredCount: Type.Integer(), seenCount: Type.Integer(), roomId: Type.Integer() }),
      }),
    ]),
  );
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
