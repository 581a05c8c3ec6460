import { ERROR_CODES, type ErrorCode, PROTOCOL_VERSION } from '@syncline/protocol';
import { toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import type { ApiRoute } from './api-route.js';
import { ErrorResponse } from './api-schemas.js';
import { httpStatusFor } from './router.js';

type JsonObject = Record<string, unknown>;

function schemaOf(schema: v.GenericSchema): JsonObject {
  const json = toJsonSchema(schema, { target: 'draft-2020-12', errorMode: 'ignore' }) as JsonObject;
  const { $schema: _drop, ...rest } = json;
  return rest;
}

function openApiPath(path: string): string {
  return path
    .split('/')
    .map((p) => (p.startsWith(':') ? `{${p.slice(1)}}` : p))
    .join('/');
}

/**
 * Builds the OpenAPI 3.1 document of the HTTP API from the same valibot
 * schemas the routes validate with.
 */
export function buildOpenApi(routes: readonly ApiRoute[]): JsonObject {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const parameters: JsonObject[] = [];
    for (const [name, schema] of Object.entries(r.params ?? {})) {
      parameters.push({ name, in: 'path', required: true, schema: schemaOf(schema) });
    }
    if (r.query) {
      const q = schemaOf(r.query) as { properties?: Record<string, JsonObject>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        const { description, ...rest } = schema;
        parameters.push({
          name,
          in: 'query',
          required: q.required?.includes(name) ?? false,
          schema: rest,
          ...(description === undefined ? {} : { description }),
        });
      }
    }
    const responses: Record<string, unknown> = {
      '200': { description: 'OK', content: { 'application/json': { schema: schemaOf(r.response) } } },
    };
    const byStatus = new Map<number, ErrorCode[]>();
    const codes: ErrorCode[] = ['unauthorized', ...r.errors, 'internal'];
    for (const code of codes) {
      const status = httpStatusFor(code);
      byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    }
    for (const [status, codes] of byStatus) {
      responses[String(status)] = {
        description: codes.map((c) => `\`${c}\`: ${ERROR_CODES[c].description}`).join('\n\n'),
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    const op: JsonObject = {
      operationId: r.operationId,
      summary: r.summary,
      security: [{ apiKey: [] }],
      responses,
    };
    if (parameters.length > 0) op.parameters = parameters;
    if (r.body) {
      op.requestBody = {
        required: r.bodyOptional !== true,
        content: { 'application/json': { schema: schemaOf(r.body) } },
      };
    }
    const path = openApiPath(r.path);
    paths[path] = { ...(paths[path] ?? {}), [r.method.toLowerCase()]: op };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Syncline HTTP API',
      version: `1 (protocol ${PROTOCOL_VERSION})`,
      description:
        'Server API of a Syncline node: publish, history, presence, channels, documents, user disconnect/revocation, user messages and app version announcements. Authenticate with `Authorization: Bearer <api key>`.',
    },
    paths,
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'The server `apiKey`.' } },
      schemas: { Error: schemaOf(ErrorResponse) },
    },
  };
}
