/**
 * The OpenAPI 3.1 document, generated from the route table (routes.ts) and its zod schemas
 * (src/protocol/schemas.ts): the same schemas validate the requests, so the document cannot
 * drift from what the service accepts and answers. Served at /openapi.json.
 * @module
 */
import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from '../errors.ts';
import { ProblemSchema } from '../protocol/schemas.ts';
import type { Route } from './routes.ts';

/** JSON Schema 2020-12 of a zod schema, without its $schema line (OpenAPI 3.1 embeds it). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** The error codes a status can carry (docs/api.md). */
const codesOf = (status: number) => (Object.entries(ERROR_STATUS) as Array<[ErrorCode, number]>).filter(([, s]) => s === status).map(([c]) => c);

function parameters(r: Route): unknown[] {
  const out: unknown[] = [];
  const add = (schema: z.ZodType | undefined, where: 'path' | 'query' | 'header') => {
    if (!schema) return;
    const s = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, prop] of Object.entries(s.properties ?? {})) out.push({ name, in: where, required: where === 'path' || (s.required ?? []).includes(name), schema: prop });
  };
  add(r.params, 'path');
  add(r.query, 'query');
  add(r.headers, 'header');
  return out;
}

/** The OpenAPI document of `table`. */
export function openApiDocument(table: readonly Route[]): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of table) {
    const path = r.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const responses: Record<string, unknown> = {
      [String(r.ok.status)]: r.ok.schema
        ? { description: r.ok.description, content: { 'application/json': { schema: jsonSchema(r.ok.schema, 'output') } } }
        : { description: r.ok.description, content: { [r.ok.contentType ?? 'application/octet-stream']: {} } },
    };
    for (const status of r.errors) responses[String(status)] = { description: `problem+json, code ${codesOf(status).join(' | ')}`, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
    if (!r.always && !responses['503']) responses['503'] = { description: 'problem+json, code unavailable: the service is starting', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
    const operation: Record<string, unknown> = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      ...(r.admin ? { security: [{ admin: [] }] } : {}),
      ...(parameters(r).length ? { parameters: parameters(r) } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { [r.body.contentType]: { schema: r.body.contentType === 'application/json' ? jsonSchema(r.body.schema, 'input') : { type: 'string', format: 'binary' } } },
            },
          }
        : {}),
      responses,
    };
    (paths[path] ??= {})[r.method] = operation;
  }
  paths['/openapi.json'] = { get: { operationId: 'getOpenApi', summary: 'This document', tags: ['operations'], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } };
  return {
    openapi: '3.1.0',
    info: { title: 'zktrust aggregator', version: '0.1.0', description: 'Signed ingestion of outcome-record commitments, a transparency log, proven batches, threshold presentations, key sets and the organisations\' ceremony (docs/api.md).' },
    components: {
      securitySchemes: { admin: { type: 'http', scheme: 'bearer' } },
      schemas: { Problem: jsonSchema(ProblemSchema, 'output') },
    },
    paths,
  };
}
