import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookEvent } from '@syncline/server';
import { defer } from './helpers.js';

/** One request a receiver got. */
export interface ReceivedRequest {
  readonly body: string;
  readonly signature: string | undefined;
  readonly events: readonly WebhookEvent[];
  /** The status it was answered. */
  readonly status: number;
}

/** A real HTTP receiver on 127.0.0.1, closed after the test. */
export interface Receiver {
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** Events of 2xx-answered requests, in arrival order (duplicates included). */
  accepted(): WebhookEvent[];
  /** Events of 2xx-answered requests, each id once (first arrival). */
  unique(): WebhookEvent[];
  /** Answers each request with this status (default 200), possibly later; may look at its events. */
  respond: (events: readonly WebhookEvent[], req: IncomingMessage) => number | 'hang' | Promise<number>;
  /** Stops listening (the port refuses connections) until `listen` again. */
  close(): Promise<void>;
  /** Listens again on the same port. */
  listen(): Promise<void>;
}

/** Starts a receiver; `port` 0 picks a free one. */
export async function startReceiver(port = 0): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  let server: Server | undefined;
  const hanging = new Set<() => void>();
  const receiver: Receiver = {
    url: '',
    port: 0,
    requests,
    accepted: () => requests.filter((r) => r.status < 300).flatMap((r) => r.events),
    unique() {
      const seen = new Set<string>();
      return receiver.accepted().filter((e) => {
        if (seen.has(e.id)) return false;
        seen.add(e.id);
        return true;
      });
    },
    respond: () => 200,
    async close() {
      for (const end of hanging) end();
      hanging.clear();
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async listen() {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', async () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const parsed = JSON.parse(body) as WebhookEvent | WebhookEvent[];
          const events = Array.isArray(parsed) ? parsed : [parsed];
          const answer = await receiver.respond(events, req);
          if (answer === 'hang') {
            hanging.add(() => res.destroy());
            return;
          }
          const signature = req.headers['syncline-signature'];
          requests.push({
            body,
            signature: typeof signature === 'string' ? signature : undefined,
            events,
            status: answer,
          });
          res.writeHead(answer).end();
        });
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      server = s;
      port = (s.address() as AddressInfo).port;
      Object.assign(receiver, { port, url: `http://127.0.0.1:${port}/hook` });
    },
  };
  await receiver.listen();
  defer(() => receiver.close());
  return receiver;
}
