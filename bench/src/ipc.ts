import { type ChildProcess, fork } from 'node:child_process';

interface Request {
  readonly rpc: number;
  readonly method: string;
  readonly params: unknown;
}

interface Response {
  readonly rpc: number;
  readonly result?: unknown;
  readonly error?: string;
}

/** Handlers a child process serves to the orchestrator. */
export type RpcHandlers = Record<string, (params: never) => unknown>;

/**
 * Serves requests from the parent process over the IPC channel; the process
 * exits when the parent goes away.
 */
export function serveRpc(handlers: RpcHandlers): void {
  process.on('message', (raw: unknown) => {
    const req = raw as Request;
    const handler = handlers[req.method] as ((p: unknown) => unknown) | undefined;
    const reply = (res: Response): void => {
      process.send?.(res);
    };
    if (!handler) {
      reply({ rpc: req.rpc, error: `unknown method ${req.method}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(req.params))
      .then(
        (result) => reply({ rpc: req.rpc, result: result ?? null }),
        (err: unknown) =>
          reply({ rpc: req.rpc, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
}

/** A forked child process that answers typed requests. */
export class Child {
  readonly name: string;
  readonly proc: ChildProcess;
  #next = 1;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #exited: Error | undefined;

  constructor(name: string, script: string, args: string[], execArgv: string[] = []) {
    this.name = name;
    this.proc = fork(script, args, {
      execArgv: ['--expose-gc', ...execArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.proc.on('message', (raw: unknown) => {
      const res = raw as Response;
      const w = this.#waiting.get(res.rpc);
      if (!w) return;
      this.#waiting.delete(res.rpc);
      if (res.error !== undefined) w.reject(new Error(`${name}: ${res.error}`));
      else w.resolve(res.result);
    });
    this.proc.on('exit', (code, signal) => {
      this.#exited = new Error(`${name} exited (${code ?? signal})`);
      for (const w of this.#waiting.values()) w.reject(this.#exited);
      this.#waiting.clear();
    });
  }

  /** Calls a method of the child; rejects after `timeoutMs`. */
  call<T>(method: string, params: unknown = {}, timeoutMs = 120_000): Promise<T> {
    if (this.#exited) return Promise.reject(this.#exited);
    const rpc = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(rpc);
        reject(new Error(`${this.name}: ${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(rpc, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send({ rpc, method, params } satisfies Request);
    });
  }

  /** Ends the child (gracefully, then by signal). */
  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.disconnect();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
