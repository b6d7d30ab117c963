// Note rows → the Note model of API.md §2.5.
import Type from "typebox";
import { model } from "../../http/openapi.js";
import type { NoteRow } from "../../db/schema.js";

export const Note = model(
  "Note",
  Type.Object({
    id: Type.Integer(),
    title: Type.String(),
    content: Type.String(),
    roomId: Type.Integer(),
    createdAt: Type.Integer(),
    modifiedAt: Type.Integer(),
  }),
);
export type NoteView = Type.Static<typeof Note>;

export const noteView = (n: NoteRow): NoteView => ({
  id: n.id,
  title: n.title,
  content: n.content,
  roomId: n.roomId,
  createdAt: n.createdAt,
  modifiedAt: n.modifiedAt,
});
