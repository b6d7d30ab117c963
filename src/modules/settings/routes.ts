// GET /api/messenger/settings (§3.14).
import Type from "typebox";
import type { App } from "../../app.js";
import { Envelope, ok } from "../../http/schema.js";

export default async function settingsRoutes(app: App): Promise<void> {
  app.get(
    "/api/messenger/settings",
    { schema: { tags: ["Settings"], summary: "Server settings", response: { 200: Envelope(Type.Object({ teamMode: Type.Boolean() })) } } },
    async () => ok({ teamMode: app.ctx.config.teamMode }),
  );
}
