// The worker's upkeep between jobs: SQLite's search index, written in batches
// (src/modules/navigation/searchIndex.ts).
import type { AppContext } from "../../context.js";
import { indexNewMessages } from "../../modules/navigation/searchIndex.js";

export const searchIndexUpkeep = (ctx: AppContext) => () => indexNewMessages(ctx);
