// Reads of messages as a user's or a device's copies (§9.1; design in docs/messages.md).
// A user sees a message of a room they are in when it was created at or after their join
// time and no `hidden` exception exists for them; a device additionally only from its own
// creation on. Every reader goes through here; Message models are loaded here (their files) and
// shaped in views.ts.
import { sql, type Expression, type ExpressionBuilder, type SelectQueryBuilder, type SqlBool } from "kysely";
import { countRows, pageTotal, pageWithTotal, SYNC_LIMIT } from "../../db/count.js";
import type { Db } from "../../db/index.js";
import type { DB, DeviceRow, MessageRow, RoomUserRow } from "../../db/schema.js";
import { attachedFileIds, compactFiles, shapeMessages, type CopyRow, type MessageView } from "./views.js";

type From = DB & { m: DB["messages"]; e: DB["messageExceptions"]; ru: DB["roomUsers"] };
/** A select over messages `m` with the viewer's exception `e`, whatever it selects. */
type CopyQuery = SelectQueryBuilder<From, "m" | "e", object>;

const MESSAGE_COLUMNS = [
  "m.id",
  "m.roomId",
  "m.fromUserId",
  "m.fromDeviceId",
  "m.type",
  "m.body",
  "m.localId",
  "m.replyId",
  "m.totalUserCount",
  "m.deliveredCount",
  "m.seenCount",
  "m.deleted",
  "m.isForwarded",
  "m.hasLink",
  "m.createdAt",
  "m.modifiedAt",
] as const;

/** messages `m` with the viewer's exception `e`, selecting the CopyRow shape. */
export function copies(db: Db, userId: number): SelectQueryBuilder<From, "m" | "e", CopyRow> {
  return db
    .selectFrom("messages as m")
    .leftJoin("messageExceptions as e", (j) => j.onRef("e.messageId", "=", "m.id").on("e.userId", "=", userId))
    .select(MESSAGE_COLUMNS)
    .select(["e.kind as exKind", "e.modifiedAt as exModifiedAt"]) as unknown as SelectQueryBuilder<From, "m" | "e", CopyRow>;
}

/**
 * The one rule of what a member cannot see of their room (§9.1): a message with a `hidden`
 * exception for them (written when a block applied at send time). Every reader filters with it.
 */
export function notHiddenFrom<D extends DB, T extends keyof D>(
  eb: ExpressionBuilder<D, T>,
  messageId: Expression<number> | number,
  userId: Expression<number> | number,
): Expression<SqlBool> {
  const e = eb as unknown as ExpressionBuilder<DB, never>;
  return e.not(
    e.exists(e.selectFrom("messageExceptions as hx").select("hx.id").where("hx.messageId", "=", messageId).where("hx.userId", "=", userId).where("hx.kind", "=", "hidden")),
  );
}

/**
 * notHiddenFrom() for a query that left-joins the user's exception of the message `m` as `e` (as
 * copies() does): a user has at most one exception per message (message_exceptions_pair_idx), so
 * a hidden one is `e`. Where `e` is joined anyway this is one lookup per row instead of two; the
 * syncs read every copy changed since a time, and PostgreSQL ran the NOT EXISTS as a second
 * nested loop over all of them.
 */
export function notHiddenException<D, T extends keyof D>(eb: ExpressionBuilder<D, T>): Expression<SqlBool> {
  const e = eb as unknown as ExpressionBuilder<{ e: DB["messageExceptions"] }, "e">;
  return e.or([e("e.kind", "is", null), e("e.kind", "!=", "hidden")]);
}

/** notHiddenFrom() for the message `m` of a copies() query of `userId`. */
const notHidden = (userId: number) => (eb: ExpressionBuilder<From, "m" | "e">) => notHiddenFrom(eb, eb.ref("m.id"), userId);

export const findMessage = (db: Db, id: number): Promise<MessageRow | undefined> => db.selectFrom("messages").selectAll().where("id", "=", id).executeTakeFirst();

/**
 * The access rule for one message (§9.1): the user's copy of message `id` if they may see it — a
 * member of its room who joined before it and from whom it is not hidden — else undefined.
 */
export async function accessMessage(db: Db, userId: number, id: number): Promise<CopyRow | undefined> {
  return copies(db, userId)
    .innerJoin("roomUsers as ru", (j) => j.onRef("ru.roomId", "=", "m.roomId").on("ru.userId", "=", userId))
    .where("m.id", "=", id)
    .whereRef("m.createdAt", ">=", "ru.createdAt")
    .where(notHidden(userId))
    .executeTakeFirst();
}

