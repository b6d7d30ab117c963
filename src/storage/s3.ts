// FileStore over an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Ceph RGW). Keys are
// object keys as they are; a PUT is atomic, so readers see the old object or the whole new one.
// Every instance of a deployment sees the same objects: chunks sent to one instance can be
// assembled by another. Network failures and 5xx answers of the store become
// StoreUnavailableError (503 for clients); nothing is buffered beyond one multipart part.
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type ListObjectsV2CommandOutput,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { Readable } from "node:stream";
import type { S3Config } from "../config.js";
import { StoreUnavailableError, type ByteRange, type FileStore, type PutOptions, type StoredObject } from "./index.js";

/** Part size of streamed uploads: memory per upload is a few parts; 10,000 parts reach 80 GB. */
const PART_SIZE = 8 * 1024 * 1024;
const PART_QUEUE = 2;
/** Lifetime of presigned download URLs. */
const PRESIGNED_SECONDS = 300;

const statusOf = (err: unknown) => (err instanceof S3ServiceException ? err.$metadata?.httpStatusCode : undefined);
const isMissing = (err: unknown) => statusOf(err) === 404 || (err as Error)?.name === "NoSuchKey" || (err as Error)?.name === "NotFound";

/** Store errors a client can do nothing about but retry later; anything else stays as it is. */
function unavailable(err: unknown, what: string): unknown {
  if (err instanceof StoreUnavailableError) return err;
  const status = statusOf(err);
  if (status === undefined || status >= 500 || status === 429) return new StoreUnavailableError(`object store unreachable while ${what}`, { cause: err });
  return err;
}

export class S3Store implements FileStore {
  readonly client: S3Client;

  constructor(private readonly config: S3Config) {
    // The pinned SDK runs on Node 20; its notice is about later releases, and would be the first
    // line of every start (the SDK's documented switch).
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    this.client = new S3Client({
      region: config.region,
      endpoint: config.endpoint || undefined,
      forcePathStyle: config.forcePathStyle,
      credentials: config.accessKeyId ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } : undefined,
      // MinIO, R2 and Ceph do not all accept the SDK's newer default CRC checksums.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      // A store that does not answer must turn into a 503 soon, not hang the request.
      requestHandler: { connectionTimeout: 5000, requestTimeout: 60_000 },
      maxAttempts: 2,
    });
  }

  private get bucket(): string {
    return this.config.bucket;
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw unavailable(err, what);
    }
  }

  async put(key: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<StoredObject> {
    const Metadata = opts.sha256 ? { sha256: opts.sha256 } : undefined;
    return this.run("writing", async () => {
      if (data instanceof Uint8Array) {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: data, ContentLength: data.length, Metadata }));
        return { size: data.length, modifiedAt: Date.now() };
      }
      let size = 0;
      const stream: AsyncIterable<Uint8Array> = data;
      async function* counted() {
        for await (const bytes of stream) {
          size += bytes.length;
          yield bytes;
        }
      }
      // Multipart for large bodies, one PUT for small ones; an error aborts the multipart upload.
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: Readable.from(counted()), Metadata },
        partSize: PART_SIZE,
        queueSize: PART_QUEUE,
      });
      await upload.done();
      return { size, modifiedAt: Date.now() };
    });
  }

  async get(key: string, range?: ByteRange): Promise<Readable | null> {
    return this.run("reading", async () => {
      try {
        const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
        return res.Body as Readable;
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    });
  }

  async stat(key: string): Promise<StoredObject | null> {
    return this.run("reading", async () => {
      try {
        const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
        return { size: res.ContentLength ?? 0, modifiedAt: res.LastModified?.getTime() ?? 0, sha256: res.Metadata?.sha256 };
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    });
  }

  async delete(key: string): Promise<void> {
    await this.run("deleting", () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  /** Every page of a listing below `prefix` (with `/` as delimiter when `shallow`). */
  private async *pages(prefix: string, shallow: boolean): AsyncGenerator<ListObjectsV2CommandOutput> {
    let ContinuationToken: string | undefined;
    do {
      const page = await this.run("listing", () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: shallow ? "/" : undefined, ContinuationToken })),
      );
      yield page;
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async list(prefix: string): Promise<string[]> {
    const names: string[] = [];
    for await (const page of this.pages(prefix, true)) {
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) names.push(p.Prefix.slice(prefix.length, -1));
      for (const o of page.Contents ?? []) if (o.Key && o.Key !== prefix) names.push(o.Key.slice(prefix.length));
    }
    return names;
  }

  async deletePrefix(prefix: string): Promise<void> {
    for await (const page of this.pages(prefix, false)) {
      const Objects = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (Objects.length === 0) continue;
      const res = await this.run("deleting", () => this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects, Quiet: true } })));
      if (res.Errors?.length) throw new Error(`could not delete ${res.Errors.length} objects below ${prefix}: ${res.Errors[0].Code}`);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) throw new Error(`S3_BUCKET=${this.bucket}: no such bucket${this.config.endpoint ? ` at ${this.config.endpoint}` : ""}`);
      if (status === 403 || status === 401) throw new Error(`S3_BUCKET=${this.bucket}: access denied with the configured credentials`);
      throw unavailable(err, "checking the bucket");
    }
  }

  async presignedUrl(key: string, headers: { contentType: string; contentDisposition: string }): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ResponseContentType: headers.contentType,
      ResponseContentDisposition: headers.contentDisposition,
    });
    return getSignedUrl(this.client, command, { expiresIn: PRESIGNED_SECONDS });
  }
}
