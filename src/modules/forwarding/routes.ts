// Forwarding existing messages and sharing external content into rooms (§4.14).
import Type from "typebox";
import type { App } from "../../app.js";
import { AnyObject, Envelope, ok } from "../../http/schema.js";
import { Message } from "../messages/views.js";
import { Room } from "../rooms/views.js";
import { forwardMessages, shareMessages } from "./actions.js";

/** Limits per request (every list has one): ids per list and shared messages. */
const MAX_IDS = 100;
const MAX_SHARED = 50;

const Ids = Type.Array(Type.Integer({ minimum: 1 }), { maxItems: MAX_IDS });
const Result = { 200: Envelope(Type.Object({ messages: Type.Array(Message), newRooms: Type.Array(Room) })) };

export default async function forwardingRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "device" as const };
  const tags = ["Message"];

  app.post(
    "/api/messenger/messages/forward",
    {
      config,
      schema: {
        tags,
        summary: "Forward messages to rooms and to users (private rooms are opened as needed)",
        body: Type.Object({
          messageIds: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: MAX_IDS }),
          roomIds: Type.Optional(Ids),
          userIds: Type.Optional(Ids),
        }),
        response: Result,
      },
    },
    async (request) => ok(await forwardMessages(ctx, request.auth, request.body)),
  );

  app.post(
    "/api/messenger/messages/share",
    {
      config,
      schema: {
        tags,
        summary: "Share external content (mobile) to rooms and to users",
        body: Type.Object({
          messages: Type.Array(Type.Object({ type: Type.String({ minLength: 1 }), body: AnyObject }), { minItems: 1, maxItems: MAX_SHARED }),
          roomIds: Type.Optional(Ids),
          userIds: Type.Optional(Ids),
        }),
        response: Result,
      },
    },
    async (request) => ok(await shareMessages(ctx, request.auth, request.body)),
  );
}
