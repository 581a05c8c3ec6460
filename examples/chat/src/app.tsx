import { createClient, indexedDbStore, type SynclineClient } from '@syncline/client';
import { type DocNamespaces, SynclineProvider } from '@syncline/react';
import { type ReactNode, useState } from 'react';
import { ChatShell } from './components/chat-shell.tsx';
import { SignIn } from './components/sign-in.tsx';
import { clearSession, loadSession, renewToken, type Session } from './session.ts';
import { lobbyMutators, roomMutators } from './shared/model.ts';

/** One IndexedDB database per user and browser tab (a tab keeps its id across reloads). */
function replicaDbName(user: string): string {
  let tab = sessionStorage.getItem('syncline-chat.tab');
  if (!tab) {
    tab = Math.random().toString(36).slice(2, 10);
    sessionStorage.setItem('syncline-chat.tab', tab);
  }
  return `syncline-chat.${user}.${tab}`;
}

interface Connection {
  readonly session: Session;
  readonly client: SynclineClient;
  readonly docs: DocNamespaces;
}

// The client lives outside React: created once per sign-in, closed on sign-out,
// never by a re-render (StrictMode mounts components twice in development).
let live: Connection | undefined;

function connect(session: Session, onRefused: () => void): Connection {
  if (live && (live.session.token ?? live.session.session) === (session.token ?? session.session)) return live;
  live?.client.close();
  const client = createClient({
    url: window.location.origin,
    // A dev token is checked by Syncline itself; a backend session
    // (examples/python-backend) goes to the backend through the connect proxy.
    ...(session.token !== undefined
      ? { token: session.token, getToken: () => renewToken(session.user) }
      : { connectData: { session: session.session } }),
    reconnect: { minDelayMs: 250, maxDelayMs: 5_000 },
    app: { version: '0.1.0' },
    client: { name: 'syncline-chat' },
  });
  // A session the backend no longer accepts (expired, signed out) cannot be
  // renewed like a token: back to the sign-in screen.
  if (session.session !== undefined) {
    client.on('state', (s) => {
      if (s.reason === 'unauthorized') onRefused();
    });
  }
  // Pending messages, reactions and receipts survive reloads and offline periods.
  const store = indexedDbStore({ name: replicaDbName(session.user) });
  live = {
    session,
    client,
    docs: {
      room: { mutators: roomMutators, store },
      lobby: { mutators: lobbyMutators, store },
    },
  };
  return live;
}

/** Signs in, then runs the chat with one Syncline client for the session. */
export function App(): ReactNode {
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const signOut = (): void => {
    live?.client.close();
    live = undefined;
    clearSession();
    setSession(undefined);
  };
  const conn = session ? connect(session, signOut) : undefined;
  if (!session || !conn) return <SignIn onSignedIn={setSession} />;
  return (
    <SynclineProvider client={conn.client} docs={conn.docs}>
      <ChatShell me={session.user} onSignOut={signOut} />
    </SynclineProvider>
  );
}
