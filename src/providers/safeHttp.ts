// Outgoing POSTs to URLs chosen by users (room webhooks, §8.1), with the SSRF guard of §13b:
// unless private targets are allowed, the address actually connected to must be public. The
// check runs on every resolved address inside the socket's own DNS lookup, so a name that
// resolves differently later (DNS rebinding) cannot slip past it.
import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { TextDecoder } from "node:util";

/** The target is not allowed (a private address, or not an http(s) URL). */
export class RefusedTargetError extends Error {}

const refused = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], // "this network", 0.0.0.0
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local (cloud metadata endpoints)
  ["172.16.0.0", 12],
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) {
  refused.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 96], // unspecified, loopback, IPv4-compatible
  ["64:ff9b:1::", 48], // local-use NAT64
  ["100::", 64], // discard-only
  ["2001::", 23], // IETF protocol assignments (Teredo, benchmarking, …)
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
] as const) {
  refused.addSubnet(net, prefix, "ipv6");
}

/** The 16 bytes of an IPv6 address (with or without a dotted IPv4 tail). */
function ipv6Bytes(address: string): number[] {
  let text = address;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail.push(...dotted[1].split(".").map(Number));
    text = text.slice(0, -dotted[1].length) + "0:0";
  }
  const [head, rest] = text.includes("::") ? text.split("::") : [text, undefined];
  const words = (s: string) => (s === "" ? [] : s.split(":").map((w) => parseInt(w, 16)));
  const left = words(head);
  const right = rest === undefined ? [] : words(rest);
  const all = [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  const bytes = all.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), if any. */
function embeddedIpv4(address: string): string | null {
  const b = ipv6Bytes(address);
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  // ::ffff:a.b.c.d (IPv4-mapped)
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return b.slice(12).join(".");
  // 64:ff9b::a.b.c.d (well-known NAT64 prefix)
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return b.slice(12).join(".");
  // 2002:AABB:CCDD::/48 (6to4)
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6).join(".");
  return null;
}

/** Whether `address` (an IP literal) is a public unicast address. */
export function isPublicAddress(address: string): boolean {
  const plain = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const family = isIP(plain);
  if (family === 4) return !refused.check(plain, "ipv4");
  if (family === 6) {
    const v4 = embeddedIpv4(plain);
    if (v4 !== null) return isPublicAddress(v4);
    return !refused.check(plain, "ipv6");
  }
  return false;
}

/** dns.lookup that fails with RefusedTargetError when any address of the name is not public. */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, "", 0);
    const list = addresses as dns.LookupAddress[];
    const bad = list.find((a) => !isPublicAddress(a.address));
    if (bad || list.length === 0) {
      return callback(new RefusedTargetError(`${hostname} resolves to ${bad?.address ?? "nothing"}, a private address`), "", 0);
    }
    if (options.all) (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
    else callback(null, list[0].address, list[0].family);
  });
};

/**
 * `rawUrl` as an http(s) URL (a URL without a scheme gets http://). Throws RefusedTargetError
 * for anything else, and for a private IP literal unless `allowPrivate`: an IP literal is
 * connected to without a lookup, so guardedLookup never sees it.
 */
