import type { IncomingMessage } from 'node:http';
import { jsonDepthExceeds, MAX_JSON_DEPTH, SynclineError } from '@syncline/protocol';
import * as v from 'valibot';
import { readBody } from './router.js';

type AnySchema = v.GenericSchema;

function invalid(where: string, issues: readonly v.BaseIssue<unknown>[]): SynclineError {
  const issue = issues[0];
  const path = issue?.path?.map((p) => String(p.key)).join('.') ?? '';
  const at = path ? ` at "${path}"` : '';
  return new SynclineError('invalid_request', `Invalid ${where}${at}: ${issue?.message ?? 'invalid'}`, {
    details: { path, in: where },
  });
}

/** Validates a value against a schema; throws `invalid_request` naming the field. */
export function validate<S extends AnySchema>(schema: S, value: unknown, where: string): v.InferOutput<S> {
  const res = v.safeParse(schema, value);
  if (!res.success) throw invalid(where, res.issues);
  return res.output;
}

/**
 * Reads a JSON body of at most `maxBytes` (`frame_too_large` beyond) and
 * validates it; an empty body counts as `{}` when `emptyIsObject`.
 */
export async function readJsonBody<S extends AnySchema>(
  req: IncomingMessage,
  schema: S,
  maxBytes: number,
  emptyIsObject = false,
): Promise<v.InferOutput<S>> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw new SynclineError('frame_too_large', `Request body exceeds ${maxBytes} bytes.`, {
      details: { limit: maxBytes },
    });
  }
  const buf = await readBody(req, maxBytes);
  const text = buf.toString('utf8');
  let raw: unknown;
  if (text.trim() === '') {
    if (!emptyIsObject) throw new SynclineError('invalid_request', 'A JSON request body is required.');
    raw = {};
  } else {
    try {
      raw = JSON.parse(text);
    } catch {
      throw new SynclineError('invalid_request', 'The request body is not valid JSON.');
    }
    assertJsonDepth(raw, text.length);
  }
  return validate(schema, raw, 'body');
}

/** Throws `invalid_request` when a parsed JSON body nests deeper than `MAX_JSON_DEPTH`. */
export function assertJsonDepth(value: unknown, textLength: number): void {
  if (jsonDepthExceeds(value, MAX_JSON_DEPTH, textLength)) {
    throw new SynclineError('invalid_request', `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`, {
      details: { path: '', in: 'body', limit: MAX_JSON_DEPTH },
    });
  }
}

/** Validates the query string of a request. */
export function readQuery<S extends AnySchema>(req: IncomingMessage, schema: S): v.InferOutput<S> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const raw: Record<string, string> = {};
  for (const [k, val] of url.searchParams) raw[k] = val;
  return validate(schema, raw, 'query');
}
