// Reads of room notes (§4.16).
import type { Db } from "../../db/index.js";
import type { NoteRow } from "../../db/schema.js";

export const findNote = (db: Db, id: number): Promise<NoteRow | undefined> => db.selectFrom("notes").selectAll().where("id", "=", id).executeTakeFirst();

/** A room's notes by id. */
export const notesOfRoom = (db: Db, roomId: number): Promise<NoteRow[]> => db.selectFrom("notes").selectAll().where("roomId", "=", roomId).orderBy("id").execute();
