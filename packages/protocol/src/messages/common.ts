import * as v from 'valibot';
import { MAX_NAME_LENGTH } from '../names.js';

/** Request id chosen by the client to correlate a reply; unique per connection while pending. */
export const RequestId = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER));

/** A channel or document name (its syntax is checked by the server with `parseName`). */
export const Name = v.pipe(v.string(), v.minLength(3), v.maxLength(MAX_NAME_LENGTH));

/** An opaque token string (JWT). */
export const Token = v.pipe(v.string(), v.minLength(1), v.maxLength(16_384));

/** A stream position: the epoch of a channel's history and the last offset seen. */
export const StreamPosition = v.object({
  epoch: v.pipe(v.string(), v.maxLength(64)),
  offset: v.pipe(v.number(), v.integer(), v.minValue(0)),
});

/** A JSON value (any value the codec produced). */
export const Json = v.unknown();
