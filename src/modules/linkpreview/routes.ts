// GET /messages/get-thumbnail (§4.14): the link preview clients show under a typed link.
import Type from "typebox";
import type { App } from "../../app.js";
import { Envelope, ok } from "../../http/schema.js";
import { LinkPreviews } from "./actions.js";
import { LinkPreview } from "./views.js";

export default async function linkPreviewRoutes(app: App): Promise<void> {
  const previews = new LinkPreviews(app.ctx);
  app.get(
    "/api/messenger/messages/get-thumbnail",
    {
      config: { auth: "device" as const },
      schema: {
        tags: ["Message"],
        summary: "Open Graph preview of a web page (title, description, image, icon, url); 404 when it has none",
        querystring: Type.Object({ url: Type.String({ minLength: 1, maxLength: 2048 }) }),
        response: { 200: Envelope(LinkPreview) },
      },
    },
    async (request) => ok(await previews.preview(request.auth, request.query.url)),
  );
}
