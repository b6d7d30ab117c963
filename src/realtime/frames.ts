// SSE frames (`data: <json>\n\n`) of events, for the hub. An event with personal fields
// (events.ts) is encoded once as a head that all its recipients share, the JSON of its data with
// `data[key]` last and left open, and a small tail per recipient user that closes it with their
// fields: a room announced to 1000 members is one member list in memory, not 1000.
import type { EventPayload, Personal } from "./events.js";

export const frame = (data: EventPayload): string => `data: ${JSON.stringify(data)}\n\n`;

export interface SplitFrame {
  head: Buffer;
  tail(userId: number): string;
}

export function splitFrame(data: EventPayload, personal: Personal): SplitFrame {
  const { [personal.key]: inner, ...rest } = data;
  // Never a key twice on the wire, whatever `data[key]` holds: a personal field replaces it.
  const own = new Set(Object.values(personal.byUser).flatMap((fields) => Object.keys(fields)));
  const shared = Object.fromEntries(Object.entries(inner as object).filter(([k]) => !own.has(k)));
  const outer = JSON.stringify(rest).slice(0, -1);
  const open = JSON.stringify(shared).slice(0, -1);
  const head = Buffer.from(`data: ${outer}${outer.length > 1 ? "," : ""}${JSON.stringify(personal.key)}:${open}`);
  return {
    head,
    tail(userId) {
      const fields = JSON.stringify(personal.byUser[userId] ?? {}).slice(1, -1);
      return `${fields && open.length > 1 ? "," : ""}${fields}}}\n\n`;
    },
  };
}
