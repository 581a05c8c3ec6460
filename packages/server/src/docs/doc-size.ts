import type { DocPatch } from '@syncline/protocol';

/** Default `maxBytes` of a document namespace: 1 MiB of the document's JSON (UTF-8). */
export const DEFAULT_DOC_MAX_BYTES = 1024 * 1024;

/** Size of a value's JSON text in UTF-8 bytes (0 for a value JSON cannot represent). */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value);
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
}

/** A mutation's patches, JSON round-tripped, and what they do to the document's size. */
export interface SizedPatches {
  /** The forward patches as plain JSON values (what memory, storage and replicas get). */
  readonly patches: DocPatch[];
  /** Change of the document's JSON size, in bytes; exact up to `slackBytes`. */
  readonly deltaBytes: number;
  /** Most the true change can differ from `deltaBytes` (commas next to emptied or filled containers). */
  readonly slackBytes: number;
}

/**
 * Serializes a mutation's patches and measures, without serializing the
 * document, how much they grow or shrink it. The change is read from the
 * patches and their inverses (the values they replace or remove): each
 * `add` counts its value (plus key, colon and comma inside an object, comma
 * inside an array), each `replace` its value, and the inverse patches count
 * the same way with the opposite sign. Costs about the size of the change,
 * never of the document. Array `length` patches move nothing of their own
 * (the items they cut are in the inverse patches).
 */
export function sizePatches(forward: readonly DocPatch[], inverse: readonly DocPatch[]): SizedPatches {
  const parts: string[] = [];
  let deltaBytes = 0;
  let slackBytes = 0;
  for (const p of forward) {
    const path = JSON.stringify(p.path);
    const value = p.op === 'remove' ? undefined : JSON.stringify(p.value);
    parts.push(`{"op":${JSON.stringify(p.op)},"path":${path}${value === undefined ? '' : `,"value":${value}`}}`);
    const c = contribution(p, value);
    deltaBytes += c.bytes;
    slackBytes += c.slack;
  }
  for (const p of inverse) {
    const c = contribution(p, p.op === 'remove' ? undefined : JSON.stringify(p.value));
    deltaBytes -= c.bytes;
    slackBytes += c.slack;
  }
  const patches = parts.length === 0 ? [] : (JSON.parse(`[${parts.join(',')}]`) as DocPatch[]);
  return { patches, deltaBytes, slackBytes };
}

/** Bytes one patch puts into the document, and how far that may be off. */
function contribution(p: DocPatch, valueJson: string | undefined): { bytes: number; slack: number } {
  if (p.op === 'remove') return { bytes: 0, slack: 1 };
  const last = p.path[p.path.length - 1];
  const inArray = typeof last === 'number';
  if (valueJson === undefined) {
    // A value JSON drops (undefined, a function): `null` in an array, no entry in an object.
    return inArray ? { bytes: 4 + (p.op === 'add' ? 1 : 0), slack: 1 } : { bytes: 0, slack: keyBytes(last) + 2 };
  }
  const value = Buffer.byteLength(valueJson, 'utf8');
  if (p.op === 'replace') {
    if (last === 'length' && typeof p.value === 'number') return { bytes: 0, slack: value };
    return { bytes: value, slack: 0 };
  }
  if (last === undefined) return { bytes: value, slack: 0 };
  if (inArray) return { bytes: value + 1, slack: 1 };
  return { bytes: keyBytes(last) + 1 + value + 1, slack: 1 };
}

function keyBytes(key: string | number | undefined): number {
  return key === undefined ? 0 : jsonBytes(String(key));
}
