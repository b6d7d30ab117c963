// The bot API (§8.2): room API keys post messages with the normal fan-out.
import Type from "typebox";
import type { App } from "../../app.js";
import { botMe } from "../../http/auth.js";
import { op } from "../../http/openapi.js";
import { Envelope, ok } from "../../http/schema.js";
import { sendMessage } from "../messages/actions.js";
import { Message, SendMessageBody } from "../messages/views.js";
import { User, userView } from "../users/views.js";

export default async function botRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "apiKey" as const };

  app.post(
    "/api/messaging/messages",
    {
      config,
      schema: op({
        operationId: "sendBotMessage",
        tags: ["Bot"],
        summary: "Send a message as the room's bot (header accesstoken: the API key)",
        description:
          "The room API key (POST /api/messenger/api-keys/roomId/{roomId}) goes in the `accesstoken` header. The body and its checks are those of POST /api/messenger/messages; `roomId` must be the key's room. Every member's devices get `NEW_MESSAGE`.",
        body: SendMessageBody,
        response: { 200: Envelope(Type.Object({ message: Message })) },
        errors: {
          400: ["Chat user not found", "Text is missing", "fileId is missing", "Invalid fileId", "Invalid thumbId", "Invalid type", "there is no message with replyId"],
          403: ["Chat is deleted"],
        },
      }),
    },
    async (request) => ok({ message: await sendMessage(ctx, botMe(request), request.body) }),
  );

  app.get(
    "/api/messaging/test/auth",
    {
      config,
      schema: op({
        operationId: "getBot",
        tags: ["Bot"],
        summary: "The bot behind the API key",
        description: "Checks an API key: the bot user and its room.",
        response: { 200: Envelope(Type.Object({ user: User, roomId: Type.Integer() })) },
      }),
    },
    async (request) => ok({ user: userView(request.bot.user), roomId: request.bot.roomId }),
  );
}
