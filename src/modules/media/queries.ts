// Media of a room (§4.13): the member's live copies of image/video (gallery, media), file or
// link messages, paged by message id. Only copies the member holds (join time, blocks) and has
// not deleted are listed; non-members get 404 "No room found" (accessRoom).
import { countRows } from "../../db/count.js";
import type { Db } from "../../db/index.js";
import type { RoomUserRow } from "../../db/schema.js";
import { memberCopies } from "../messages/queries.js";
import type { CopyRow } from "../messages/views.js";
import { accessRoom } from "../rooms/access.js";

type Member = Pick<RoomUserRow, "roomId" | "userId" | "createdAt">;

export const GALLERY_LIMIT = 6;
export const MEDIA_LIMIT = 30;
export const MEDIA_MAX_LIMIT = 100;

export const MEDIA_KINDS = { media: ["image", "video"], file: ["file"], link: ["text"] } as const;
export type MediaKind = keyof typeof MEDIA_KINDS;

const ofKind = (db: Db, member: Member, kind: MediaKind) =>
  memberCopies(db, member, { live: true })
    .where("m.type", "in", [...MEDIA_KINDS[kind]])
    .$if(kind === "link", (q) => q.where("m.hasLink", "=", 1));

const exists = async (db: Db, member: Member, side: "<" | ">", id: number) =>
  (await ofKind(db, member, "media").clearSelect().select("m.id").where("m.id", side, id).limit(1).executeTakeFirst()) !== undefined;

export interface GalleryPage {
  /** Chronological (oldest first). */
  rows: CopyRow[];
  hasMoreOlderImages: boolean;
  hasMoreNewerImages: boolean;
}

/**
 * §4.13 gallery (images and videos). Neither flag: the page from `cursor` (inclusive) going
 * older, or the newest page; `fetchOlder`: older than `cursor`; `fetchNewer`: newer than
 * `cursor` (without a cursor: from the oldest). `hasMore*` tell whether anything lies beyond the
 * page on either side (beyond the cursor when the page is empty).
 */
export async function galleryPage(
  db: Db,
  roomId: number,
  userId: number,
  opts: { cursor?: number; limit: number; fetchNewer: boolean; fetchOlder: boolean },
): Promise<GalleryPage> {
  const { member } = await accessRoom(db, roomId, userId);
  const { cursor, limit } = opts;
  let rows: CopyRow[];
  if (opts.fetchNewer) {
    rows = await ofKind(db, member, "media")
      .$if(cursor !== undefined, (q) => q.where("m.id", ">", cursor!))
      .orderBy("m.id", "asc")
      .limit(limit)
      .execute();
  } else {
    rows = (
      await ofKind(db, member, "media")
        .$if(cursor !== undefined, (q) => q.where("m.id", opts.fetchOlder ? "<" : "<=", cursor!))
        .orderBy("m.id", "desc")
        .limit(limit)
        .execute()
    ).reverse();
  }
  const low = rows[0]?.id ?? cursor;
  const high = rows.at(-1)?.id ?? cursor;
  if (low === undefined || high === undefined) return { rows, hasMoreOlderImages: false, hasMoreNewerImages: false };
  const [older, newer] = await Promise.all([exists(db, member, "<", low), exists(db, member, ">", high)]);
  return { rows, hasMoreOlderImages: older, hasMoreNewerImages: newer };
}

/** §4.13 media by kind, newest first; the page starts after `cursor`; `count` = all of the kind. */
export async function mediaPage(db: Db, roomId: number, userId: number, opts: { kind: MediaKind; cursor?: number; limit: number }): Promise<{ rows: CopyRow[]; count: number }> {
  const { member } = await accessRoom(db, roomId, userId);
  const base = ofKind(db, member, opts.kind);
  const [rows, total] = await Promise.all([
    base
      .$if(opts.cursor !== undefined, (q) => q.where("m.id", "<", opts.cursor!))
      .orderBy("m.id", "desc")
      .limit(opts.limit)
      .execute(),
    countRows(base),
  ]);
  return { rows, count: total };
}
