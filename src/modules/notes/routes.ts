// Room notes (§4.16): members of the note's room only; body validation comes first.
import Type from "typebox";
import type { App } from "../../app.js";
import { IdParams, op } from "../../http/openapi.js";
import { Deleted, Envelope, ok, pathId } from "../../http/schema.js";
import { createNote, notParticipant, deleteNote, readableNote, readableNotes, updateNote } from "./actions.js";
import { Note, noteView } from "./views.js";

const NOTE_TITLE_MAX = 135;

const NoteBody = Type.Object({
  title: Type.String({ minLength: 1, maxLength: NOTE_TITLE_MAX }),
  content: Type.String({ minLength: 1, maxLength: 100_000 }),
});
const RoomParams = IdParams("roomId");
const NoteParams = IdParams("id");
const NoteResponse = { 200: Envelope(Type.Object({ note: Note })) };

export default async function noteRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "device" as const };
  const tags = ["Note"];

  app.get(
    "/api/messenger/notes/roomId/:roomId",
    {
      config,
      schema: op({
        operationId: "listNotes",
        tags,
        summary: "Notes of a room, by id",
        description: "Members of the room only.",
        params: RoomParams,
        response: { 200: Envelope(Type.Object({ notes: Type.Array(Note) })) },
        errors: { 400: ["roomId must be number"], 403: [notParticipant("see notes")] },
      }),
    },
    async (request) => {
      return ok({ notes: (await readableNotes(ctx.db, pathId(request.params.roomId, "roomId"), request.auth.user.id)).map(noteView) });
    },
  );

  app.post(
    "/api/messenger/notes/roomId/:roomId",
    {
      config,
      schema: op({
        operationId: "createNote",
        tags,
        summary: "Create a note (posts a created_note system message)",
        description: `Members of a room that is not deleted. \`title\` 1..${NOTE_TITLE_MAX} characters, \`content\` at least 1.`,
        params: RoomParams,
        body: NoteBody,
        response: NoteResponse,
        errors: { 400: ["roomId must be number"], 403: [notParticipant("create note"), "Chat is deleted"] },
      }),
    },
    async (request) => ok({ note: noteView(await createNote(ctx, request.auth, pathId(request.params.roomId, "roomId"), request.body)) }),
  );

  app.get(
    "/api/messenger/notes/:id",
    {
      config,
      schema: op({
        operationId: "getNote",
        tags,
        summary: "Note detail",
        description: "Members of the note's room only.",
        params: NoteParams,
        response: NoteResponse,
        errors: { 400: ["id must be number"], 403: [notParticipant("see note")], 404: ["Note not found"] },
      }),
    },
    async (request) => ok({ note: noteView(await readableNote(ctx.db, pathId(request.params.id, "id"), request.auth.user.id)) }),
  );

  app.put(
    "/api/messenger/notes/:id",
    {
      config,
      schema: op({
        operationId: "updateNote",
        tags,
        summary: "Update a note (posts an updated_note system message)",
        description: "Members of the note's room, while the room is not deleted.",
        params: NoteParams,
        body: NoteBody,
        response: NoteResponse,
        errors: { 400: ["id must be number"], 403: [notParticipant("update note"), "Chat is deleted"], 404: ["Not found"] },
      }),
    },
    async (request) => ok({ note: noteView(await updateNote(ctx, request.auth, pathId(request.params.id, "id"), request.body)) }),
  );

  app.delete(
    "/api/messenger/notes/:id",
    {
      config,
      schema: op({
        operationId: "deleteNote",
        tags,
        summary: "Delete a note (posts a deleted_note system message)",
        description: "Members of the note's room, while the room is not deleted; the note is gone for good.",
        params: NoteParams,
        response: { 200: Envelope(Deleted) },
        errors: { 400: ["id must be number"], 403: [notParticipant("delete note"), "Chat is deleted"], 404: ["Not found"] },
      }),
    },
    async (request) => {
      await deleteNote(ctx, request.auth, pathId(request.params.id, "id"));
      return ok({ deleted: true });
    },
  );
}
