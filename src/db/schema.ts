// Table types as Kysely sees them. Columns are snake_case in the database and camelCase here
// (CamelCasePlugin). Booleans are 0/1 integers and times are epoch milliseconds on both
// engines, so one query means the same on SQLite and PostgreSQL.
import type { Generated, Selectable, Updateable } from "kysely";

type Bool = 0 | 1;

/** The largest value of an `integer` column (32 bits on PostgreSQL); what is larger is clamped or refused before it is written. */
export const MAX_INT32 = 2147483647;

export interface UsersTable {
  id: Generated<number>;
  displayName: string | null;
  avatarFileId: Generated<number>;
  telephoneNumber: string | null;
  telephoneNumberHashed: string | null;
  emailAddress: string | null;
  verified: Generated<Bool>;
  isBot: Generated<Bool>;
  deleted: Generated<Bool>;
  shortDescription: string | null;
  longDescription: string | null;
  coverFileId: number | null;
  webhookUrl: string | null;
  verificationCodeHash: string | null;
  verificationCodeExpiresAt: number | null;
  verificationAttempts: Generated<number>;
  createdAt: number;
  modifiedAt: number;
}

export interface DevicesTable {
  id: Generated<number>;
  userId: number;
  deviceId: string;
  type: string | null;
  osName: string | null;
  osVersion: string | null;
  appVersion: string | null;
  deviceName: string | null;
  pushToken: string | null;
  tokenHash: string | null;
  tokenExpiredAt: number | null;
  createdAt: number;
  modifiedAt: number;
}

export interface ContactsTable {
  id: Generated<number>;
  userId: number;
  contactId: number;
  createdAt: number;
  /** Last time the requester's phone book confirmed this contact (§3.4 pruning). */
  modifiedAt: number;
}

export interface RoomsTable {
  id: Generated<number>;
  type: string;
  name: string;
  avatarFileId: Generated<number>;
  deleted: Generated<Bool>;
  lastMessageId: number | null;
  lastMessageAt: number | null;
  /** Messages ever created in the room (history counts without scanning). */
  messageCount: Generated<number>;
  createdAt: number;
  modifiedAt: number;
}

export interface RoomUsersTable {
  id: Generated<number>;
  roomId: number;
  userId: number;
  isAdmin: Generated<Bool>;
  /** Every message of the room with id <= this has a `seen` record by the user (§9.4). */
  seenMessageId: Generated<number>;
  /** Last change of the user's mute/pin state for the room (room sync, §4.11). */
  settingsModifiedAt: number;
  /** rooms.message_count when the user joined: the member's history count is the difference. */
  messageCountAtJoin: Generated<number>;
  /** Join time: the member sees only messages created at or after it. */
  createdAt: number;
  modifiedAt: number;
}

export interface MessagesTable {
  id: Generated<number>;
  roomId: number;
  fromUserId: number;
  fromDeviceId: number | null;
  type: string;
  /** JSON text of the body as sent (file objects are added on read). */
  body: string;
  localId: string | null;
  replyId: number | null;
  totalUserCount: number;
  deliveredCount: Generated<number>;
  seenCount: Generated<number>;
  deleted: Generated<Bool>;
  isForwarded: Generated<Bool>;
  hasLink: Generated<Bool>;
  createdAt: number;
  modifiedAt: number;
}

/**
 * Per-user exceptions to the shared message row (see docs/messages.md):
 * `deleted` = deleted for that user only; `hidden` = never delivered (a block applied).
 */
export interface MessageExceptionsTable {
  id: Generated<number>;
  messageId: number;
  roomId: number;
  userId: number;
  kind: "deleted" | "hidden";
  createdAt: number;
  modifiedAt: number;
}

export interface MessageRecordsTable {
  id: Generated<number>;
  messageId: number;
  roomId: number;
  userId: number;
  type: "seen" | "delivered" | "reaction";
  reaction: string | null;
  isDeleted: Generated<Bool>;
  createdAt: number;
  modifiedAt: number;
}

export interface FilesTable {
  id: Generated<number>;
  clientId: string;
  userId: number | null;
  fileName: string;
  size: number;
  mimeType: string;
  type: string;
  relationId: number | null;
  path: string;
  sha256: string;
  metaDuration: Generated<number>;
  metaWidth: Generated<number>;
  metaHeight: Generated<number>;
  createdAt: number;
  modifiedAt: number;
}

