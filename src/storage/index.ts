// The file store behind uploads and downloads: a flat namespace of keys ("files/<name>",
// "chunks/<upload>/<index>", "tmp/<name>") holding bytes. The local-folder implementation lives
// in local.ts; an S3-compatible one can implement the same interface.
import type { Readable } from "node:stream";
import type { Config } from "../config.js";
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
}

export interface FileStore {
  /** Writes `data` under `key` atomically: readers see the old bytes or all of the new ones. */
  put(key: string, data: Uint8Array | AsyncIterable<Uint8Array>): Promise<StoredObject>;
  /** The bytes of `key` (or of `range`), streamed; null when there is no such object. */
  get(key: string, range?: ByteRange): Promise<Readable | null>;
  stat(key: string): Promise<StoredObject | null>;
  /** Removes `key`; a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Renames `from` to `to`; fails if `to` exists. */
  move(from: string, to: string): Promise<void>;
  /** Names directly below `prefix` (a key prefix ending in "/"), in no particular order. */
  list(prefix: string): Promise<string[]>;
  /** Removes every key below `prefix`. */
  deletePrefix(prefix: string): Promise<void>;
  /** A local file path for `key` when the store is a local folder (lets tools read files in place). */
  localPath?(key: string): string;
}

const stores = new WeakMap<Config, FileStore>();

/** The store configured for this server (one instance per config). */
export function storeFor(config: Config): FileStore {
  let store = stores.get(config);
  if (!store) {
    store = new LocalStore(config.uploadDir);
    stores.set(config, store);
  }
  return store;
}
