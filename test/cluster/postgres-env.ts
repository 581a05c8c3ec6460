import { requireService } from '@syncline/testing';

/** PostgreSQL of the machine (or CI). */
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether PostgreSQL answers; throws when it is required (SYNCLINE_REQUIRE_SERVICES=1) and missing. */
export const postgresService = await requireService('PostgreSQL', DATABASE_URL, 5432);
