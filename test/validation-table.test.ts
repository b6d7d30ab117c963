// Every JSON body field of every endpoint, fed wrong types: always 400 with the §1.2 error
// envelope naming the field (§1.3, DESIGN "Invariants"), never a 500. A new endpoint is one
// more line in ENDPOINTS.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { assertError, call, signUp, startTestServer, type TestServer } from "./helpers.js";

/** What a body field must be (§1.3: strict JSON types). */
type Kind =
  | "string" // JSON string
  | "integer" // JSON number without fraction
  | "number" // any JSON number
  | "boolean" // JSON boolean
  | "stringArray" // array of strings
  | "integerArray" // array of integers
  | "hashes"; // §3.4 contacts: array of strings or one comma-separated string

/** Values of the wrong type for each kind; every one must be answered 400. */
const WRONG: Record<Kind, unknown[]> = {
  string: [42, true, [], {}, null],
  integer: ["5", true, [], {}, null, 1.5, 1e20],
  number: ["5", true, [], {}, null],
  boolean: ["true", 1, null, [], {}],
  stringArray: [42, true, {}, null, "x", [42], [null]],
  integerArray: [42, true, {}, null, "1", ["x"], [1.5], [null]],
  hashes: [42, true, {}, null, [42], [null], [[]]],
};

interface Endpoint {
  method: "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  /** Needs an access token (T). */
  auth: boolean;
  /** A body that passes validation (the answer may still be 403/404: only 400 is a failure). */
  body: Record<string, unknown>;
  fields: Record<string, Kind>;
  /** Fields whose absence is a 400. */
  required?: string[];
}

const ENDPOINTS: Endpoint[] = [
  {
    method: "POST",
    path: "/api/messenger/auth",
    auth: false,
    body: { telephoneNumber: "+385910000001", deviceId: "table-device" },
    fields: { telephoneNumber: "string", deviceId: "string" },
    required: ["telephoneNumber", "deviceId"],
  },
  {
    method: "POST",
    path: "/api/messenger/auth/verify",
    auth: false,
    body: { code: "000000", deviceId: "table-unknown-device" },
    fields: { code: "string", deviceId: "string" },
    required: ["code", "deviceId"],
  },
  {
    method: "POST",
    path: "/api/messenger/contacts",
    auth: true,
    body: { contacts: ["42"], isLastPage: false },
    fields: { contacts: "hashes", isLastPage: "boolean" },
    required: ["contacts"],
  },
  {
    method: "PUT",
    path: "/api/messenger/me",
    auth: true,
    body: { displayName: "Table" },
    fields: { telephoneNumber: "string", emailAddress: "string", displayName: "string", avatarFileId: "integer" },
  },
  { method: "PUT", path: "/api/messenger/device", auth: true, body: { pushToken: "push-token" }, fields: { pushToken: "string" } },
];

const show = (v: unknown) => (v === undefined ? "undefined" : JSON.stringify(v));

function assertFieldError(res: { status: number; body: any; text: string }, field: string, what: string): void {
  assert.equal(res.status, 400, `${what}: expected 400, got ${res.status} ${res.text}`);
  assert.equal(res.body?.status, "error", `${what}: error envelope`);
  assert.equal(typeof res.body.message, "string", `${what}: message`);
  assert.ok(res.body.message.includes(field), `${what}: message names ${field}: ${res.body.message}`);
}

