// Setting up through the API: sign-ups (IS_TEST=1, code 000000), rooms, messages.
import { randomBytes } from "node:crypto";

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export async function api<T = any>(baseUrl: string, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...(token ? { accesstoken: token } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { data: T }).data;
}

export interface BenchUser {
  token: string;
  userId: number;
  deviceId: number;
}

let phoneSeq = 0;

/** Signs up `n` users (one device each), `concurrency` at a time. */
export function signUps(baseUrl: string, n: number, concurrency = 16): Promise<BenchUser[]> {
  const tag = randomBytes(3).toString("hex");
  return mapLimit(Array.from({ length: n }), concurrency, async () => {
    const seq = ++phoneSeq;
    const telephoneNumber = `+3859${String(seq).padStart(8, "0")}`;
    const deviceId = `bench-${tag}-${seq}`;
    await api(baseUrl, "POST", "/api/messenger/auth", { telephoneNumber, deviceId });
    const v = await api(baseUrl, "POST", "/api/messenger/auth/verify", { code: "000000", deviceId });
    return { token: v.device.token as string, userId: v.user.id as number, deviceId: v.device.id as number };
  });
}

/** Creates a room of `owner` with `members` (private for one member, else a group). */
export async function createRoom(baseUrl: string, owner: BenchUser, members: BenchUser[], name = ""): Promise<number> {
  const body = members.length === 1 ? { userIds: [members[0].userId] } : { name: name || "bench", type: "group", userIds: members.map((m) => m.userId) };
  const data = await api<{ room: { id: number } }>(baseUrl, "POST", "/api/messenger/rooms", body, owner.token);
  return data.room.id;
}

export const sendText = (baseUrl: string, from: BenchUser, roomId: number, text: string) =>
  api(baseUrl, "POST", "/api/messenger/messages", { roomId, type: "text", body: { text } }, from.token);
