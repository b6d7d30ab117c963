// Contacts (§3.4, §3.5).
import Type from "typebox";
import type { App } from "../../app.js";
import { badRequest } from "../../http/errors.js";
import { IntText, op } from "../../http/openapi.js";
import { CursorPage, Envelope, ListPage, ok, pageOf, positiveInt } from "../../http/schema.js";
import { User, userView } from "../users/views.js";
import { syncContacts } from "./actions.js";
import { directory } from "./queries.js";

const CONTACT_SYNC_LIMIT = 500;
const CONTACT_PAGING_LIMIT = 20;

/** `contacts` as an array of hashes or one comma-separated string, 1..500 after splitting. */
function hashesOf(contacts: string | string[]): string[] {
  const list = (typeof contacts === "string" ? contacts.split(",") : contacts).map((h) => h.trim()).filter(Boolean);
  if (list.length === 0) throw badRequest("Invalid params: contacts must hold at least one hash");
  if (list.length > CONTACT_SYNC_LIMIT) throw badRequest(`Invalid params: contacts must hold at most ${CONTACT_SYNC_LIMIT} hashes`);
  return list;
}

export default async function contactRoutes(app: App): Promise<void> {
  const { ctx } = app;

  app.post(
    "/api/messenger/contacts",
    {
      config: { auth: "device" },
      schema: op({
        operationId: "uploadContacts",
        tags: ["Contact"],
        summary: "Upload phone-book hashes; matching verified users become contacts",
        description: `\`contacts\`: lowercase hex SHA-256 of phone numbers as stored at sign-up (e.g. \`+385911234567\`), an array or one comma-separated string, at most ${CONTACT_SYNC_LIMIT} per request. Each verified user matched becomes a contact of the caller, and the caller of them (in contact mode this is what lets two users see each other and open a private room). \`isLastPage: true\` ends an upload split over several requests.`,
        errors: { 400: ["Invalid params: contacts must hold at least one hash", `Invalid params: contacts must hold at most ${CONTACT_SYNC_LIMIT} hashes`] },
        body: Type.Object({
          contacts: Type.Union([Type.Array(Type.String(), { minItems: 1, maxItems: CONTACT_SYNC_LIMIT }), Type.String({ minLength: 1 })]),
          isLastPage: Type.Optional(Type.Boolean()),
        }),
        response: { 200: Envelope(ListPage("UserList", User)) },
      }),
    },
    async (request) => {
      const found = await syncContacts(ctx, request.auth, hashesOf(request.body.contacts), request.body.isLastPage ?? false);
      // The matches are the caller's contacts now: known (whoKnowsWhom).
      return ok({ list: found.map((u) => userView(u)), count: found.length, limit: CONTACT_SYNC_LIMIT });
    },
  );

  app.get(
    "/api/messenger/contacts",
    {
      config: { auth: "device" },
      schema: op({
        operationId: "listContacts",
        tags: ["Contact"],
        summary: "Contacts (team mode: every verified user), by display name",
        description: `${CONTACT_PAGING_LIMIT} per page, by \`cursor\` (the \`nextCursor\` of the previous page) or \`page\`; \`keyword\` filters by display name. In team mode each user carries \`blockedBy: [{userId}]\` when the caller blocked them.`,
        querystring: Type.Object({
          keyword: Type.Optional(Type.String()),
          cursor: Type.Optional(IntText("nextCursor of the previous page")),
          page: Type.Optional(IntText("1-based page")),
        }),
        response: { 200: Envelope(CursorPage("UserCursorPage", User)) },
      }),
    },
    async (request) => {
      const { keyword, cursor, page } = request.query;
      const viewerId = request.auth.user.id;
      const result = await directory(ctx.db, {
        teamMode: ctx.config.teamMode,
        dialect: ctx.dialect,
        viewerId,
        keyword: keyword?.trim() || undefined,
        cursor: positiveInt(cursor) ?? undefined,
        page: pageOf(page),
        limit: CONTACT_PAGING_LIMIT,
      });
      const list = result.list.map((u) => ({
        ...userView(u),
        ...(ctx.config.teamMode ? { blockedBy: u.blockedByMe ? [{ userId: viewerId }] : [] } : {}),
      }));
      const last = list.at(-1);
      return ok({ list, count: result.count, limit: CONTACT_PAGING_LIMIT, nextCursor: list.length === CONTACT_PAGING_LIMIT && last ? last.id : null });
    },
  );
}