/** Copies of `ids` for `userId` (no visibility filter: the caller has checked it). */
export const copiesOf = async (db: Db, userId: number, ids: number[]): Promise<CopyRow[]> =>
  ids.length ? copies(db, userId).where("m.id", "in", ids).orderBy("m.id").execute() : [];

/** Users holding a copy of `message`: members who joined before it, minus hidden ones. */
export async function copyHolders(db: Db, message: MessageRow): Promise<number[]> {
  const rows = await db
    .selectFrom("roomUsers as ru")
    .select("ru.userId")
    .where("ru.roomId", "=", message.roomId)
    .where("ru.createdAt", "<=", message.createdAt)
    .where((eb) => notHiddenFrom(eb, message.id, eb.ref("ru.userId")))
    .execute();
  return rows.map((r) => r.userId);
}

export const MESSAGE_PAGING_LIMIT = 50;

/**
 * §4.14 room history, newest first, by the (room_id, id) index: the first page costs the same
 * in a 100-message room and in a 1,000,000-message room. `count` comes from counters.
 */
export async function roomHistory(
  db: Db,
  member: RoomUserRow,
  opts: { cursor?: number; page: number; targetMessageId?: number },
): Promise<{ rows: CopyRow[]; count: number; limit: number; hasMore: boolean }> {
  const base = copies(db, member.userId).where("m.roomId", "=", member.roomId).where("m.createdAt", ">=", member.createdAt).where(notHidden(member.userId));
  let limit = MESSAGE_PAGING_LIMIT;
  if (opts.targetMessageId !== undefined) {
    const newer = await base
      .clearSelect()
      .select(sql<number>`count(*)`.as("n"))
      .where("m.id", ">=", opts.targetMessageId)
      .$if(opts.cursor !== undefined, (q) => q.where("m.id", "<", opts.cursor!))
      .executeTakeFirstOrThrow();
    limit = Math.max(limit, Number(newer.n));
  }
  let page = base.orderBy("m.id", "desc").limit(limit + 1);
  if (opts.cursor !== undefined) page = page.where("m.id", "<", opts.cursor);
  else if (opts.page > 1) page = page.offset((opts.page - 1) * limit);

  const [rows, counts, hidden] = await Promise.all([
    page.execute(),
    db.selectFrom("rooms").select("messageCount").where("id", "=", member.roomId).executeTakeFirstOrThrow(),
    db
      .selectFrom("messageExceptions")
      .select(sql<number>`count(*)`.as("n"))
      .where("roomId", "=", member.roomId)
      .where("userId", "=", member.userId)
      .where("kind", "=", "hidden")
      .executeTakeFirstOrThrow(),
  ]);
  const count = Math.max(0, Number(counts.messageCount) - Number(member.messageCountAtJoin) - Number(hidden.n));
  return { rows: rows.slice(0, limit), count, limit, hasMore: rows.length > limit };
}

/**
 * §4.14 message sync for one device: copies changed after `since` (new, edited, deleted for
 * all or for this user), oldest change first. `modifiedOnly` keeps copies changed after
 * their creation (the modified sync).
 *
 * A copy changed when its message did or when the user's exception of it did: two disjoint
 * branches (the second only takes messages the first does not), each an index range, joined by
 * UNION ALL. The page is sorted and cut on the copies' ids and times alone, with the size of
 * the set alongside (pageWithTotal), and only its rows are then loaded: a device that syncs
 * 10,000 copies from time 0 pages 100 times, and each page reads the set once, not three times
 * (an `IN (… UNION …)` of the changed ids, the page, and a separate count).
 */
