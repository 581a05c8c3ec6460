import { randomBytes } from 'node:crypto';
import { requireService } from '@syncline/testing';
import pg from 'pg';

/** PostgreSQL of the machine (or CI). */
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether PostgreSQL answers; throws when it is required (SYNCLINE_REQUIRE_SERVICES=1) and missing. */
export const postgresService = await requireService('PostgreSQL', DATABASE_URL, 5432);

/**
 * A fresh schema of its own on the machine's PostgreSQL, for tables every
 * node of a test shares but no other test may see (the webhook outbox): its
 * URL sets `search_path` to it, so migrations create their tables there.
 * `drop` removes it and everything in it.
 */
export async function freshSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${name}`);
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA ${name} CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}
