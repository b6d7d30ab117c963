// Room API keys (§4.17): admins of a room, or either member of a private room.
import Type from "typebox";
import type { App } from "../../app.js";
import { IdParams, op } from "../../http/openapi.js";
import { Envelope, ok, pathId } from "../../http/schema.js";
import { createApiKey, deleteApiKey, listApiKeys, updateApiKey } from "./actions.js";
import { NOT_ALLOWED } from "../webhooks/actions.js";
import { ApiKey, apiKeyView } from "./views.js";

const NameBody = Type.Object({ displayName: Type.String({ maxLength: 256 }) });
const RoomParams = IdParams("roomId");
const KeyParams = IdParams("id");
const WHO = "Admins of the room, or either member of a private room.";
const ApiKeyResponse = { 200: Envelope(Type.Object({ apiKey: ApiKey })) };

export default async function apiKeyRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "device" as const };
  const tags = ["ApiKey"];

  app.get(
    "/api/messenger/api-keys/roomId/:roomId",
    {
      config,
      schema: op({
        operationId: "listApiKeys",
        tags,
        summary: "API keys of a room",
        description: WHO,
        params: RoomParams,
        response: { 200: Envelope(Type.Object({ apiKeys: Type.Array(ApiKey) })) },
        errors: { 400: ["roomId must be number"], 403: [NOT_ALLOWED] },
      }),
    },
    async (request) => {
      return ok({ apiKeys: (await listApiKeys(ctx.db, pathId(request.params.roomId, "roomId"), request.auth.user.id)).map(apiKeyView) });
    },
  );

  app.post(
    "/api/messenger/api-keys/roomId/:roomId",
    {
      config,
      schema: op({
        operationId: "createApiKey",
        tags,
        summary: "Create an API key and its bot member",
        description: `${WHO} Creates a bot user named \`displayName\`, makes it a member of the room (members get \`UPDATE_ROOM\`) and returns the key; the bot API (POST /api/messaging/messages) takes \`token\` in the \`accesstoken\` header.`,
        params: RoomParams,
        body: NameBody,
        response: ApiKeyResponse,
        errors: { 400: ["roomId must be number", "Invalid params: displayName is required"], 403: [NOT_ALLOWED] },
      }),
    },
    async (request) => {
      const roomId = pathId(request.params.roomId, "roomId");
      return ok({ apiKey: apiKeyView(await createApiKey(ctx, request.auth, roomId, request.body.displayName)) });
    },
  );

  app.put(
    "/api/messenger/api-keys/:id",
    {
      config,
      schema: op({
        operationId: "updateApiKey",
        tags,
        summary: "Rename an API key's bot",
        description: `${WHO} Those who can see the bot get \`USER_UPDATE\`.`,
        params: KeyParams,
        body: NameBody,
        response: ApiKeyResponse,
        errors: { 400: ["id must be number", "Invalid params: displayName is required"], 403: [NOT_ALLOWED], 404: ["Not found"] },
      }),
    },
    async (request) => ok({ apiKey: apiKeyView(await updateApiKey(ctx, request.auth, pathId(request.params.id, "id"), request.body.displayName)) }),
  );

  app.delete(
    "/api/messenger/api-keys/:id",
    {
      config,
      schema: op({
        operationId: "deleteApiKey",
        tags,
        summary: "Delete an API key (its bot leaves the room)",
        description: `${WHO} The key stops working at once; the bot user is kept (its old messages keep their sender).`,
        params: KeyParams,
        response: { 200: Envelope(Type.Object({ deleted: Type.Boolean(), roomId: Type.Integer() })) },
        errors: { 400: ["id must be number"], 403: [NOT_ALLOWED], 404: ["Not found"] },
      }),
    },
    async (request) => {
      const { roomId } = await deleteApiKey(ctx, request.auth, pathId(request.params.id, "id"));
      return ok({ deleted: true, roomId });
    },
  );
}
