/** Now on the database's clock, ms since the epoch: leases do not depend on the nodes' clocks. */
const DB_NOW = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

/** Takes (or extends) the claims of `rows(endpoint, stream)` for owner $2 and lease `lease`, unless another owner's is live. */
function claim(rows: string, lease: string): string {
  return `INSERT INTO syncline_webhook_claims (endpoint, stream, claimed_by, claimed_until)
    SELECT endpoint, stream, $2, ${DB_NOW} + ${lease}::bigint FROM ${rows}
    ON CONFLICT (endpoint, stream) DO UPDATE SET claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until
    WHERE syncline_webhook_claims.claimed_by = excluded.claimed_by OR syncline_webhook_claims.claimed_until <= ${DB_NOW}
    RETURNING endpoint, stream`;
}

/** Rows of `ids` ($1) whose stream's claim names owner $2. */
const CLAIMED_IDS = `o.id = ANY($1::bigint[]) AND EXISTS (SELECT 1 FROM syncline_webhook_claims c
  WHERE c.endpoint = o.endpoint AND c.stream = o.stream AND c.claimed_by = $2)`;

/** Statements of `PostgresWebhookOutbox`. */
export const OUTBOX_SQL = {
  insert: `INSERT INTO syncline_webhook_outbox (endpoint, url, stream, event, status, attempts, created_at, next_at)
    SELECT e, u, s, ev, 'pending', 0, t, t
    FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::bigint[]) WITH ORDINALITY AS r(e, u, s, ev, t, n)
    ORDER BY n`,
  count: 'SELECT COUNT(*) AS n FROM syncline_webhook_outbox',
  // $1 now, $2 owner, $3 limit, $4/$5 streams to skip, $6 lease.
  heads: `WITH heads AS (
      SELECT DISTINCT ON (endpoint, stream) id, endpoint, stream, next_at FROM syncline_webhook_outbox
      WHERE status = 'pending' ORDER BY endpoint, stream, id
    ), due AS (
      SELECT h.id FROM heads h
      WHERE h.next_at <= $1
        AND NOT EXISTS (SELECT 1 FROM unnest($4::int[], $5::text[]) AS s(endpoint, stream)
          WHERE s.endpoint = h.endpoint AND s.stream = h.stream)
        AND NOT EXISTS (SELECT 1 FROM syncline_webhook_claims c WHERE c.endpoint = h.endpoint AND c.stream = h.stream
          AND c.claimed_by <> $2 AND c.claimed_until > ${DB_NOW})
      ORDER BY h.next_at, h.id LIMIT $3
    ), locked AS (
      SELECT o.* FROM syncline_webhook_outbox o
      WHERE o.id IN (SELECT id FROM due) AND o.status = 'pending' AND o.next_at <= $1
      FOR UPDATE SKIP LOCKED
    ), claimed AS (${claim('locked', '$6')})
    SELECT l.* FROM locked l JOIN claimed c ON c.endpoint = l.endpoint AND c.stream = l.stream
    ORDER BY l.next_at, l.id`,
  // $1 endpoint, $2 owner, $3 stream, $4 limit, $5 lease.
  batch: `WITH claimed AS (${claim('(SELECT $1::int AS endpoint, $3::text AS stream) AS one', '$5')})
    SELECT o.* FROM syncline_webhook_outbox o
    WHERE o.status = 'pending' AND o.endpoint = $1 AND o.stream = $3 AND EXISTS (SELECT 1 FROM claimed)
    ORDER BY o.id LIMIT $4`,
  // Deletes; a stream left with nothing pending is released at once (a new event of it goes to whichever node looks first).
  delivered: `WITH gone AS (DELETE FROM syncline_webhook_outbox o WHERE ${CLAIMED_IDS} RETURNING endpoint, stream),
    released AS (DELETE FROM syncline_webhook_claims c USING (SELECT DISTINCT endpoint, stream FROM gone) g
      WHERE c.endpoint = g.endpoint AND c.stream = g.stream AND c.claimed_by = $2
        AND NOT EXISTS (SELECT 1 FROM syncline_webhook_outbox p WHERE p.endpoint = c.endpoint AND p.stream = c.stream
          AND p.status = 'pending' AND p.id <> ALL($1::bigint[])))
    SELECT COUNT(*) AS n FROM gone`,
  retryLater: `UPDATE syncline_webhook_outbox o SET attempts = attempts + 1, next_at = $3, last_error = $4
    WHERE ${CLAIMED_IDS}`,
  fail: `UPDATE syncline_webhook_outbox o SET status = 'failed', attempts = attempts + 1, next_at = $3, last_error = $4
    WHERE ${CLAIMED_IDS}`,
  list: 'SELECT * FROM syncline_webhook_outbox WHERE status = $1 AND id > $2 ORDER BY id LIMIT $3',
  retry: `UPDATE syncline_webhook_outbox SET status = 'pending', attempts = 0, created_at = $1, next_at = $1
    WHERE id = $2 RETURNING *`,
  stats: `SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest FROM syncline_webhook_outbox GROUP BY status`,
  pruneOld: `DELETE FROM syncline_webhook_outbox WHERE status = 'failed' AND created_at < $1`,
  pruneOldest: `DELETE FROM syncline_webhook_outbox WHERE id IN
    (SELECT id FROM syncline_webhook_outbox WHERE status = 'failed' ORDER BY id LIMIT $1)`,
  pruneClaims: `DELETE FROM syncline_webhook_claims WHERE claimed_until < ${DB_NOW} - $1::bigint`,
  release: 'DELETE FROM syncline_webhook_claims WHERE claimed_by = $1',
} as const;
