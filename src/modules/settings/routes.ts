// GET /api/messenger/settings (§3.14).
import Type from "typebox";
import type { App } from "../../app.js";
import { op } from "../../http/openapi.js";
import { Envelope, ok } from "../../http/schema.js";

export default async function settingsRoutes(app: App): Promise<void> {
  app.get(
    "/api/messenger/settings",
    {
      schema: op({
        operationId: "getSettings",
        tags: ["Settings"],
        summary: "Server settings",
        description:
          "No token needed. `teamMode: true` (TEAM_MODE=1): every verified user is everyone's contact. `false` (contact mode): users see each other, and may open a private room, only after one uploaded the other's phone-number hash (POST /api/messenger/contacts).",
        response: { 200: Envelope(Type.Object({ teamMode: Type.Boolean() })) },
      }),
    },
    async () => ok({ teamMode: app.ctx.config.teamMode }),
  );
}
