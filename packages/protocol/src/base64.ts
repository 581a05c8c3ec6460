/**
 * Standard base64 (RFC 4648 §4, with padding) for binary frames carried as
 * text: the HTTP transports put each MessagePack frame on one line as base64.
 * Node's `Buffer` when there is one, else `btoa`/`atob` (browsers).
 */

interface BufferLike {
  from(data: ArrayBufferLike, offset: number, length: number): Uint8Array & { toString(encoding: string): string };
  from(data: string, encoding: string): Uint8Array;
}

const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** `bytes` as base64 text. */
export function encodeBase64(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let s = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    s += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(s);
}

/** The bytes of base64 `text`; throws on anything that is not base64. */
export function decodeBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0 || !BASE64_RE.test(text)) throw new Error('Not base64.');
  if (NodeBuffer) {
    const b = NodeBuffer.from(text, 'base64');
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
