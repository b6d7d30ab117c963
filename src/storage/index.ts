// The file store behind uploads and downloads: a flat namespace of keys ("files/<name>",
// "chunks/<upload>/<index>", "tmp/<name>") holding bytes. local.ts keeps them in a folder
// (UPLOAD_DIR), s3.ts in an S3-compatible bucket (STORAGE=s3) shared by every instance.
import type { Readable } from "node:stream";
import { ConfigError, type Config } from "../config.js";
import { LocalStore } from "./local.js";

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredObject {
  size: number;
  /** Last write, epoch ms. */
  modifiedAt: number;
  /** The SHA-256 the writer recorded with the object (PutOptions), where the store keeps it. */
  sha256?: string;
}

export interface PutOptions {
  /** Recorded with the object (S3 metadata) so a later run can tell a finished copy. */
  sha256?: string;
}

/** The store cannot be reached or answers with a server error: clients get 503 and retry. */
export class StoreUnavailableError extends Error {}

export interface FileStore {
  /** Writes `data` under `key` atomically: readers see the old bytes or all of the new ones. */
  put(key: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts?: PutOptions): Promise<StoredObject>;
  /** The bytes of `key` (or of `range`), streamed; null when there is no such object. */
  get(key: string, range?: ByteRange): Promise<Readable | null>;
  stat(key: string): Promise<StoredObject | null>;
  /** Removes `key`; a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Names directly below `prefix` (a key prefix ending in "/"), in no particular order. */
  list(prefix: string): Promise<string[]>;
  /** Removes every key below `prefix`. */
  deletePrefix(prefix: string): Promise<void>;
  /** Resolves when the store answers; throws StoreUnavailableError when it cannot be reached. */
  ping(): Promise<void>;
  /** A local file path for `key` when the store is a local folder (lets tools read files in place). */
  localPath?(key: string): string;
  /** A short-lived URL that serves `key` directly from the store, with these response headers. */
  presignedUrl?(key: string, headers: { contentType: string; contentDisposition: string }): Promise<string>;
}

const stores = new WeakMap<Config, FileStore>();

/** Builds the store a configuration names (the S3 client is loaded only when configured). */
export async function createStore(config: Config): Promise<FileStore> {
  if (config.storage.kind === "local") return new LocalStore(config.uploadDir);
  const { S3Store } = await import("./s3.js");
  return new S3Store(config.storage);
}

/**
 * Opens the configured store for this server, once, at start. A missing bucket or refused
 * credentials stop the start (ConfigError); a store that is merely unreachable does not: file
 * routes answer 503 until it is back, everything else works.
 */
export async function openStore(config: Config, warn: (err: unknown) => void): Promise<FileStore> {
  const store = await createStore(config);
  try {
    await store.ping();
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw new ConfigError((err as Error).message);
    warn(err);
  }
  stores.set(config, store);
  return store;
}

/** The store opened for this server; a local folder needs no opening. */
export function storeFor(config: Config): FileStore {
  let store = stores.get(config);
  if (!store) {
    if (config.storage.kind !== "local") throw new Error("the S3 store is used before openStore()");
    store = new LocalStore(config.uploadDir);
    stores.set(config, store);
  }
  return store;
}
