// Events of API.md §6 and the sink that actions hand them to after their transaction commits.
export interface EventPayload {
  type: string;
  [key: string]: unknown;
}

/**
 * Fields that differ by recipient user, merged into the object `data[key]` for each one
 * (`dataFor`). An event sent to many users who see the same thing but for a few fields (a room
 * and its member list, but each member's own flags) then carries the shared part once, not one
 * copy per recipient: a 1000-member room announced member by member was 1000 copies of its
 * 1000-member list (440 MB of JSON). Plain JSON, so it crosses the buses as it is.
 */
export interface Personal {
  key: string;
  /** Each recipient user's own fields; they replace any of the same name in `data[key]`. */
  byUser: Record<number, object>;
}

/**
 * One event and who receives it: every device of `userIds` (of every user when `allUsers`),
 * plus `deviceIds`, minus `excludeDeviceIds`.
 */
export interface OutgoingEvent {
  userIds: number[];
  allUsers?: boolean;
  deviceIds?: number[];
  excludeDeviceIds?: number[];
  data: EventPayload;
  personal?: Personal;
  /**
   * Ends the recipients' streams instead of sending `data` (their token died: logout, expiry,
   * account deletion); a client that reconnects is refused with 401.
   */
  closeStreams?: boolean;
}

/** The data the devices of `userId` receive: with their personal fields, if the event has any. */
export function dataFor(event: OutgoingEvent, userId: number): EventPayload {
  const { data, personal } = event;
  if (!personal) return data;
  return { ...data, [personal.key]: { ...(data[personal.key] as object), ...personal.byUser[userId] } };
}

export interface EventSink {
  publish(events: OutgoingEvent[]): void;
}

/**
 * Keeps what was published; the real-time hub replaces it (tests read `events`). An event with
 * personal fields is kept as one event per recipient user, with the data that user receives.
 */
export class RecordingSink implements EventSink {
  readonly events: OutgoingEvent[] = [];
  publish(events: OutgoingEvent[]): void {
    for (const event of events) {
      const { personal, ...shared } = event;
      if (!personal) this.events.push(event);
      else for (const userId of event.userIds) this.events.push({ ...shared, userIds: [userId], data: dataFor(event, userId) });
    }
  }
}
