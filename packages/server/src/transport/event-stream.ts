/**
 * Text/event-stream framing shared by the SSE stream and long-poll responses:
 * each frame is one event; a frame with line breaks (never the case for JSON
 * frames) is split over several `data:` lines, which readers join with `\n`.
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

/** Frames as text (binary frames are not carried by the HTTP transports; the JSON codec is text). */
export function frameText(frame: string | Uint8Array): string {
  return typeof frame === 'string' ? frame : new TextDecoder().decode(frame);
}
