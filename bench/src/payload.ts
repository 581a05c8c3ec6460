import { nowMs } from './clock.js';

/** What every benchmark publication carries (~100 bytes as JSON). */
export interface Payload {
  /** Publisher id (unique in the run). */
  readonly p: number;
  /** Sequence number of this publisher, from 1. */
  readonly s: number;
  /** Publisher's clock when sent (`nowMs`). */
  readonly t: number;
  /** Padding. */
  readonly x: string;
}

const PAD = 'x'.repeat(40);

/** JSON text of a payload stamped now. */
export function payloadJson(publisher: number, seq: number): string {
  return `{"p":${publisher},"s":${seq},"t":${nowMs()},"x":"${PAD}"}`;
}
