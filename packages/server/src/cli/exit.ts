import { USAGE } from './usage.js';

/** Exit code of a command line the CLI does not understand (usage is printed). */
export const EXIT_USAGE = 2;

/** Exit code of a command that ran and failed (refused to start, API error). */
export const EXIT_FAILURE = 1;

/** Prints a bad-arguments message with the usage, and exits 2. */
export function fail(message: string): never {
  process.stderr.write(`syncline: ${message}\n\n${USAGE}\n`);
  process.exit(EXIT_USAGE);
}

/** Prints a one-line reason (no usage: the arguments were fine), and exits 1. */
export function refuse(message: string): never {
  process.stderr.write(`syncline: ${message}\n`);
  process.exit(EXIT_FAILURE);
}
