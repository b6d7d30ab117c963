// The OpenAPI document (/api/openapi.json) as the contract a client developer reads: every
// registered route is in it with an operationId, a description and its error answers; the named
// models are there; and what the server really answers matches what the document says.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv2020 } from "ajv/dist/2020.js";
import { call, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

/** "GET /a/:b/*" and "get /a/{b}/{c}" → "GET /a/{}/{}". */
const routeKey = (method: string, path: string) => `${method.toUpperCase()} ${path.replace(/:[A-Za-z0-9_]+|\{[^}]+\}|\*/g, "{}")}`;

/** Routes that are not API operations: the Swagger UI's own pages and the CORS catch-all. */
const notOperations = (route: string) => route.startsWith("OPTIONS ") || / \/api\/docs(\/|$)/.test(route);

/** Admin credentials, so the management API (registered only with ADMIN_USERNAME) is listed and documented too. */
const ADMIN_ENV = { ADMIN_USERNAME: "admin", ADMIN_PASSWORD: "openapi-test-password" };

/** What `spika routes` prints: every route the app registers. */
async function registeredRoutes(): Promise<string[]> {
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", DATABASE_URL: "sqlite::memory:", ...ADMIN_ENV };
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/main.ts", "routes"], { cwd: ROOT, env });
  return stdout
    .trim()
    .split("\n")
    .filter((r) => !notOperations(r));
}

/** Event types the source emits: `type: "NEW_MESSAGE"`-style literals in actions, and the hub's PING. */
function emittedEventTypes(): string[] {
  const files = [
    ...readdirSync(join(ROOT, "src/modules")).flatMap((m) => {
      const f = join(ROOT, "src/modules", m, "actions.ts");
      try {
        return [readFileSync(f, "utf8")];
      } catch {
        return [];
      }
    }),
    ...readdirSync(join(ROOT, "src/realtime")).map((f) => readFileSync(join(ROOT, "src/realtime", f), "utf8")),
  ];
  const types = new Set<string>();
  for (const text of files) {
    for (const m of text.matchAll(/"([A-Z]+(?:_[A-Z]+)+)"/g)) types.add(m[1]);
    for (const m of text.matchAll(/"type":"([A-Z_]+)"/g)) types.add(m[1]);
  }
  return [...types].sort();
}

type Operation = Record<string, any> & { operationId: string; responses: Record<string, any> };

describe("OpenAPI document", () => {
  let server: TestServer;
  let doc: any;
  let operations: { method: string; path: string; op: Operation }[];
  const byId = (id: string) => {
    const found = operations.find((o) => o.op.operationId === id);
    assert.ok(found, `operation ${id} is documented`);
    return found;
  };

  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1", ...ADMIN_ENV });
    const res = await call(server, "GET", "/api/openapi.json");
    assert.equal(res.status, 200);
    doc = res.body;
    operations = Object.entries(doc.paths).flatMap(([path, item]: [string, any]) =>
      METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] as Operation })),
    );
  });
  after(() => server.close());

  it("is a valid OpenAPI document (swagger-parser)", async () => {
    await SwaggerParser.validate(structuredClone(doc));
  });

  it("holds every registered route, each with a summary, a description and a unique operationId", async () => {
    const documented = new Set(operations.map((o) => routeKey(o.method, o.path)));
    const routes = await registeredRoutes();
    assert.ok(routes.length > 80, `spika routes lists the routes (${routes.length})`);
    for (const route of routes) {
      const [method, path] = route.split(" ");
      assert.ok(documented.has(routeKey(method, path)), `${route} is missing from /api/openapi.json`);
    }
    const ids = new Map<string, string>();
    for (const { method, path, op } of operations) {
      const name = `${method.toUpperCase()} ${path}`;
      assert.ok(op.operationId, `${name} has no operationId`);
      assert.ok(!ids.has(op.operationId), `${name} reuses the operationId ${op.operationId} of ${ids.get(op.operationId)}`);
      ids.set(op.operationId, name);
      assert.ok(op.summary?.trim(), `${name} has no summary`);
      assert.ok(op.description?.trim(), `${name} has no description`);
      for (const [status, response] of Object.entries(op.responses)) {
        assert.notEqual(response.description, "Default Response", `${name} answers ${status} with an undescribed response`);
      }
    }
  });

  it("lists the 4xx answers, with their messages in the Error envelope, of every operation that can fail", () => {
    for (const { method, path, op } of operations) {
      const name = `${method.toUpperCase()} ${path}`;
      const canFail = Boolean(op.security?.length || op.parameters?.length || op.requestBody);
      const errors = Object.entries(op.responses).filter(([status]) => /^4\d\d$/.test(status));
      if (canFail) assert.ok(errors.length > 0, `${name} can fail but documents no 4xx answer`);
      if (op.security?.length) assert.ok(op.responses["401"], `${name} needs a token but documents no 401`);
      if (op.requestBody) assert.ok(op.responses["400"], `${name} validates a body but documents no 400`);
      for (const [status, response] of errors) {
        const media = response.content?.["application/json"];
        assert.equal(media?.schema?.$ref, "#/components/schemas/Error", `${name} ${status} uses the Error envelope`);
        assert.ok(Object.keys(media.examples ?? {}).length > 0, `${name} ${status} lists its messages`);
      }
    }
    assert.deepEqual(doc.components.schemas.Error.required, ["status", "message"]);
  });

  it("types integer ids in paths as integers", () => {
    for (const { method, path, op } of operations) {
      for (const p of op.parameters ?? []) {
        if (p.in !== "path" || !(p.name === "id" || /Id$/.test(p.name)) || p.name === "clientId") continue;
        assert.equal(p.schema.type, "integer", `${method.toUpperCase()} ${path}: path parameter ${p.name} is an integer`);
      }
    }
  });

  it("names the models in components.schemas and refers to them with $ref", () => {
    const schemas = doc.components.schemas;
    for (const name of ["User", "Device", "Room", "RoomUser", "Message", "MessageWithReactions", "MessageRecord", "File", "Note", "Webhook", "ApiKey", "Block", "Error", "Event"]) {
      assert.ok(schemas[name], `components.schemas.${name}`);
    }
    for (const name of ["RoomList", "UserCursorPage", "MessageCursorPage", "MessageSyncPage", "RoomSyncPage", "UserSyncPage", "MessageRecordSyncPage"]) {
      assert.ok(schemas[name]?.properties?.list, `paging shape ${name} with its list`);
    }
    const getRoom = byId("getRoom").op.responses["200"].content["application/json"].schema;
    assert.equal(getRoom.properties.data.properties.room.$ref, "#/components/schemas/Room");
    assert.equal(schemas.Room.properties.users.items.$ref, "#/components/schemas/RoomUser");
  });

  it("describes the message body per type", () => {
    const schemas = doc.components.schemas;
    assert.equal(schemas.Message.properties.body.$ref, "#/components/schemas/MessageBody");
    assert.equal(schemas.SendMessage.properties.body.$ref, "#/components/schemas/MessageBody");
    const bodies = schemas.MessageBody.anyOf.map((s: any) => s.$ref.split("/").pop());
    assert.deepEqual(bodies, ["TextBody", "ImageBody", "VideoBody", "AudioBody", "FileBody", "SystemBody"]);
    assert.deepEqual(schemas.TextBody.required, ["text"]);
    for (const media of ["ImageBody", "VideoBody", "AudioBody", "FileBody"]) {
      assert.deepEqual(schemas[media].required, ["fileId"], `${media} requires fileId`);
      assert.equal(schemas[media].properties.file.$ref, "#/components/schemas/CompactFile");
    }
    assert.ok(schemas.SystemBody.properties.type.anyOf.some((t: any) => t.enum?.includes("created_group")));
  });

  it("documents the SSE stream: text/event-stream, the Event envelope and every event type the server emits", () => {
    const sse = byId("streamEvents").op;
    assert.equal(sse.responses["200"].content["text/event-stream"].schema.$ref, "#/components/schemas/Event");
    const documented = doc.components.schemas.Event.anyOf.map((ref: any) => doc.components.schemas[ref.$ref.split("/").pop()].properties.type.enum[0]);
    const emitted = emittedEventTypes();
    assert.ok(emitted.includes("NEW_MESSAGE") && emitted.includes("PING"), `source scan finds events: ${emitted.join(", ")}`);
    for (const type of emitted) {
      assert.ok(documented.includes(type), `event ${type} is emitted but not in the Event schema`);
      assert.match(sse.description, new RegExp(`\`${type}\``), `event ${type} is in the stream's description`);
    }
  });

  it("documents the aliases and hidden routes: /api/uploads, /uploads/files, /metrics, GET /api/messenger/auth", () => {
    for (const id of [
      "uploadChunkViaUploads",
      "verifyUploadViaUploads",
      "getUploadedChunksViaUploads",
      "downloadFileViaUploads",
      "downloadFileByPath",
      "getMetrics",
      "getAuthNotAllowed",
    ]) {
      byId(id);
    }
    assert.equal(byId("downloadFileByPath").path, "/uploads/files/{clientId}");
    assert.ok(byId("getAuthNotAllowed").op.responses["405"]);
  });

  describe("what the server answers matches the document", () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    let a: SignedUp;
    let b: SignedUp;

    /** Checks `body` against the documented response of `operationId` for `status`. */
    function conforms(operationId: string, status: number, body: unknown) {
      const { op } = byId(operationId);
      const response = op.responses[String(status)];
      assert.ok(response, `${operationId} documents ${status} (got ${JSON.stringify(body)})`);
      const validate = ajv.compile({ ...response.content["application/json"].schema, components: doc.components });
      assert.ok(validate(body), `${operationId} ${status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 500)}`);
      if (status >= 400) {
        const messages = Object.values(response.content["application/json"].examples).map((e: any) => e.value.message as string);
        const pattern = (m: string) => new RegExp(`^${m.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/<[^>]+>/g, ".+")}$`);
        const message = (body as { message: string }).message;
        assert.ok(
          messages.some((m) => pattern(m).test(message)),
          `${operationId} ${status}: "${message}" is not among the documented ${messages.join(" | ")}`,
        );
      }
    }

    before(async () => {
      [a, b] = await Promise.all([signUp(server, { displayName: "Ana" }), signUp(server, { displayName: "Ben" })]);
    });

    it("successful answers of a first conversation", async () => {
      const room = await call(server, "POST", "/api/messenger/rooms", { token: a.token, body: { userIds: [b.user.id] } });
      conforms("createRoom", 200, room.body);
      const roomId = room.body.data.room.id;

      const text = await call(server, "POST", "/api/messenger/messages", { token: a.token, body: { roomId, type: "text", body: { text: "hi" }, localId: "l1" } });
      conforms("sendMessage", 200, text.body);
      const reply = await call(server, "POST", "/api/messenger/messages", {
        token: b.token,
        body: { roomId, type: "text", body: { text: "hello" }, replyId: text.body.data.message.id },
      });
      conforms("sendMessage", 200, reply.body);
      const reaction = await call(server, "POST", "/api/messenger/message-records", { token: b.token, body: { messageId: text.body.data.message.id, reaction: "👍" } });
      conforms("createMessageRecord", 200, reaction.body);

      const reads: [string, string][] = [
        ["getMe", "/api/messenger/me"],
        ["getDevice", "/api/messenger/device"],
        ["listRooms", "/api/messenger/rooms"],
        ["getRoom", `/api/messenger/rooms/${roomId}`],
        ["listRoomMessages", `/api/messenger/messages/roomId/${roomId}`],
        ["syncMessages", "/api/messenger/messages/sync/0"],
        ["syncMessageRecords", "/api/messenger/message-records/sync/0"],
        ["syncRooms", "/api/messenger/rooms/sync/0"],
        ["syncUsers", "/api/messenger/users/sync/0"],
        ["listContacts", "/api/messenger/contacts"],
        ["listHistory", "/api/messenger/history"],
        ["getRecentChats", "/api/messenger/recent-chats"],
        ["getUnreadCounts", "/api/messenger/rooms/unread-count"],
        ["getMySettings", "/api/messenger/me/settings"],
      ];
      for (const [operationId, path] of reads) conforms(operationId, 200, (await call(server, "GET", path, { token: a.token })).body);
    });

    it("the management API answers as documented", async () => {
      const signIn = await call(server, "POST", "/api/management/auth", { body: { username: ADMIN_ENV.ADMIN_USERNAME, password: ADMIN_ENV.ADMIN_PASSWORD } });
      conforms("adminSignIn", 200, signIn.body);
      const headers = { adminaccesstoken: signIn.body.data.token };
      conforms("adminGetCounts", 200, (await call(server, "GET", "/api/management/counts", { headers })).body);
      conforms("adminListUsers", 200, (await call(server, "GET", "/api/management/users", { headers })).body);
      conforms("adminGetUser", 200, (await call(server, "GET", `/api/management/users/${a.user.id}`, { headers })).body);
      conforms("adminListAudit", 200, (await call(server, "GET", "/api/management/audit", { headers })).body);
      const fails: [string, string, string, { headers?: Record<string, string>; body?: unknown }][] = [
        ["adminSignIn", "POST", "/api/management/auth", { body: { username: "nobody", password: "wrong" } }],
        ["adminGetCounts", "GET", "/api/management/counts", {}],
        ["adminGetCounts", "GET", "/api/management/counts", { headers: { adminaccesstoken: "not-a-token" } }],
        ["adminGetUser", "GET", "/api/management/users/999999", { headers }],
        ["adminGetUser", "GET", "/api/management/users/abc", { headers }],
        ["adminGetGroup", "GET", "/api/management/groups/999999", { headers }],
        ["adminExpireDevice", "PUT", "/api/management/users/999999/devices/999999/expire", { headers }],
      ];
      for (const [operationId, method, path, opts] of fails) {
        const res = await call(server, method, path, opts);
        assert.ok(res.status >= 400 && res.status < 500, `${method} ${path} fails with a 4xx (got ${res.status})`);
        conforms(operationId, res.status, res.body);
      }
    });

    it("error answers carry a documented status and message", async () => {
      const fails: [string, string, string, { token?: string; body?: unknown }][] = [
        ["getRoom", "GET", "/api/messenger/rooms/999999", { token: a.token }],
        ["listRoomMessages", "GET", "/api/messenger/messages/roomId/999999", { token: a.token }],
        ["getMe", "GET", "/api/messenger/me", {}],
        ["getMe", "GET", "/api/messenger/me", { token: "not-a-token" }],
        ["sendMessage", "POST", "/api/messenger/messages", { token: a.token, body: { roomId: 999999, type: "text", body: { text: "x" } } }],
        ["sendMessage", "POST", "/api/messenger/messages", { token: a.token, body: { type: "text", body: {} } }],
        ["createRoom", "POST", "/api/messenger/rooms", { token: a.token, body: { userIds: [999999] } }],
        ["getAuthNotAllowed", "GET", "/api/messenger/auth", {}],
        ["listNotes", "GET", "/api/messenger/notes/roomId/abc", { token: a.token }],
        ["searchMessages", "GET", "/api/messenger/messages/search?roomId=1", { token: a.token }],
        ["verifyCode", "POST", "/api/messenger/auth/verify", { body: { code: "123456", deviceId: "no-such-device" } }],
        ["downloadFile", "GET", "/api/upload/files/999999", {}],
        ["getLinkPreview", "GET", "/api/messenger/messages/get-thumbnail?url=ftp://example.com/x", { token: a.token }],
      ];
      for (const [operationId, method, path, opts] of fails) {
        const res = await call(server, method, path, opts);
        assert.ok(res.status >= 400 && res.status < 500, `${method} ${path} fails with a 4xx (got ${res.status})`);
        conforms(operationId, res.status, res.body);
      }
    });
  });
});
