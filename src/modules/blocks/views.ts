// Block rows → the Block model of API.md §2.5.
import Type from "typebox";
import { model } from "../../http/openapi.js";
import type { BlockRow } from "../../db/schema.js";

export const Block = model(
  "Block",
  Type.Object({
    id: Type.Integer(),
    blockedId: Type.Integer(),
    userId: Type.Integer(),
    createdAt: Type.Integer(),
  }),
);
export type BlockView = Type.Static<typeof Block>;

export const blockView = (b: BlockRow): BlockView => ({ id: b.id, blockedId: b.blockedId, userId: b.userId, createdAt: b.createdAt });
