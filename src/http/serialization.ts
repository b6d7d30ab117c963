// Response serializers from the route schemas (fast-json-stringify), compiled on first use:
// compiling every route's serializers at start would cost a large part of the start-up time.
import fastJson from "fast-json-stringify";
import type { FastifySerializerCompiler } from "fastify/types/schema.js";

export const serializerCompiler: FastifySerializerCompiler<object> = ({ schema }) => {
  let compiled: ((data: unknown) => string) | undefined;
  return (data: unknown) => (compiled ??= fastJson(schema as Parameters<typeof fastJson>[0]))(data);
};
