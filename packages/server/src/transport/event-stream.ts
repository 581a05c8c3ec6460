import { encodeBase64 } from '@syncline/protocol';

/**
 * Text/event-stream framing shared by the SSE stream and long-poll responses:
 * each frame is one event; a frame with line breaks (never the case for JSON
 * frames) is split over several `data:` lines, which readers join with `\n`.
 * Binary frames (MessagePack) are carried as base64 text.
 */

/** Formats one event. `event` omitted means the default (`message`) event. */
export function formatEvent(data: string, event?: string): string {
  const head = event === undefined ? '' : `event: ${event}\n`;
  if (!data.includes('\n') && !data.includes('\r')) return `${head}data: ${data}\n\n`;
  return `${head}${data
    .split(/\r\n|\r|\n/)
    .map((l) => `data: ${l}\n`)
    .join('')}\n`;
}

/** The final event of a session: why it ended. */
export function formatCloseEvent(code: number, reason: string): string {
  return formatEvent(JSON.stringify({ code, reason }), 'close');
}

/** The last binary frame given to `frameText` and its base64 (a fan-out hands every session the same bytes). */
let lastBytes: Uint8Array | undefined;
let lastBase64 = '';

/** A frame as event text: text frames as they are, binary frames as base64. */
export function frameText(frame: string | Uint8Array): string {
  if (typeof frame === 'string') return frame;
  if (frame !== lastBytes) {
    lastBytes = frame;
    lastBase64 = encodeBase64(frame);
  }
  return lastBase64;
}
