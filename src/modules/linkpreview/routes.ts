// GET /messages/get-thumbnail (§4.14): the link preview clients show under a typed link.
import Type from "typebox";
import type { App } from "../../app.js";
import { Envelope, ok } from "../../http/schema.js";
import { op } from "../../http/openapi.js";
import { LinkPreviews } from "./actions.js";
import { LinkPreview } from "./views.js";

export default async function linkPreviewRoutes(app: App): Promise<void> {
  const previews = new LinkPreviews(app.ctx);
  app.get(
    "/api/messenger/messages/get-thumbnail",
    {
      config: { auth: "device" as const },
      schema: op({
        operationId: "getLinkPreview",
        tags: ["Message"],
        summary: "Open Graph preview of a web page (title, description, image, icon, url); 404 when it has none",
        description: [
          "Any signed-in device; changes nothing. `url` must be an http(s) URL (one without a scheme gets `http://`; other schemes and URLs with a user name or password are 400).",
          "The page is fetched through the SSRF guard (non-public addresses refused unless `LINK_PREVIEW_ALLOW_PRIVATE=1`), with at most 3 redirects, 5 s and 512 KB; only the `<head>` of a 2xx `text/html` answer is read.",
          "`title` is `og:title`, `twitter:title` or `<title>` (cut at 300 characters); `description` (cut at 1,000), `image` and `icon` are `null` when absent; `url` is `og:url` or the final URL.",
          "A page without a title, a refused target or a failed fetch is 404 `No thumbnail found`. Answers are cached per URL (10 minutes, 404s 1 minute); each device token may ask 60 previews a minute, then 429.",
        ].join(" "),
        errors: {
          400: [
            "url must be an http(s) URL",
            "Invalid params: url is required",
            "Invalid params: url must NOT have fewer than 1 characters",
            "Invalid params: url must NOT have more than 2048 characters",
            "Invalid params: url must not contain NUL characters",
          ],
          404: ["No thumbnail found"],
          429: ["Too many requests"],
        },
        querystring: Type.Object({ url: Type.String({ minLength: 1, maxLength: 2048, description: "the link: http(s), or without a scheme (http:// is assumed)" }) }),
        response: { 200: Envelope(LinkPreview) },
      }),
    },
    async (request) => ok(await previews.preview(request.auth, request.query.url)),
  );
}
