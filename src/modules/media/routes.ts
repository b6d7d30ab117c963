// Media of a room (§4.13, §13a.3): GET /gallery (images and videos, around a cursor) and
// GET /media (by type; without `type` it answers exactly like /gallery). Members only (404, in the queries).
import Type from "typebox";
import type { App } from "../../app.js";
import { badRequest } from "../../http/errors.js";
import { docAs, IntText, model, op } from "../../http/openapi.js";
import { Envelope, ok, positiveInt } from "../../http/schema.js";
import { messageItems } from "../navigation/queries.js";
import { MessageItem } from "../navigation/views.js";
import { GALLERY_LIMIT, galleryPage, MEDIA_KINDS, MEDIA_LIMIT, MEDIA_MAX_LIMIT, mediaPage, type MediaKind } from "./queries.js";

const Query = Type.Object({
  roomId: Type.Optional(IntText("the room (required)")),
  type: Type.Optional(docAs(Type.String(), { type: "string", enum: Object.keys(MEDIA_KINDS), description: "/media only; without it /media answers like /gallery" })),
  cursor: Type.Optional(IntText("message id to page from")),
  itemsPerBatch: Type.Optional(IntText("batch size")),
  take: Type.Optional(IntText("alias of itemsPerBatch")),
  fetchNewer: Type.Optional(Type.String({ description: "true: items newer than cursor" })),
  fetchOlder: Type.Optional(Type.String({ description: "true: items older than cursor" })),
});
const GALLERY_ERRORS = { 400: ["Invalid room id"], 404: ["No room found"] };
type QueryValues = Type.Static<typeof Query>;

const GalleryData = model("GalleryPage", Type.Object({ list: Type.Array(MessageItem), hasMoreOlderImages: Type.Boolean(), hasMoreNewerImages: Type.Boolean() }));
const MediaData = model("MediaPage", Type.Object({ list: Type.Array(MessageItem), count: Type.Integer() }));

/** `itemsPerBatch` (alias `take`): a positive int, capped; anything else means the default. */
const batchSize = (q: QueryValues, fallback: number) => Math.min(positiveInt(q.itemsPerBatch ?? q.take) ?? fallback, MEDIA_MAX_LIMIT);

export default async function mediaRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "device" as const };
  const tags = ["Media"];

  const roomIdOf = (q: QueryValues) => {
    const roomId = positiveInt(q.roomId);
    if (roomId === null) throw badRequest("Invalid room id");
    return roomId;
  };

  async function gallery(q: QueryValues, viewerId: number) {
    const page = await galleryPage(ctx.db, roomIdOf(q), viewerId, {
      cursor: positiveInt(q.cursor) ?? undefined,
      limit: batchSize(q, GALLERY_LIMIT),
      fetchNewer: q.fetchNewer === "true",
      fetchOlder: q.fetchOlder === "true",
    });
    return ok({ list: await messageItems(ctx.db, page.rows), hasMoreOlderImages: page.hasMoreOlderImages, hasMoreNewerImages: page.hasMoreNewerImages });
  }

  app.get(
    "/api/messenger/gallery",
    {
      config,
      schema: op({
        operationId: "getGallery",
        tags,
        summary: "Images and videos of a room around a cursor, oldest first",
        description: `Members only; messages the caller can see. Batches of ${GALLERY_LIMIT} (\`itemsPerBatch\`, at most ${MEDIA_MAX_LIMIT}): without flags the batch from \`cursor\` (inclusive) going older, or the newest one; \`fetchOlder=true\`: older than \`cursor\`; \`fetchNewer=true\`: newer than \`cursor\`. \`hasMore*\` tell whether more lie beyond either side.`,
        querystring: Query,
        response: { 200: Envelope(GalleryData) },
        errors: GALLERY_ERRORS,
      }),
    },
    async (request) => gallery(request.query, request.auth.user.id),
  );

  app.get(
    "/api/messenger/media",
    {
      config,
      schema: op({
        operationId: "getMedia",
        tags,
        summary: "Media (image+video), files or links of a room, newest first; without type: as /gallery",
        description: `Members only. With \`type\` (${Object.keys(MEDIA_KINDS).join(", ")}): ${MEDIA_LIMIT} per batch by default (at most ${MEDIA_MAX_LIMIT}), older than \`cursor\` — a MediaPage. Without \`type\`: a GalleryPage, as GET /api/messenger/gallery.`,
        querystring: Query,
        response: { 200: Envelope(Type.Union([MediaData, GalleryData])) },
        errors: { 400: ["Invalid room id", "Invalid type"], 404: ["No room found"] },
      }),
    },
    async (request) => {
      const q = request.query;
      if (q.type === undefined) return gallery(q, request.auth.user.id);
      const roomId = roomIdOf(q);
      if (!Object.hasOwn(MEDIA_KINDS, q.type)) throw badRequest("Invalid type");
      const { rows, count } = await mediaPage(ctx.db, roomId, request.auth.user.id, {
        kind: q.type as MediaKind,
        cursor: positiveInt(q.cursor) ?? undefined,
        limit: batchSize(q, MEDIA_LIMIT),
      });
      return ok({ list: await messageItems(ctx.db, rows), count });
    },
  );
}
