// API key rows (with their bot user) → the ApiKey model of API.md §2.5.
import Type from "typebox";
import { model } from "../../http/openapi.js";
import type { ApiKeyRow, UserRow } from "../../db/schema.js";
import { Nullable } from "../../http/schema.js";

export const ApiKey = model(
  "ApiKey",
  Type.Object({
    id: Type.Integer(),
    displayName: Nullable(Type.String()),
    token: Type.String(),
    avatarFileId: Type.Integer(),
    roomId: Type.Integer(),
    userId: Type.Integer(),
    createdAt: Type.Integer(),
    modifiedAt: Type.Integer(),
  }),
);
export type ApiKeyView = Type.Static<typeof ApiKey>;

export type ApiKeyWithBot = ApiKeyRow & Pick<UserRow, "displayName" | "avatarFileId">;

export const apiKeyView = (k: ApiKeyWithBot): ApiKeyView => ({
  id: k.id,
  displayName: k.displayName,
  token: k.token,
  avatarFileId: k.avatarFileId,
  roomId: k.roomId,
  userId: k.userId,
  createdAt: k.createdAt,
  modifiedAt: k.modifiedAt,
});