function checkedTarget(rawUrl: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(rawUrl) ? rawUrl : `http://${rawUrl}`);
  } catch {
    throw new RefusedTargetError(`not a URL: ${rawUrl}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new RefusedTargetError(`not an http(s) URL: ${rawUrl}`);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!allowPrivate && isIP(host) && !isPublicAddress(host)) throw new RefusedTargetError(`${host} is a private address`);
  return url;
}

/** A request to `url` (already checked) on a fresh connection, through the guard. */
function guardedRequest(url: URL, method: string, headers: Record<string, string>, allowPrivate: boolean, onResponse: (res: http.IncomingMessage) => void): http.ClientRequest {
  return (url.protocol === "https:" ? https : http).request(
    {
      method,
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      headers,
      // A fresh connection per call: pooled sockets were checked for another request.
      agent: false,
      ...(allowPrivate ? {} : { lookup: guardedLookup }),
    },
    onResponse,
  );
}

export interface PostResult {
  status: number;
}

/**
 * POSTs `body` to `url` (scheme defaults to http://) within `timeoutMs` (connecting, sending
 * and reading the answer). Throws RefusedTargetError for a refused target, Error otherwise.
 */
export function postJson(rawUrl: string, body: string, headers: Record<string, string>, opts: { timeoutMs: number; allowPrivate: boolean }): Promise<PostResult> {
  let url: URL;
  try {
    url = checkedTarget(rawUrl, opts.allowPrivate);
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise<PostResult>((resolve, reject) => {
    const req = guardedRequest(url, "POST", { ...headers, "content-length": String(Buffer.byteLength(body)) }, opts.allowPrivate, (res) => {
      // The answer's body is not used; read (a bounded amount of) it so the call completes.
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > 64 * 1024) res.destroy();
      });
      res.on("close", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0 });
      });
      res.on("error", () => undefined);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

export interface ReadTextOptions {
  /** For the whole call, redirects included. */
  timeoutMs: number;
  allowPrivate: boolean;
  /** Bytes of the body read at most; reading stops there. */
  maxBytes: number;
  /** Redirects followed at most; each target goes through the guard again. */
  maxRedirects: number;
  /** Whether a final answer with this content type (lower case, without parameters) is read. */
  accept: (mediaType: string) => boolean;
  /** Receives the body as decoded text, piece by piece; returning false stops reading. */
  onText: (text: string) => boolean;
}

/** The answer was not a 2xx with an accepted content type. */
class UnwantedAnswerError extends Error {}

/**
 * GETs `rawUrl` through the guard, following redirects, and feeds the body of the final answer
 * to `opts.onText` (decoded with its charset, UTF-8 by default) until it has had enough,
 * `maxBytes` were read or the body ends. Resolves with the URL of the final answer.
 */
export async function readText(rawUrl: string, headers: Record<string, string>, opts: ReadTextOptions): Promise<URL> {
  const deadline = Date.now() + opts.timeoutMs;
  let url = checkedTarget(rawUrl, opts.allowPrivate);
  for (let redirects = 0; ; redirects++) {
    const next = await readOnce(url, headers, opts, deadline);
    if (next === null) return url;
    if (redirects >= opts.maxRedirects) throw new UnwantedAnswerError(`more than ${opts.maxRedirects} redirects`);
    url = checkedTarget(next, opts.allowPrivate);
  }
}

/** One GET: resolves with the redirect target, or null once the body was read. */
function readOnce(url: URL, headers: Record<string, string>, opts: ReadTextOptions, deadline: number): Promise<string | null> {
  return new Promise<string | null>((resolve, reject) => {
    const fail = (err: Error) => {
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    const req = guardedRequest(url, "GET", headers, opts.allowPrivate, (res) => {
      res.on("error", () => undefined);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && location) {
        clearTimeout(timer);
        req.destroy();
        try {
          return resolve(new URL(location, url).href);
        } catch {
          return reject(new UnwantedAnswerError(`bad redirect target: ${location}`));
        }
      }
      const [mediaType, ...params] = (res.headers["content-type"] ?? "")
        .toLowerCase()
        .split(";")
        .map((p) => p.trim());
      if (status < 200 || status >= 300) return fail(new UnwantedAnswerError(`status ${status}`));
      if (!opts.accept(mediaType)) return fail(new UnwantedAnswerError(`content type ${mediaType || "(none)"}`));
      const decoder = textDecoder(
        params
          .find((p) => p.startsWith("charset="))
          ?.slice(8)
          .replace(/"/g, ""),
      );
      let size = 0;
      let finished = false;
      const done = () => {
        finished = true;
        clearTimeout(timer);
        req.destroy();
        resolve(null);
      };
      res.on("data", (chunk: Buffer) => {
        if (finished) return;
        const room = opts.maxBytes - size;
        size += chunk.length;
        const last = size >= opts.maxBytes;
        if (!opts.onText(decoder.decode(last ? chunk.subarray(0, room) : chunk, { stream: !last })) || last) done();
      });
      res.on("end", () => {
        if (finished) return;
        opts.onText(decoder.decode());
        done();
      });
    });
    const timer = setTimeout(() => fail(new Error(`no complete answer within the time limit`)), Math.max(0, deadline - Date.now()));
    req.on("error", fail);
    req.end();
  });
}

/** A decoder for `charset`, UTF-8 when it is missing or unknown. */
function textDecoder(charset: string | undefined): TextDecoder {
  try {
    return new TextDecoder(charset || "utf-8");
  } catch {
    return new TextDecoder("utf-8");
  }
}
