// GET /api/sse (§6): one stream per request, addressed to the caller's device.
import Type, { type TProperties } from "typebox";
import type { App } from "../../app.js";
import { deferredAccessLog } from "../../log.js";
import { takeOverSocket } from "../../http/takeover.js";
import { model, op } from "../../http/openapi.js";
import { Message } from "../messages/views.js";
import { MessageRecord } from "../records/views.js";
import { Room } from "../rooms/views.js";
import { User } from "../users/views.js";

// The events the server writes on the stream (src/realtime/hub.ts and the modules' actions),
// for the document: each is one `data: <JSON>` line and a blank line.
const event = (type: string, description: string, payload: TProperties) => ({ type, description, payload });
const RecordCounters = {
  messageRecord: MessageRecord,
  deliveredCount: Type.Integer({ description: "the message's counters after the change" }),
  seenCount: Type.Integer(),
  totalUserCount: Type.Integer(),
};
const CATALOGUE = [
  event("PING", "On connect and every 5 seconds, to every stream.", {}),
  event(
    "NEW_MESSAGE",
    "A message was sent (also forwarded, shared, bot and system messages): every device of the members that existed at send time, except users whose block of the sender applies, and (for `POST /messages` only) the sending device: forwarded and shared messages reach it too.",
    { message: Message },
  ),
  event("UPDATE_MESSAGE", "A message was edited: devices holding a copy.", { message: Message }),
  event("DELETE_MESSAGE", "A message was deleted (deleted body): devices of the affected copies (the caller's devices for `target=user`).", { message: Message }),
  event("NEW_MESSAGE_RECORD", "A seen, delivered or reaction record was written: devices of the room's members, minus users who blocked the record's author.", RecordCounters),
  event("DELETE_MESSAGE_RECORD", "A reaction was removed (`isDeleted: true`): as NEW_MESSAGE_RECORD.", RecordCounters),
  event("NEW_ROOM", "A room was created or the user was added to one: all devices of its members, each with their own flags.", { room: Room }),
  event("UPDATE_ROOM", "A room changed (name, avatar, members, admins, the user's mute/pin): all devices of its current members.", { room: Room }),
  event("DELETE_ROOM", "A group was deleted: all devices of its members.", { room: Room }),
  event("REMOVED_FROM_ROOM", "The user was removed from a group or left it: that user's devices.", { roomId: Type.Integer() }),
  event("SEEN_ROOM", "The user marked a room seen on another device: the user's other devices.", { roomId: Type.Integer() }),
  event("USER_UPDATE", "A user changed profile or was deleted (bots renamed too): in team mode everyone, otherwise the users who see that user.", { user: User }),
];
const modelName = (type: string) => `${type.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase())}Event`;
const Event = model(
  "Event",
  Type.Union(
    CATALOGUE.map((e) => model(modelName(e.type), Type.Object({ type: Type.Literal(e.type), ...e.payload }, { description: e.description }))),
    { description: "What each `data:` line of GET /api/sse holds; `type` tells which." },
  ),
);

export default async function sseRoutes(app: App): Promise<void> {
  const { hub } = app.ctx;

  app.get(
    "/api/sse",
    {
      config: { auth: "device", tokenInQuery: true },
      schema: op({
        operationId: "streamEvents",
        tags: ["Events"],
        summary: "Server-sent events of the caller's device (token in the accesstoken header or query)",
        description: `A \`text/event-stream\` that stays open: every event is one \`data: <JSON>\` line (an Event) and a blank line; no \`event:\`, \`id:\` or \`retry:\` fields. Events are addressed to devices; several streams of one device all get them. Nothing is kept for a device without an open stream: after (re)connecting, catch up with the sync operations. EventSource cannot set headers, so the token may come as \`?accesstoken=\`.\n\nEvents (type: recipients):\n${CATALOGUE.map((e) => `* \`${e.type}\`: ${e.description}`).join("\n")}`,
        querystring: Type.Object({ accesstoken: Type.Optional(Type.String()), accessToken: Type.Optional(Type.String()) }),
        responses: {
          200: {
            description: "The event stream: `data: <Event JSON>` lines, each followed by a blank line",
            content: { "text/event-stream": { schema: Event } },
          },
        },
      }),
    },
    async (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache",
        Connection: "keep-alive",
        "X-Accel-Buffering": "no",
      });
      // The headers go out now; the hub writes the body on the socket itself (src/realtime/hub.ts),
      // taken from the HTTP server so that the request's objects do not live as long as the stream.
      res.flushHeaders();
      // A hijacked reply has no onResponse hook: the stream's access line, with its lifetime.
      const logClosed = deferredAccessLog(request, reply, 200);
      const stream = { deviceId: request.auth.device.id, userId: request.auth.user.id, socket: takeOverSocket(request.raw, res), chunked: res.chunkedEncoding };
      stream.socket.setNoDelay(true);
      stream.socket.setKeepAlive(true);
      stream.socket.on("close", () => {
        hub.remove(stream);
        logClosed();
      });
      hub.add(stream);
    },
  );
}
