// FileStore over a local folder (UPLOAD_DIR). Keys map to paths below the root; every write
// goes to root/tmp first and is renamed into place, so a reader never sees half a file.
import { createReadStream, createWriteStream, open as openCallback } from "node:fs";
import { mkdir, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { StoreUnavailableError, type ByteRange, type FileStore, type StoredObject } from "./index.js";

const openFd = promisify(openCallback);

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException)?.code === "ENOENT";

export class LocalStore implements FileStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Keys are "/"-separated segments; nothing may climb out of the root. */
  localPath(key: string): string {
    const parts = key.split("/");
    for (const p of parts) {
      if (p === "" || p === "." || p === ".." || p.includes("\\") || p.includes("\0")) throw new Error(`invalid storage key: ${JSON.stringify(key)}`);
    }
    const path = join(this.root, ...parts);
    if (!path.startsWith(this.root + sep)) throw new Error(`invalid storage key: ${JSON.stringify(key)}`);
    return path;
  }

  private dirPath(prefix: string): string {
    return this.localPath(prefix.replace(/\/+$/, ""));
  }

  private tempPath(): string {
    return join(this.root, "tmp", `.${Date.now()}-${randomBytes(8).toString("hex")}.part`);
  }

  async put(key: string, data: Uint8Array | AsyncIterable<Uint8Array>): Promise<StoredObject> {
    const path = this.localPath(key);
    const temp = this.tempPath();
    await mkdir(join(this.root, "tmp"), { recursive: true });
    try {
      await pipeline(data instanceof Uint8Array ? [data] : data, createWriteStream(temp, { flags: "wx" }));
      await mkdir(join(path, ".."), { recursive: true });
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw err;
    }
    const s = await stat(path);
    return { size: s.size, modifiedAt: s.mtimeMs };
  }

  async get(key: string, range?: ByteRange): Promise<Readable | null> {
    const path = this.localPath(key);
    let fd: number;
    try {
      fd = await openFd(path, "r");
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    // A numeric fd (not a FileHandle stream): its end follows the last bytes at once, so an
    // HTTP response finishes as soon as the client has everything.
    return createReadStream(path, { fd, autoClose: true, ...(range ? { start: range.start, end: range.end } : {}) });
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const s = await stat(this.localPath(key));
      return s.isFile() ? { size: s.size, modifiedAt: s.mtimeMs } : null;
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === "ENOTDIR") return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.localPath(key));
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    try {
      return await readdir(this.dirPath(prefix));
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === "ENOTDIR") return [];
      throw err;
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    await rm(this.dirPath(prefix), { recursive: true, force: true });
  }

  /** The folder is created on the first write; one that exists must be readable. */
  async ping(): Promise<void> {
    try {
      await stat(this.root);
    } catch (err) {
      if (!isMissing(err)) throw new StoreUnavailableError(`UPLOAD_DIR ${this.root} cannot be read`, { cause: err });
    }
  }
}
