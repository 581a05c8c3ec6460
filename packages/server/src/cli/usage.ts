import { OPERATIONS } from '../auth/capabilities.js';
import { CHANNELS_LIMIT, DOC_TEXT_MAX_CHARS, HISTORY_LIMIT, PRESENCE_LIMIT } from './inspect-limits.js';

/** What `syncline --help` prints. */
export const USAGE = `Usage:
  syncline start [--dev] [--port 8787] [--host H] [--data ./data] [--config syncline.config.ts] [--static DIR]
                 [--redis redis://HOST:6379] [--postgres postgres://USER@HOST/DB] [--drain-window 10s]
                 [--redis-cluster HOST:PORT,HOST:PORT,…] [--redis-ack-replicas N] [--redis-ack-timeout-ms 1000]
  syncline token [--data ./data | --secret S] --sub USER [--allow PATTERN[=op,op]]... [--ttl 1h]
  syncline channels [--prefix P] [--limit ${CHANNELS_LIMIT.default}]
  syncline history CHANNEL [--since OFFSET] [--limit ${HISTORY_LIMIT.default}]
  syncline publish CHANNEL JSON [--idempotency-key K]
  syncline presence CHANNEL [--limit ${PRESENCE_LIMIT.default}]
  syncline doc NAME
  syncline revoke USER [--reason TEXT] [--lift]
  syncline help | --help | -h        syncline version | --version | -v

start   runs a server. Without --config it looks for syncline.config.{ts,mjs,js} in the
        current folder. Production rules apply by default: the config must set auth
        (a shared secret needs 32+ bytes) and nothing is handed out. Dev mode (--dev or
        NODE_ENV=development) listens on 127.0.0.1 unless --host says otherwise, allows
        any browser origin and, without auth in the config, signs with a dev secret
        kept in the data folder, prints a full-access token and serves POST /dev/token
        for demo sign-in. --static DIR serves a web app from DIR (index.html for other
        paths, never for the API's). --redis (or SYNCLINE_REDIS_URL) and --postgres (or
        SYNCLINE_POSTGRES_URL) make it a cluster node; without them it runs embedded.
        --redis-cluster (or SYNCLINE_REDIS_CLUSTER) takes the seed nodes of a Redis Cluster
        instead of --redis (at most 64, comma-separated): channels are spread over its shards.
        --redis given several times (or several URLs in SYNCLINE_REDIS_URL, at most 64) spreads
        channels over independent Redis instances by hashing their names; every node must list
        the same instances.
        --redis-ack-replicas N (or SYNCLINE_REDIS_ACK_REPLICAS) acknowledges a publish only
        once N Redis replicas have it (WAIT), else answers timeout after
        --redis-ack-timeout-ms (or SYNCLINE_REDIS_ACK_TIMEOUT_MS, default 1000).
        The operator console at /admin is on with admin.key in the config or
        SYNCLINE_ADMIN_KEY (32+ bytes in production); dev mode turns it on with a
        generated key kept in the data folder and printed at start.
        SIGTERM drains the node over --drain-window (clients reconnect elsewhere), then exits.
token   prints an HS256 token signed with --secret (or SYNCLINE_SECRET): the auth.secret
        of your config; without either, with the dev secret of the data folder (the one
        dev mode uses without auth in the config; created if missing). --allow takes a
        glob over channel/document names, optionally with
        operations (${OPERATIONS.join(', ')}); without operations every operation is allowed.

channels, history, presence, doc, publish and revoke call a running node's HTTP API and
        print a table (--json: the API's JSON answer). The node is --url (or SYNCLINE_URL,
        default http://127.0.0.1:8787); the API key is --key (or SYNCLINE_API_KEY, else the
        dev key kept in --data, default ./data). channels lists at most --limit channels
        (1-${CHANNELS_LIMIT.max}), history at most --limit publications after --since (1-${HISTORY_LIMIT.max}),
        presence at most --limit members (1-${PRESENCE_LIMIT.max}); doc prints at most ${DOC_TEXT_MAX_CHARS / 1024} KiB
        of the state (--json prints all of it). revoke refuses the user's tokens issued so far
        and closes their connections; --lift lifts a revocation.`;
