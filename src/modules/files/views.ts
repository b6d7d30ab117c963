// File rows → the File model of API.md §2.5.
import Type from "typebox";
import { model } from "../../http/openapi.js";
import type { FileRow } from "../../db/schema.js";
import { Nullable } from "../../http/schema.js";

export const MetaData = model("MetaData", Type.Object({ duration: Type.Integer(), width: Type.Integer(), height: Type.Integer() }));

export const File = model(
  "File",
  Type.Object({
    id: Type.Integer(),
    fileName: Type.String(),
    size: Type.Number(),
    mimeType: Type.String(),
    type: Type.String(),
    relationId: Nullable(Type.Integer()),
    clientId: Type.String(),
    path: Type.String(),
    metaData: MetaData,
    createdAt: Type.Integer(),
  }),
);
export type FileView = Type.Static<typeof File>;

/** Where a stored file is reachable as a static path (§1.1). */
export const publicPath = (clientId: string) => `/uploads/files/${clientId}`;

export function fileView(f: FileRow): FileView {
  return {
    id: f.id,
    fileName: f.fileName,
    size: Number(f.size),
    mimeType: f.mimeType,
    type: f.type,
    relationId: f.relationId === null ? null : Number(f.relationId),
    clientId: f.clientId,
    path: f.path,
    metaData: { duration: f.metaDuration, width: f.metaWidth, height: f.metaHeight },
    createdAt: Number(f.createdAt),
  };
}
