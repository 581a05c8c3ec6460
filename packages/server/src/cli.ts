#!/usr/bin/env node
import { ApiCallError } from './cli/api-client.js';
import { fail, refuse } from './cli/exit.js';
import { INSPECT_COMMANDS } from './cli/inspect-commands.js';
import { startCommand } from './cli/start-command.js';
import { terminalSafe } from './cli/text-format.js';
import { tokenCommand } from './cli/token-command.js';
import { USAGE } from './cli/usage.js';
import { serverVersion } from './server-version.js';

const COMMANDS: Readonly<Record<string, (argv: string[]) => Promise<void>>> = {
  start: startCommand,
  token: tokenCommand,
  ...INSPECT_COMMANDS,
};

const HELP: ReadonlySet<string> = new Set(['help', '--help', '-h']);
const VERSION: ReadonlySet<string> = new Set(['version', '--version', '-v']);

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  // `syncline start --help` is help too, not an unknown option of `start`.
  if (command === undefined || HELP.has(command) || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (VERSION.has(command)) {
    process.stdout.write(`${serverVersion()}\n`);
    return;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) fail(`unknown command "${command}"`);
  if (command !== 'start') {
    // A one-shot command piped into one that stops reading (`| head`) ends quietly.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
  return run(rest);
}

main().catch((err: unknown) => {
  const e = err as { code?: unknown; message?: unknown };
  // Unknown or malformed options are a usage mistake (exit 2), like a bad value.
  if (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) fail(String(e.message));
  if (err instanceof ApiCallError) {
    // An error answer of the HTTP API: its code, status and message.
    const status = err.status === 0 ? '' : ` (HTTP ${err.status})`;
    refuse(terminalSafe(`${err.code}${status}: ${err.message}`));
  }
  refuse(err instanceof Error ? err.message : String(err));
});
