// Shared helpers of the notes / webhooks / api-keys / blocks suites: rooms and messages built
// through the API, error assertions, and reads of the events published after commit.
import { createHash } from "node:crypto";
import { assertError, assertOk, call, signUp, type SignedUp, type TestServer } from "./helpers.js";

export { assertError, assertOk };
import type { OutgoingEvent } from "../src/realtime/events.js";

export const users = (server: TestServer, ...names: string[]): Promise<SignedUp[]> => Promise.all(names.map((displayName) => signUp(server, { displayName })));

export async function createRoom(server: TestServer, owner: SignedUp, body: Record<string, unknown>): Promise<any> {
  return assertOk(await call(server, "POST", "/api/messenger/rooms", { token: owner.token, body })).room;
}

export const groupRoom = (server: TestServer, owner: SignedUp, members: SignedUp[], name = "Group") =>
  createRoom(server, owner, { name, type: "group", userIds: members.map((m) => m.user.id) });

/** `owner` uploads `others`' phone hashes: each becomes `owner`'s contact (who may be added to its rooms). */
export async function addContacts(server: { url: string }, owner: SignedUp, ...others: SignedUp[]): Promise<void> {
  const contacts = others.map((o) => createHash("sha256").update(o.phone).digest("hex"));
  assertOk(await call(server, "POST", "/api/messenger/contacts", { token: owner.token, body: { contacts } }));
}

export const privateRoom = (server: TestServer, a: SignedUp, b: SignedUp) => createRoom(server, a, { userIds: [b.user.id] });

export async function sendText(server: TestServer, from: SignedUp, roomId: number, text: string): Promise<any> {
  return assertOk(await call(server, "POST", "/api/messenger/messages", { token: from.token, body: { roomId, type: "text", body: { text } } })).message;
}

/** The room's messages as `who` sees them (room history, newest first). */
export async function history(server: TestServer, who: SignedUp, roomId: number): Promise<any[]> {
  return assertOk(await call(server, "GET", `/api/messenger/messages/roomId/${roomId}`, { token: who.token })).list;
}

/** Events published from now on: call the returned function to read them. */
export function eventsFrom(server: TestServer): () => OutgoingEvent[] {
  const start = server.events.events.length;
  return () => server.events.events.slice(start);
}

/** Whether `event` reaches `user` (any of their devices). */
export const reaches = (event: OutgoingEvent, user: SignedUp): boolean =>
  (event.allUsers === true || event.userIds.includes(user.user.id) || (event.deviceIds ?? []).includes(user.device.id)) && !(event.excludeDeviceIds ?? []).includes(user.device.id);

export const ofType = (events: OutgoingEvent[], type: string) => events.filter((e) => e.data.type === type);
