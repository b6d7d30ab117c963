// A finished upload in one chunk, for tests that need a real File to name (avatars, attachments).
import { createHash, randomBytes } from "node:crypto";
import { assertOk, call } from "./helpers.js";

let seq = 0;

/** Uploads `bytes` as one chunk and verifies it; returns the File. */
export async function uploadFile(server: { url: string }, token: string, opts: { bytes?: Buffer; mimeType?: string; type?: string } = {}): Promise<any> {
  const bytes = opts.bytes ?? randomBytes(64);
  const clientId = `up-${process.pid}-${Date.now()}-${++seq}`;
  assertOk(await call(server, "POST", "/api/upload/files", { token, body: { chunk: bytes.toString("base64"), offset: 0, clientId } }));
  const verify = await call(server, "POST", "/api/upload/files/verify", {
    token,
    body: {
      total: 1,
      size: bytes.length,
      mimeType: opts.mimeType ?? "application/octet-stream",
      fileName: "file.bin",
      clientId,
      type: opts.type ?? "message",
      fileHash: createHash("sha256").update(bytes).digest("hex"),
    },
  });
  return assertOk(verify).file;
}