describe("validation table", () => {
  let server: TestServer;
  let token: string;
  before(async () => {
    server = await startTestServer();
    token = (await signUp(server)).token;
  });
  after(() => server.close());

  for (const ep of ENDPOINTS) {
    const name = `${ep.method} ${ep.path}`;
    const send = (body: unknown, opts: { raw?: string; token?: string | null } = {}) =>
      call(server, ep.method, ep.path, {
        token: opts.token === null ? undefined : ep.auth ? (opts.token ?? token) : undefined,
        ...(opts.raw !== undefined ? { raw: opts.raw } : { body }),
      });

    describe(name, () => {
      it("the valid body passes validation", async () => {
        const res = await send(ep.body);
        assert.ok(res.status !== 400 && res.status < 500, `valid body: ${res.status} ${res.text}`);
      });

      for (const [field, kind] of Object.entries(ep.fields)) {
        it(`${field} (${kind}) rejects wrong types with 400 naming it`, async () => {
          for (const value of WRONG[kind]) {
            assertFieldError(await send({ ...ep.body, [field]: value }), field, `${name} ${field}=${show(value)}`);
          }
        });
      }

      for (const field of ep.required ?? []) {
        it(`${field} is required`, async () => {
          const body: Record<string, unknown> = { ...ep.body };
          delete body[field];
          assertFieldError(await send(body), field, `${name} without ${field}`);
        });
      }

      it("a body that is not a JSON object is a 400 envelope", async () => {
        // (A missing or `null` body counts as `{}`: see the next case.)
        for (const raw of ["[]", "[{}]", "42", '"text"', "true", "{", '{"a":']) {
          const res = await send(undefined, { raw });
          assert.equal(res.status, 400, `${name} body ${raw}: ${res.status} ${res.text}`);
          assert.equal(res.body?.status, "error");
          assert.equal(typeof res.body.message, "string");
        }
      });

      const firstRequired = ep.required?.[0];
      if (firstRequired) {
        it("no body at all is a 400 naming a required field", async () => {
          for (const opts of [{}, { raw: "null" }]) {
            const res = await call(server, ep.method, ep.path, { token: ep.auth ? token : undefined, ...opts });
            assert.equal(res.status, 400, `${name} ${JSON.stringify(opts)}: ${res.status} ${res.text}`);
            assert.equal(res.body.status, "error");
            assert.ok(
              ep.required!.some((f) => res.body.message.includes(f)),
              `names a required field: ${res.body.message}`,
            );
          }
        });
      }

      if (ep.auth) {
        it("without a token: 401 before the body is looked at", async () => {
          const [field, kind] = Object.entries(ep.fields)[0];
          const res = await send({ ...ep.body, [field]: WRONG[kind][0] }, { token: null });
          assert.equal(res.status, 401);
          assert.equal(res.body.status, "error");
        });
      }
    });
  }

  describe("edge answers: every framework-level refusal in the envelope", () => {
    it("a NUL character in any text is a 400 naming the field, on every route (query, body, path)", async () => {
      const room = await call(server, "POST", "/api/messenger/rooms", { token, body: { name: "nul", type: "group", userIds: [] } });
      assert.equal(room.status, 200, room.text);
      const roomId = room.body.data.room.id;
      assertError(await call(server, "GET", `/api/messenger/messages/search?roomId=${roomId}&keyword=%00%00%00`, { token }), 400, /keyword must not contain NUL/);
      assertError(await call(server, "GET", `/api/messenger/messages/search?roomId=${roomId}&keyword=a%00b`, { token }), 400, /keyword/);
      assertError(await call(server, "PUT", "/api/messenger/me", { token, body: { displayName: "a\u0000b" } }), 400, /displayName must not contain NUL/);
      assertError(
        await call(server, "POST", "/api/messenger/messages", { token, body: { roomId, type: "text", body: { text: "hi\u0000" } } }),
        400,
        /body\.text must not contain NUL/,
      );
      assertError(await call(server, "POST", "/api/messenger/auth", { body: { telephoneNumber: "+3859\u00001", deviceId: "nul-dev" } }), 400, /telephoneNumber/);
      assertError(await call(server, "GET", "/api/messenger/users/%00", { token }), 400, /NUL/);
      const searched = await call(server, "GET", `/api/messenger/messages/search?roomId=${roomId}&keyword=hello`, { token });
      assert.equal(searched.status, 200, "a clean keyword still searches");
    });

    it("a path segment that is not valid UTF-8 is a 400 envelope", async () => {
      const res = await call(server, "GET", "/api/messenger/rooms/%C0%AE", { token });
      assertError(res, 400, /URL/);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
    });

    it("an 8,000-character path parameter is a 414 envelope", async () => {
      const res = await rawRequest(server.url, `GET /api/messenger/rooms/${"7".repeat(8000)} HTTP/1.1\r\nHost: x\r\naccesstoken: ${token}\r\n\r\n`);
      assert.equal(res.status, 414);
      assert.equal(res.body.status, "error");
      assert.match(res.body.message, /too long/);
    });

    it("a 60 KB header is a 431 envelope (refused by Node's parser before Fastify)", async () => {
      const res = await rawRequest(server.url, `GET /api/messenger/me HTTP/1.1\r\nHost: x\r\naccesstoken: ${token}\r\nx-big: ${"a".repeat(60_000)}\r\n\r\n`);
      assert.equal(res.status, 431);
      assert.equal(res.body.status, "error");
      assert.match(res.body.message, /headers are too large/);
      assert.match(res.headers, /x-content-type-options: nosniff/i);
    });

    it("a multipart body is a 415 envelope that says what to send", async () => {
      const form = new FormData();
      form.append("displayName", "x");
      const res = await fetch(`${server.url}/api/messenger/me`, { method: "PUT", body: form, headers: { accesstoken: token } });
      assert.equal(res.status, 415);
      const body = (await res.json()) as any;
      assert.equal(body.status, "error");
      assert.match(body.message, /multipart\/form-data.*application\/json/);
    });

    it("a known path asked with another method is a 405 with Allow; an unknown path stays 404", async () => {
      const res = await call(server, "GET", "/api/messenger/messages", { token });
      assertError(res, 405, /GET not allowed/);
      assert.equal(res.headers.get("allow"), "OPTIONS, POST");
      const param = await call(server, "POST", "/api/messenger/rooms/12/", { token });
      assertError(param, 405);
      assert.match(param.headers.get("allow") ?? "", /\bGET\b.*\bPUT\b/);
      const auth = await call(server, "GET", "/api/messenger/auth");
      assertError(auth, 405);
      assert.equal(auth.headers.get("allow"), "OPTIONS, POST");
      assertError(await call(server, "GET", "/api/messenger/no-such-thing", { token }), 404, /not found/);
    });
  });
});

/** One raw HTTP/1.1 exchange on a socket (fetch refuses some of these requests itself). */
function rawRequest(url: string, request: string): Promise<{ status: number; headers: string; body: any }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(url).port), "127.0.0.1");
    let raw = "";
    socket.on("data", (d: Buffer) => {
      raw += d.toString();
      const [head, body] = raw.split("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(head ?? "");
      if (length && body !== undefined && Buffer.byteLength(body) >= Number(length[1])) {
        socket.destroy();
        resolve({ status: Number(head.split(" ")[1]), headers: head, body: JSON.parse(body) });
      }
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`closed without a full answer: ${raw.slice(0, 200)}`)));
    socket.write(request);
  });
}
