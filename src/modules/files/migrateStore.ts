// `spika storage migrate --to s3`: copies the bytes of every registered file from one store (the
// local UPLOAD_DIR) into another (the bucket), checking each file's SHA-256 against its row on the
// way. Resumable and idempotent: a copy carries the checked hash as metadata, and a file whose
// copy is already there with that hash and size is skipped, so a second run copies nothing.
import { createHash } from "node:crypto";
import type { Db } from "../../db/index.js";
import type { FileStore } from "../../storage/index.js";
import { fileKey } from "./actions.js";
import { filesAfter } from "./queries.js";

const PAGE = 500;

export interface MigrationReport {
  copied: number;
  skipped: number;
  /** Rows whose bytes the source does not have. */
  missing: string[];
  /** Rows whose bytes in the source do not have the recorded hash (not copied). */
  corrupt: string[];
}

export async function copyFiles(db: Db, source: FileStore, target: FileStore, progress: (line: string) => void): Promise<MigrationReport> {
  const report: MigrationReport = { copied: 0, skipped: 0, missing: [], corrupt: [] };
  for (let after = 0; ; ) {
    const page = await filesAfter(db, after, PAGE);
    if (page.length === 0) return report;
    for (const file of page) {
      const key = fileKey(file.clientId);
      const there = await target.stat(key);
      if (there && there.sha256 === file.sha256 && there.size === Number(file.size)) {
        report.skipped++;
        continue;
      }
      const bytes = await source.get(key);
      if (!bytes) {
        report.missing.push(key);
        progress(`missing in the source: ${key} (file ${file.id})`);
        continue;
      }
      const hash = createHash("sha256");
      async function* hashed() {
        for await (const chunk of bytes!) {
          hash.update(chunk as Buffer);
          yield chunk as Buffer;
        }
      }
      await target.put(key, hashed(), { sha256: file.sha256 });
      if (hash.digest("hex") !== file.sha256) {
        // The copy claims a hash it does not have: never leave it for a later run to skip.
        await target.delete(key);
        report.corrupt.push(key);
        progress(`hash mismatch, not copied: ${key} (file ${file.id})`);
        continue;
      }
      report.copied++;
    }
    after = Number(page[page.length - 1].id);
    progress(`${report.copied} copied, ${report.skipped} already there (up to file ${after})`);
  }
}
