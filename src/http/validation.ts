// Schema validation for every route (API.md §1.3): JSON bodies are strict ("5" is not a number),
// path and query parameters arrive as strings and are coerced. Errors name the offending field.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import type { FastifySchemaCompiler } from "fastify";

// ajv-formats ships CommonJS with a default export that NodeNext sees as the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  addFormats(ajv);
  return ajv;
}

const strictAjv = makeAjv(false);
const coercingAjv = makeAjv(true);

/**
 * Compiles a route's validator on its first request, not at start: ~90 routes compiled up front
 * would cost a large part of the start-up time.
 */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  let compiled: ValidateFunction | undefined;
  const validate = (data: unknown) => {
    compiled ??= (httpPart === "body" ? strictAjv : coercingAjv).compile(schema);
    const valid = compiled(data);
    validate.errors = compiled.errors;
    return valid;
  };
  validate.errors = null as ValidateFunction["errors"];
  return validate;
};

/** "roomId must be number", "telephoneNumber is required", "userIds/0 must be integer". */
export function describeValidationError(errors: ErrorObject[] | undefined): string {
  const e = errors?.[0];
  if (!e) return "Invalid params";
  const path = e.instancePath.replace(/^\//, "").replace(/\//g, ".");
  if (e.keyword === "required") {
    const field = (e.params as { missingProperty: string }).missingProperty;
    return `Invalid params: ${path ? `${path}.` : ""}${field} is required`;
  }
  const field = path || "body";
  if (e.keyword === "anyOf" || e.keyword === "oneOf") return `Invalid params: ${field} has an invalid type or value`;
  return `Invalid params: ${field} ${e.message ?? "is invalid"}`;
}

/**
 * The first field of the request (path parameter, query or body, nested too) whose name or
 * text holds a NUL character, named as validation errors name fields ("keyword", "body.text").
 */
export function fieldHoldingNul(...parts: unknown[]): string | null {
  const find = (value: unknown, path: string): string | null => {
    if (typeof value === "string") return value.includes("\0") ? path : null;
    if (value === null || typeof value !== "object") return null;
    for (const [key, inner] of Object.entries(value)) {
      const field = path ? `${path}.${key}` : key;
      if (key.includes("\0")) return JSON.stringify(field);
      const found = find(inner, field);
      if (found !== null) return found;
    }
    return null;
  };
  for (const part of parts) {
    const found = find(part, "");
    if (found !== null) return found || "body";
  }
  return null;
}