export interface UploadsTable {
  id: Generated<number>;
  clientId: string;
  userId: number;
  /** `open` while chunks arrive, `verifying` while one verify assembles it. */
  status: "open" | "verifying";
  createdAt: number;
  modifiedAt: number;
}

/** One chunk of an upload in progress; its bytes are at `chunks/<upload dir>/<idx>` in the store. */
export interface UploadChunksTable {
  uploadId: number;
  idx: number;
  size: number;
}

export interface NotesTable {
  id: Generated<number>;
  roomId: number;
  userId: number | null;
  title: string;
  content: string;
  createdAt: number;
  modifiedAt: number;
}

export interface WebhooksTable {
  id: Generated<number>;
  roomId: number;
  url: string;
  verifySignature: string;
  createdAt: number;
  modifiedAt: number;
}

export interface ApiKeysTable {
  id: Generated<number>;
  roomId: number;
  userId: number;
  /** The key is shown to room admins (Spika clients list it), so it is kept; lookups use the hash. */
  token: string;
  tokenHash: string;
  createdAt: number;
  modifiedAt: number;
}

export interface BlocksTable {
  id: Generated<number>;
  userId: number;
  blockedId: number;
  createdAt: number;
  modifiedAt: number;
}

export interface UserSettingsTable {
  id: Generated<number>;
  userId: number;
  key: string;
  value: string;
  createdAt: number;
  modifiedAt: number;
}

export interface JobsTable {
  id: Generated<number>;
  kind: string;
  /** JSON text. */
  payload: string;
  status: Generated<"pending" | "running" | "done" | "failed">;
  attempts: Generated<number>;
  maxAttempts: number;
  runAt: number;
  lockedAt: number | null;
  lockedBy: string | null;
  lastError: string | null;
  createdAt: number;
  modifiedAt: number;
}

export interface DeploymentTable {
  id: number;
  /** Random, written once by migration 002: names this deployment outside the database. */
  name: string;
}

/** One fixed window of one rate limit (migration 003). */
export interface RateLimitsTable {
  key: string;
  hits: number;
  /** Epoch ms when this window ends; the next hit after it starts a new one. */
  resetAt: number;
}

/** A management sign-in (005): only the hash of the token is kept. */
export interface AdminTokensTable {
  tokenHash: string;
  username: string;
  createdAt: number;
  expiresAt: number;
}

/** Who changed what through the management API or `spika admin` (005). */
export interface AuditLogTable {
  id: Generated<number>;
  /** `admin:<username>` or `cli:<os user>`. */
  actor: string;
  action: string;
  targetType: string;
  targetId: number | null;
  /** JSON text. */
  details: string | null;
  createdAt: number;
}

export interface DB {
  deployment: DeploymentTable;
  rateLimits: RateLimitsTable;
  adminTokens: AdminTokensTable;
  auditLog: AuditLogTable;
  users: UsersTable;
  devices: DevicesTable;
  contacts: ContactsTable;
  rooms: RoomsTable;
  roomUsers: RoomUsersTable;
  messages: MessagesTable;
  messageExceptions: MessageExceptionsTable;
  messageRecords: MessageRecordsTable;
  files: FilesTable;
  uploads: UploadsTable;
  uploadChunks: UploadChunksTable;
  notes: NotesTable;
  webhooks: WebhooksTable;
  apiKeys: ApiKeysTable;
  blocks: BlocksTable;
  userSettings: UserSettingsTable;
  jobs: JobsTable;
}

export type UserRow = Selectable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type DeviceRow = Selectable<DevicesTable>;
export type RoomRow = Selectable<RoomsTable>;
export type RoomUserRow = Selectable<RoomUsersTable>;
export type MessageRow = Selectable<MessagesTable>;
export type MessageRecordRow = Selectable<MessageRecordsTable>;
export type FileRow = Selectable<FilesTable>;
export type NoteRow = Selectable<NotesTable>;
export type WebhookRow = Selectable<WebhooksTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type BlockRow = Selectable<BlocksTable>;
export type JobRow = Selectable<JobsTable>;
export type AuditLogRow = Selectable<AuditLogTable>;
