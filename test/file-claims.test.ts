// Files named by id (issue 10, item 1): one rule for avatarFileId (a user's, a room's) and a
// message's fileId/thumbId — a verified file the requester uploaded or may already use; never
// a way to publish someone else's file or to claim an id before its upload exists.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { assertError, assertOk, call, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";
import { uploadFile } from "./uploads.js";

const ME = "/api/messenger/me";
const ROOMS = "/api/messenger/rooms";
const MESSAGES = "/api/messenger/messages";

describe("file claims (FILES_REQUIRE_AUTH=1)", () => {
  let server: TestServer;
  let owner: SignedUp;
  let thief: SignedUp;
  let member: SignedUp;
  before(async () => {
    server = await startTestServer({ FILES_REQUIRE_AUTH: "1", TEAM_MODE: "1" });
    [owner, thief, member] = await Promise.all([signUp(server), signUp(server), signUp(server)]);
  });
  after(() => server.close());

  const download = (who: SignedUp, id: number) => call(server, "GET", `/api/upload/files/${id}`, { token: who.token });
  const group = async (admin: SignedUp, members: SignedUp[], body: Record<string, unknown> = {}) =>
    call(server, "POST", ROOMS, { token: admin.token, body: { name: "G", type: "group", userIds: members.map((m) => m.user.id), ...body } });

  it("someone else's private file cannot become the requester's avatar, so it stays unreadable", async () => {
    const secret = await uploadFile(server, owner.token);
    assertError(await call(server, "PUT", ME, { token: thief.token, body: { avatarFileId: secret.id } }), 400, "Invalid avatarFileId");
    assert.equal((await download(thief, secret.id)).status, 404);
    assert.equal(assertOk(await call(server, "GET", ME, { token: thief.token })).user.avatarFileId, 0, "nothing written");
  });

  it("nor a group avatar, on create or with changeGroupAvatar", async () => {
    const secret = await uploadFile(server, owner.token);
    assertError(await group(thief, [member], { avatarFileId: secret.id }), 400, "Invalid avatarFileId");
    const rooms = assertOk(await call(server, "GET", ROOMS, { token: thief.token })).list;
    assert.equal(rooms.length, 0, "no room was created");
    const room = assertOk(await group(thief, [member])).room;
    assertError(
      await call(server, "PUT", `${ROOMS}/${room.id}`, { token: thief.token, body: { action: "changeGroupAvatar", avatarFileId: secret.id } }),
      400,
      "Invalid avatarFileId",
    );
    assert.equal(assertOk(await call(server, "GET", `${ROOMS}/${room.id}`, { token: thief.token })).room.avatarFileId, 0);
    assert.equal((await download(thief, secret.id)).status, 404);
  });

  it("an id that is no finished upload yet cannot be claimed (0 still means no avatar)", async () => {
    const next = (await uploadFile(server, owner.token)).id + 1000;
    assertError(await call(server, "PUT", ME, { token: thief.token, body: { avatarFileId: next } }), 400, "Invalid avatarFileId");
    assertError(await group(thief, [member], { avatarFileId: next }), 400, "Invalid avatarFileId");
    // An upload in progress has no File yet either.
    assertOk(await call(server, "POST", "/api/upload/files", { token: thief.token, body: { chunk: "AAAA", offset: 0, clientId: `open-${Date.now()}` } }));
    const mine = await uploadFile(server, thief.token);
    assertOk(await call(server, "PUT", ME, { token: thief.token, body: { avatarFileId: mine.id } }));
    assert.equal(assertOk(await call(server, "PUT", ME, { token: thief.token, body: { avatarFileId: 0 } })).user.avatarFileId, 0);
  });

  it("an avatar may be the requester's own upload, or a file that already is someone's avatar", async () => {
    const own = await uploadFile(server, owner.token, { mimeType: "image/png" });
    assert.equal(assertOk(await call(server, "PUT", ME, { token: owner.token, body: { avatarFileId: own.id } })).user.avatarFileId, own.id);
    // Already public: anyone may reuse it, as a user or a group avatar.
    assert.equal(assertOk(await call(server, "PUT", ME, { token: thief.token, body: { avatarFileId: own.id } })).user.avatarFileId, own.id);
    assert.equal(assertOk(await group(member, [thief], { avatarFileId: own.id })).room.avatarFileId, own.id);
  });

  it("a room avatar is not public: a member cannot publish it as a user avatar", async () => {
    const avatar = await uploadFile(server, owner.token, { mimeType: "image/png" });
    assertOk(await group(owner, [member], { avatarFileId: avatar.id }));
    assert.equal((await download(member, avatar.id)).status, 200);
    assertError(await call(server, "PUT", ME, { token: member.token, body: { avatarFileId: avatar.id } }), 400, "Invalid avatarFileId");
    assert.equal((await download(thief, avatar.id)).status, 404);
  });

  it("an attachment may be a file the sender can read: own, or used in one of their rooms", async () => {
    const image = await uploadFile(server, owner.token, { mimeType: "image/png" });
    const thumb = await uploadFile(server, owner.token, { mimeType: "image/png" });
    const shared = assertOk(await group(owner, [member])).room;
    assertOk(await call(server, "POST", MESSAGES, { token: owner.token, body: { roomId: shared.id, type: "image", body: { fileId: image.id, thumbId: thumb.id } } }));
    // The member may send the same file on, to a room the thief is in: the thief can then read it.
    const other = assertOk(await group(member, [thief])).room;
    const resent = await call(server, "POST", MESSAGES, { token: member.token, body: { roomId: other.id, type: "image", body: { fileId: image.id, thumbId: thumb.id } } });
    assert.equal(assertOk(resent).message.body.file.id, image.id);
    assert.equal((await download(thief, image.id)).status, 200);
  });

  it("a file the sender cannot read is refused as fileId or thumbId, and nothing is sent", async () => {
    const secret = await uploadFile(server, owner.token);
    const own = await uploadFile(server, thief.token);
    const room = assertOk(await group(thief, [member])).room;
    const send = (body: Record<string, unknown>) => call(server, "POST", MESSAGES, { token: thief.token, body: { roomId: room.id, type: "file", body } });
    assertError(await send({ fileId: secret.id }), 400, "Invalid fileId");
    assertError(await send({ fileId: own.id, thumbId: secret.id }), 400, "Invalid thumbId");
    assertError(await send({ fileId: secret.id + 100_000 }), 400, "Invalid fileId");
    assertError(await send({ fileId: "1" }), 400, "Invalid fileId");
    const messages = assertOk(await call(server, "GET", `${MESSAGES}/roomId/${room.id}`, { token: member.token })).list;
    assert.deepEqual(
      messages.filter((m: any) => m.type === "file"),
      [],
    );
    assert.equal((await download(member, secret.id)).status, 404);
    assert.equal((await download(thief, secret.id)).status, 404);
  });
});

describe("file claims (FILES_REQUIRE_AUTH off)", () => {
  it("the same rule holds: no foreign or unknown avatar", async () => {
    const server = await startTestServer();
    try {
      const [a, b] = await Promise.all([signUp(server), signUp(server)]);
      const file = await uploadFile(server, a.token, { bytes: randomBytes(10) });
      assertError(await call(server, "PUT", ME, { token: b.token, body: { avatarFileId: file.id } }), 400, "Invalid avatarFileId");
      assertError(await call(server, "PUT", ME, { token: b.token, body: { avatarFileId: file.id + 1 } }), 400, "Invalid avatarFileId");
      assertOk(await call(server, "PUT", ME, { token: a.token, body: { avatarFileId: file.id } }));
    } finally {
      await server.close();
    }
  });
});
