import { createServer } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import { BENCH_HISTORY_SIZE, type BenchServer } from './bench-server.js';

interface Room {
  readonly members: Set<WebSocket>;
  offset: number;
  /** Last `BENCH_HISTORY_SIZE` frames, for subscribers that resume with `s`. */
  readonly ring: string[];
}

interface Command {
  t: 'sub' | 'pub';
  i: number;
  c: string;
  s?: number;
  d?: unknown;
}

/**
 * The raw `ws` peer: the least a broadcast server can do. Rooms are sets of
 * sockets; a publication gets an offset, is stringified once and sent to
 * every member with `ws.send`; the last frames are kept in memory so a
 * resubscribing client can resume from its offset.
 */
export async function startWsPeer(): Promise<BenchServer> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  const rooms = new Map<string, Room>();
  const roomOf = (name: string): Room => {
    let r = rooms.get(name);
    if (!r) {
      r = { members: new Set(), offset: 0, ring: [] };
      rooms.set(name, r);
    }
    return r;
  };
  wss.on('connection', (ws) => {
    const joined = new Set<Room>();
    ws.on('message', (raw: Buffer) => {
      const cmd = JSON.parse(raw.toString()) as Command;
      const room = roomOf(cmd.c);
      if (cmd.t === 'sub') {
        if (cmd.s !== undefined) {
          const first = room.offset - room.ring.length + 1;
          for (let o = Math.max(cmd.s + 1, first); o <= room.offset; o++) ws.send(room.ring[o - first] as string);
        }
        room.members.add(ws);
        joined.add(room);
        ws.send(`{"a":${cmd.i},"o":${room.offset}}`);
        return;
      }
      const offset = ++room.offset;
      const frame = `{"c":${JSON.stringify(cmd.c)},"o":${offset},"d":${JSON.stringify(cmd.d)}}`;
      room.ring.push(frame);
      if (room.ring.length > BENCH_HISTORY_SIZE) room.ring.shift();
      for (const m of room.members) m.send(frame);
      ws.send(`{"a":${cmd.i},"o":${offset}}`);
    });
    ws.on('close', () => {
      for (const r of joined) r.members.delete(ws);
    });
    ws.on('error', () => {});
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const addr = http.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `ws://127.0.0.1:${port}`,
    connections: () => wss.clients.size,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
