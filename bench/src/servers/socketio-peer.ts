import { createServer } from 'node:http';
import { Server } from 'socket.io';
import type { BenchServer, BenchServerOptions } from './bench-server.js';

/**
 * The Socket.IO peer: websocket transport only, rooms, `io.to(room).emit`
 * (encoded once per broadcast by the adapter), acknowledgements. With
 * `recovery`, connection state recovery keeps missed packets for two minutes.
 */
export async function startSocketIoPeer(options: BenchServerOptions): Promise<BenchServer> {
  const http = createServer();
  const io = new Server(http, {
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
    ...(options.recovery
      ? { connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: true } }
      : {}),
  });
  io.on('connection', (socket) => {
    socket.on('sub', (room: string, ack?: () => void) => {
      void socket.join(room);
      ack?.();
    });
    socket.on('pub', (room: string, data: unknown, ack?: () => void) => {
      io.to(room).emit('pub', room, data);
      ack?.();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const addr = http.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `ws://127.0.0.1:${port}`,
    connections: () => io.engine.clientsCount,
    close: async () => {
      io.disconnectSockets(true);
      await io.close();
    },
  };
}