export async function deviceSync(db: Db, device: DeviceRow, opts: { since: number; page: number; modifiedOnly: boolean }): Promise<{ rows: CopyRow[]; count: number }> {
  const userId = device.userId;
  const held = <Q extends CopyQuery>(q: Q): Q =>
    q
      .innerJoin("roomUsers as ru", (j) => j.onRef("ru.roomId", "=", "m.roomId").on("ru.userId", "=", userId))
      .whereRef("m.createdAt", ">=", "ru.createdAt")
      .where("m.createdAt", ">=", device.createdAt)
      .where(notHiddenException)
      .$if(opts.modifiedOnly, (qb) => qb.where((eb) => eb.or([eb("m.modifiedAt", ">", eb.ref("m.createdAt")), eb("e.kind", "=", "deleted")]))) as Q;
  const messageChanged = held(copies(db, userId).clearSelect())
    .where("m.modifiedAt", ">", opts.since)
    .select(["m.id", sql<number>`case when e.modified_at > m.modified_at then e.modified_at else m.modified_at end`.as("at")]);
  const exceptions = db.selectFrom("messageExceptions as e").innerJoin("messages as m", "m.id", "e.messageId").where("e.userId", "=", userId);
  const exceptionChanged = held(exceptions as unknown as CopyQuery)
    .where("e.modifiedAt", ">", opts.since)
    .where("m.modifiedAt", "<=", opts.since)
    .select(["m.id", sql<number>`e.modified_at`.as("at")]);
  const changed = db.selectFrom(messageChanged.unionAll(exceptionChanged).as("c"));
  const page = pageWithTotal(changed.select(["c.id", "c.at"]).orderBy("c.at").orderBy("c.id"), { page: opts.page, limit: SYNC_LIMIT });
  const rows = await copies(db, userId).innerJoin(page.as("p"), "p.id", "m.id").select("p.total").orderBy("p.at").orderBy("p.id").execute();
  const count = await pageTotal(rows, opts.page, () => countRows(changed));
  return { rows: rows.map(({ total: _, ...copy }) => copy), count };
}

/**
 * For queries that list rooms by their latest message as one member sees it (history, recent
 * chats): correlated SQL over the outer query's room alias (`refs.room`, a rooms row) and the
 * member's room_users alias (`refs.member`, the row of `userId`) giving the `id` and
 * `createdAt` of the latest message of that room the member holds a copy of (with
 * `notDeleted`: a copy that is not deleted), or null when there is none. The room's last
 * message (rooms.last_message_id/at) answers it unless it predates the join (then the member
 * holds no copy at all) or is not such a copy of theirs (hidden from them by a block, or a
 * deleted copy); only then is the room searched, newest first, through copies().
 */
export function latestCopyIn(db: Db, userId: number, refs: { room: string; member: string }, opts: { notDeleted?: boolean } = {}) {
  const room = (column: string) => sql.ref<number>(`${refs.room}.${column}`);
  const member = (column: string) => sql.ref<number>(`${refs.member}.${column}`);
  const usable = <Q extends SelectQueryBuilder<From, "m" | "e", object>>(q: Q): Q =>
    (opts.notDeleted ? q.where("m.deleted", "=", 0).where("e.kind", "is", null) : q.where(notHidden(userId))) as Q;
  const base = () => copies(db, userId).clearSelect();
  const lastIsCopy = usable(base().select("m.id").where("m.id", "=", room("lastMessageId")));
  const newest = usable(base().where("m.roomId", "=", room("id")).where("m.createdAt", ">=", member("createdAt")))
    .orderBy("m.id", "desc")
    .limit(1);
  const none = sql`${room("lastMessageId")} is null or ${room("lastMessageAt")} < ${member("createdAt")}`;
  return {
    id: sql<number | null>`case when ${none} then null when exists ${lastIsCopy} then ${room("lastMessageId")} else ${newest.select("m.id")} end`,
    createdAt: sql<number | null>`case when ${none} then null when exists ${lastIsCopy} then ${room("lastMessageAt")} else ${newest.select("m.createdAt")} end`,
  };
}

/**
 * The copies `member` holds in its room (§9.1): created at or after the join time and not
 * hidden by a block. `live` keeps only copies that are not deleted (for all or for the member).
 */
export function memberCopies(db: Db, member: Pick<RoomUserRow, "roomId" | "userId" | "createdAt">, opts: { live?: boolean } = {}) {
  const q = copies(db, member.userId).where("m.roomId", "=", member.roomId).where("m.createdAt", ">=", member.createdAt).where(notHidden(member.userId));
  return opts.live ? q.where("m.deleted", "=", 0).where("e.kind", "is", null) : q;
}

/** Copies → Message models, with `file`/`thumb` objects from one files query (§2.6). */
export async function messageViews(db: Db, rows: CopyRow[]): Promise<MessageView[]> {
  const ids = [...new Set(rows.flatMap(attachedFileIds))];
  const files = ids.length
    ? await db.selectFrom("files").select(["id", "fileName", "mimeType", "size", "metaDuration", "metaWidth", "metaHeight"]).where("id", "in", ids).execute()
    : [];
  return shapeMessages(rows, compactFiles(files));
}

export async function messageView(db: Db, row: CopyRow): Promise<MessageView> {
  return (await messageViews(db, [row]))[0];
}
