// The bot API (§8.2): room API keys post messages with the normal fan-out.
import Type from "typebox";
import type { App } from "../../app.js";
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
      schema: {
        tags: ["Bot"],
        summary: "Send a message as the room's bot (header accesstoken: the API key)",
        body: SendMessageBody,
        response: { 200: Envelope(Type.Object({ message: Message })) },
      },
    },
    async (request) => ok({ message: await sendMessage(ctx, { userId: request.bot.user.id, deviceId: null }, request.body) }),
  );

  app.get(
    "/api/messaging/test/auth",
    { config, schema: { tags: ["Bot"], summary: "The bot behind the API key", response: { 200: Envelope(Type.Object({ user: User, roomId: Type.Integer() })) } } },
    async (request) => ok({ user: userView(request.bot.user), roomId: request.bot.roomId }),
  );
}
