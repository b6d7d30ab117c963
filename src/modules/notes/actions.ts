// Access checks and every change to room notes (§4.16); each change also posts a system message.
import type { Me } from "../../actor.js";
import { transact, type AppContext } from "../../context.js";
import type { Db, Tx } from "../../db/index.js";
import type { NoteRow, RoomRow, UserRow } from "../../db/schema.js";
import { forbidden, notFound } from "../../http/errors.js";
import { createSystemMessage } from "../messages/actions.js";
import { accessRoom } from "../rooms/access.js";
import { findNote, notesOfRoom } from "./queries.js";

export interface NoteInput {
  title: string;
  content: string;
}

/** The 403 message for a non-member (also listed in the API document). */
export const notParticipant = (doing: string) => `You can't ${doing} because you are not participant in that chat.`;

/** Notes are for members: 403 otherwise (unknown rooms have no members). */
const noteRoom = async (db: Db, roomId: number, userId: number, doing: string): Promise<RoomRow> =>
  (await accessRoom(db, roomId, userId, { denied: () => forbidden(notParticipant(doing)) })).room;

/** GET /notes/roomId/:roomId: the room's notes, for members. */
export async function readableNotes(db: Db, roomId: number, userId: number): Promise<NoteRow[]> {
  await noteRoom(db, roomId, userId, "see notes");
  return notesOfRoom(db, roomId);
}

/** GET /notes/:id access: 404 `Note not found`, then 403 for non-members. */
export async function readableNote(db: Db, id: number, userId: number): Promise<NoteRow> {
  const note = await findNote(db, id);
  if (!note) throw notFound("Note not found");
  await noteRoom(db, note.roomId, userId, "see note");
  return note;
}

const nameOf = (u: Pick<UserRow, "displayName" | "id">) => u.displayName ?? `User ${u.id}`;

/** The room a member may change notes of: deleted rooms take no new (system) messages. */
async function writableRoom(tx: Tx, roomId: number, me: Me, doing: string): Promise<RoomRow> {
  const room = await noteRoom(tx, roomId, me.user.id, doing);
  if (room.deleted === 1) throw forbidden("Chat is deleted");
  return room;
}

/** POST /notes/roomId/:roomId. */
export async function createNote(ctx: AppContext, me: Me, roomId: number, input: NoteInput): Promise<NoteRow> {
  return transact(ctx, async (tx, after) => {
    const room = await writableRoom(tx, roomId, me, "create note");
    const now = Date.now();
    const note = await tx
      .insertInto("notes")
      .values({ roomId: room.id, userId: me.user.id, title: input.title, content: input.content, createdAt: now, modifiedAt: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    await createSystemMessage(tx, after, room, me.user, "created_note", `${nameOf(me.user)} created note ${note.title}`, [{ id: note.id, name: note.title }]);
    return note;
  });
}

/** PUT /notes/:id: 404 `Not found`, 403 for non-members; touches modifiedAt. */
export async function updateNote(ctx: AppContext, me: Me, id: number, input: NoteInput): Promise<NoteRow> {
  return transact(ctx, async (tx, after) => {
    const note = await findNote(tx, id);
    if (!note) throw notFound("Not found");
    const room = await writableRoom(tx, note.roomId, me, "update note");
    const updated = await tx
      .updateTable("notes")
      .set({ title: input.title, content: input.content, modifiedAt: Math.max(Date.now(), note.modifiedAt + 1) })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await createSystemMessage(tx, after, room, me.user, "updated_note", `${nameOf(me.user)} updated note ${updated.title}`, [{ id: updated.id, name: updated.title }]);
    return updated;
  });
}

/** DELETE /notes/:id: hard delete. */
export async function deleteNote(ctx: AppContext, me: Me, id: number): Promise<void> {
  await transact(ctx, async (tx, after) => {
    const note = await findNote(tx, id);
    if (!note) throw notFound("Not found");
    const room = await writableRoom(tx, note.roomId, me, "delete note");
    await tx.deleteFrom("notes").where("id", "=", id).execute();
    await createSystemMessage(tx, after, room, me.user, "deleted_note", `${nameOf(me.user)} deleted note ${note.title}`, [{ id: note.id, name: note.title }]);
  });
}
