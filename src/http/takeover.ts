// Takes the socket of an answer that never ends (GET /api/sse) away from Node's HTTP server, the
// way Node hands over the socket of an `Upgrade` (lib/_http_server.js, onParserExecuteCommon):
// the server's listeners come off and its parser goes back to the pool. Nothing then points to
// the request and response objects, nor to Fastify's request, reply and child logger, which an
// open stream otherwise keeps for its whole life: 10,000 idle streams took ~9.7 KB of RSS each
// with them and ~4.2 KB without (bench idle-10k).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";

type FreeParser = (parser: unknown, req: IncomingMessage, socket: Socket) => void;

// What the upgrade path calls, from the module Node's HTTP server is made of (internal, and
// deprecated in the documentation only, DEP0199). A Node without it leaves the socket attached:
// the streams work the same, each at the larger cost.
const freeParser = (process.getBuiltinModule("_http_common") as { freeParser?: FreeParser } | undefined)?.freeParser;

const ignore = () => {};

/**
 * Detaches `req`'s socket from the HTTP server once `res` has sent its headers, and returns it.
 * The caller writes on it and listens for `close`; nothing it receives is parsed any more.
 */
export function takeOverSocket(req: IncomingMessage, res: ServerResponse): Socket {
  const socket = req.socket;
  if (!freeParser) return socket;
  // Every listener on the socket at this point is the HTTP server's (connectionListenerInternal,
  // assignSocket; a hijacked reply has taken Fastify's timeout listener off), but net's own `end`
  // listener, which does nothing on a server's socket (allowHalfOpen). Removing them all at once
  // also leaves a fresh listener table rather than one with deleted keys (~250 bytes more each).
  socket.removeAllListeners();
  res.detachSocket(socket);
  freeParser((socket as Socket & { parser: unknown }).parser, req, socket);
  // What the server's listeners did and a stream still needs: a socket error (a reset) only
  // closes it; the client's end of the connection ends ours, as Node does; and the socket keeps
  // reading (bytes after the request are dropped) so that the end is seen at once.
  socket.on("error", ignore);
  socket.on("end", () => socket.end());
  socket.on("data", ignore);
  return socket;
}
