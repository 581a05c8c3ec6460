/**
 * `npm run start:python`: the Python backend on 127.0.0.1:8000, then Syncline
 * on 127.0.0.1:8787 serving the chat built for it (examples/chat/dist-python),
 * wired to the backend by chat.config.ts (syncline.config.json and the chat's
 * documents). Ctrl-C stops both; so does either one exiting.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const HERE = import.meta.dirname;
const ROOT = join(HERE, '..', '..');
const PYTHON = process.env.PYTHON ?? 'python3';
const CLI = join(ROOT, 'packages', 'server', 'dist', 'cli.js');
const CHAT = join(ROOT, 'examples', 'chat', 'dist-python');

for (const [path, hint] of [
  [CLI, 'npm run build'],
  [CHAT, 'npm run build:python -w syncline-example-chat'],
]) {
  if (!existsSync(path)) {
    console.error(`${path} is missing: run \`${hint}\` first (npm run start:python does both).`);
    process.exit(1);
  }
}

/** The children, each in its own process group: a Ctrl-C reaches them once, from here. */
const children = [];

const running = (child) => child.exitCode === null && child.signalCode === null;

function start(command, args) {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  children.push(child);
  child.stdout.pipe(process.stdout);
  child.on('error', (err) => {
    console.error(`could not start ${command}: ${err.message}`);
    stop(1);
  });
  child.on('exit', (code, signal) => {
    if (exitCode === undefined) console.error(`${command} exited (${signal ?? code}); stopping.`);
    stop(code ?? 1);
  });
  return child;
}

/** The exit code once stopping: the first child's that exited, or 0 after Ctrl-C. */
let exitCode;
function stop(code) {
  if (exitCode === undefined) {
    exitCode = code;
    // SIGINT: Syncline closes at once (SIGTERM would drain its connections first).
    for (const child of children) if (running(child)) child.kill('SIGINT');
  }
  if (!children.some(running)) process.exit(exitCode);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
process.on('exit', () => {
  for (const child of children) if (running(child)) child.kill('SIGKILL');
});

const backend = start(PYTHON, [join(HERE, 'backend.py'), '--port', '8000']);
// Syncline asks the backend at every connect: start it once the backend listens.
backend.stdout.on('data', function ready(chunk) {
  if (!String(chunk).includes('listening on')) return;
  backend.stdout.off('data', ready);
  start(process.execPath, [
    CLI,
    'start',
    '--dev',
    '--port',
    '8787',
    '--data',
    join(ROOT, 'data', 'python-chat'),
    '--config',
    join(HERE, 'chat.config.ts'),
    '--static',
    CHAT,
  ]);
});
