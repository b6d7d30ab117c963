// PostgreSQL: the writes of a send in one statement. A data-modifying CTE inserts the message,
// the author's delivered + seen records and updates the room's last message and counter, so a
// send is one round trip instead of three. On PostgreSQL every statement waits a round trip
// through the server's event loop, and BENCH_PG_TRACE showed the backends of a send "idle in
// transaction" (waiting for the next statement) 93-95 % of their busy samples. SQLite runs the
// three statements in-process (statements.ts), where a round trip costs nothing.
import { PostgresAdapter, sql } from "kysely";
import type { Tx } from "../../db/index.js";
import { prepared } from "../../db/prepared.js";
import type { MessageRecordRow, MessageRow } from "../../db/schema.js";

type MessageValues = Omit<MessageRow, "id" | "deleted">;

/** Whether `tx` runs on PostgreSQL. */
export const onPostgres = (tx: Tx) => tx.getExecutor().adapter instanceof PostgresAdapter;

/**
 * Inserts the message (nothing when its localId was used already, see insertMessage), the
 * author's delivered and seen records (stamped `createdAt`), and sets the room's last message.
 * Resolves to the message and the two records, or undefined when the localId was taken.
 */
export async function insertMessageWithRecords(tx: Tx, m: MessageValues): Promise<{ message: MessageRow; records: MessageRecordRow[] } | undefined> {
  const [row] = await sendStatement(tx, m);
  if (!row) return undefined;
  const { records, ...message } = row;
  return {
    message,
    records: records.map((r) => ({
      id: r.id,
      messageId: message.id,
      roomId: message.roomId,
      userId: message.fromUserId,
      type: r.type,
      reaction: null,
      isDeleted: r.isDeleted,
      createdAt: message.createdAt,
      modifiedAt: message.createdAt,
    })),
  };
}

type Inserted = MessageRow & { records: Array<Pick<MessageRecordRow, "id" | "type" | "isDeleted">> };

// The CTEs all see the snapshot from before the statement and run once each: `r` and `u` read
// the message from `m`'s RETURNING, so a conflicting localId (`m` empty) inserts and updates
// nothing. Records come back ordered by id, delivered first, as insertAuthorRecords returns them.
const sendStatement = prepared((db, a: MessageValues) => ({
  compile: () =>
    sql<Inserted>`with m as (
  insert into messages (room_id, from_user_id, from_device_id, type, body, local_id, reply_id, total_user_count,
    delivered_count, seen_count, is_forwarded, has_link, created_at, modified_at)
  values (${a.roomId}, ${a.fromUserId}, ${a.fromDeviceId}, ${a.type}, ${a.body}, ${a.localId}, ${a.replyId}, ${a.totalUserCount},
    ${a.deliveredCount}, ${a.seenCount}, ${a.isForwarded}, ${a.hasLink}, ${a.createdAt}, ${a.modifiedAt})
  on conflict (room_id, from_user_id, local_id) do nothing
  returning *
), r as (
  insert into message_records (message_id, room_id, user_id, type, reaction, created_at, modified_at)
  select m.id, m.room_id, m.from_user_id, t.type, null, m.created_at, m.created_at
  from m cross join (values (1, 'delivered'), (2, 'seen')) as t(n, type)
  order by t.n
  returning id, type, is_deleted
), u as (
  update rooms set last_message_id = m.id, last_message_at = m.created_at, message_count = rooms.message_count + 1
  from m where rooms.id = m.room_id
  returning rooms.id
)
select m.*, (select json_agg(json_build_object('id', r.id, 'type', r.type, 'isDeleted', r.is_deleted) order by r.id) from r) as records
from m`.compile(db),
}));
