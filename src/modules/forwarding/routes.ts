// Forwarding existing messages and sharing external content into rooms (§4.14).
import Type from "typebox";
import type { App } from "../../app.js";
import { model, op } from "../../http/openapi.js";
import { Envelope, ok } from "../../http/schema.js";
import { Message, MessageBody } from "../messages/views.js";
import { Room } from "../rooms/views.js";
import { forwardMessages, shareMessages } from "./actions.js";

/** Limits per request (every list has one): ids per list and shared messages. */
const MAX_IDS = 100;
const MAX_SHARED = 50;

const Ids = Type.Array(Type.Integer({ minimum: 1 }), { maxItems: MAX_IDS });
const Result = { 200: Envelope(model("ForwardResult", Type.Object({ messages: Type.Array(Message), newRooms: Type.Array(Room) }))) };
const TARGET_ERRORS = [
  "Room with id <id> does not exist",
  "User is not in one or more rooms sent in roomIds",
  "Room with id <id> is deleted",
  "Too many messages: at most <n> (messages × rooms) per request",
];

export default async function forwardingRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "device" as const };
  const tags = ["Message"];

  app.post(
    "/api/messenger/messages/forward",
    {
      config,
      schema: op({
        operationId: "forwardMessages",
        tags,
        summary: "Forward messages to rooms and to users (private rooms are opened as needed)",
        description: `Copies messages the caller can see into rooms the caller is in (\`roomIds\`) and into the private rooms with \`userIds\` (created when missing; those users get \`NEW_ROOM\`, listed in \`newRooms\`). The new messages have \`isForwarded: true\` and are delivered like sent ones. Up to ${MAX_IDS} ids per list; rooms where a block applies are skipped.`,
        errors: {
          400: [...TARGET_ERRORS, "Deleted messages can't be forwarded", "System messages can't be forwarded"],
          403: ["User is not in room", "No device message found"],
          404: ["Message not found"],
        },
        body: Type.Object({
          messageIds: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: MAX_IDS }),
          roomIds: Type.Optional(Ids),
          userIds: Type.Optional(Ids),
        }),
        response: Result,
      }),
    },
    async (request) => ok(await forwardMessages(ctx, request.auth, request.body)),
  );

  app.post(
    "/api/messenger/messages/share",
    {
      config,
      schema: op({
        operationId: "shareMessages",
        tags,
        summary: "Share external content (mobile) to rooms and to users",
        description: `Sends new messages (\`type\` and \`body\` as for POST /api/messenger/messages, at most ${MAX_SHARED}) with \`isForwarded: true\` to \`roomIds\` and to the private rooms with \`userIds\` (created when missing, listed in \`newRooms\`).`,
        errors: { 400: [...TARGET_ERRORS, "Text is missing", "fileId is missing", "Invalid fileId", "Invalid thumbId", "Invalid type"] },
        body: Type.Object({
          messages: Type.Array(Type.Object({ type: Type.String({ minLength: 1 }), body: MessageBody }), { minItems: 1, maxItems: MAX_SHARED }),
          roomIds: Type.Optional(Ids),
          userIds: Type.Optional(Ids),
        }),
        response: Result,
      }),
    },
    async (request) => ok(await shareMessages(ctx, request.auth, request.body)),
  );
}
