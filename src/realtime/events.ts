// Events of API.md §6 and the sink that actions hand them to after their transaction commits.
export interface EventPayload {
  type: string;
  [key: string]: unknown;
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
  /**
   * Ends the recipients' streams instead of sending `data` (their token died: logout, expiry,
   * account deletion); a client that reconnects is refused with 401.
   */
  closeStreams?: boolean;
}

export interface EventSink {
  publish(events: OutgoingEvent[]): void;
}

/** Keeps what was published; the real-time hub replaces it (tests read `events`). */
export class RecordingSink implements EventSink {
  readonly events: OutgoingEvent[] = [];
  publish(events: OutgoingEvent[]): void {
    this.events.push(...events);
  }
}
