/** A numeric option's default and bounds. */
export interface CountLimit {
  readonly default: number;
  readonly max: number;
}

/** `syncline channels --limit` (the API allows up to 10,000). */
export const CHANNELS_LIMIT: CountLimit = { default: 100, max: 10_000 };

/** `syncline history --limit` (the API allows up to 1,000 per call). */
export const HISTORY_LIMIT: CountLimit = { default: 100, max: 1_000 };

/** `syncline presence --limit`: members printed (the API answers the whole set). */
export const PRESENCE_LIMIT: CountLimit = { default: 100, max: 10_000 };

/** Characters of a document's state that `syncline doc` prints as text (`--json` prints all). */
export const DOC_TEXT_MAX_CHARS = 64 * 1024;

/** Characters of one table cell before it is cut with `…`. */
export const CELL_MAX_CHARS = 80;

/** How long an HTTP API call may take before the CLI gives up. */
export const API_TIMEOUT_MS = 10_000;

/** Largest API answer the CLI reads (1,000 publications of 64 KiB fit). */
export const MAX_RESPONSE_BYTES = 96 * 1024 * 1024;
