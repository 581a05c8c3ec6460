import { describe, expect, it } from 'vitest';
import { clusterUrls } from './cluster.js';

describe('clusterUrls', () => {
  it('prefers flags, then SYNCLINE_* variables, and ignores the generic REDIS_URL / DATABASE_URL', () => {
    const env = {
      SYNCLINE_REDIS_URL: 'redis://a',
      REDIS_URL: 'redis://b',
      SYNCLINE_POSTGRES_URL: 'postgres://a',
      DATABASE_URL: 'postgres://b',
      SYNCLINE_REDIS_PREFIX: 'app1:',
    };
    expect(clusterUrls({ redis: 'redis://flag', postgres: 'postgres://flag' }, env)).toEqual({
      redis: 'redis://flag',
      postgres: 'postgres://flag',
      redisPrefix: 'app1:',
    });
    expect(clusterUrls({}, env)).toMatchObject({ redis: 'redis://a', postgres: 'postgres://a' });
    // A machine (or CI) that sets REDIS_URL / DATABASE_URL for other software still runs embedded.
    expect(clusterUrls({}, { REDIS_URL: 'redis://b', DATABASE_URL: 'postgres://b' })).toMatchObject({
      redis: undefined,
      postgres: undefined,
    });
  });

  it('reads the replica acknowledgements from flags, then SYNCLINE_REDIS_ACK_*, and refuses bad numbers', () => {
    const env = { SYNCLINE_REDIS_ACK_REPLICAS: '2', SYNCLINE_REDIS_ACK_TIMEOUT_MS: '500' };
    expect(clusterUrls({}, env)).toMatchObject({ redisAckReplicas: 2, redisAckTimeoutMs: 500 });
    expect(clusterUrls({ 'redis-ack-replicas': '1', 'redis-ack-timeout-ms': '250' }, env)).toMatchObject({
      redisAckReplicas: 1,
      redisAckTimeoutMs: 250,
    });
    expect(clusterUrls({}, {})).toMatchObject({ redisAckReplicas: undefined, redisAckTimeoutMs: undefined });
    expect(() => clusterUrls({ 'redis-ack-replicas': '-1' }, {})).toThrow(/--redis-ack-replicas/);
    expect(() => clusterUrls({ 'redis-ack-replicas': 'one' }, {})).toThrow(/--redis-ack-replicas/);
    expect(() => clusterUrls({}, { SYNCLINE_REDIS_ACK_TIMEOUT_MS: '0' })).toThrow(/SYNCLINE_REDIS_ACK_TIMEOUT_MS/);
  });

  it('leaves both empty without flags or variables (the embedded default)', () => {
    expect(clusterUrls({}, {})).toEqual({ redis: undefined, postgres: undefined, redisPrefix: undefined });
  });

  it('reads the seed nodes of a Redis Cluster from --redis-cluster, then SYNCLINE_REDIS_CLUSTER', () => {
    expect(clusterUrls({ 'redis-cluster': '10.0.0.1:7000, 10.0.0.2:7001' }, {})).toMatchObject({
      redisCluster: ['10.0.0.1:7000', '10.0.0.2:7001'],
    });
    expect(clusterUrls({}, { SYNCLINE_REDIS_CLUSTER: 'redis://:pw@a:7000,b:7001' })).toMatchObject({
      redisCluster: ['redis://:pw@a:7000', 'b:7001'],
    });
    expect(clusterUrls({}, { SYNCLINE_REDIS_CLUSTER: '' })).not.toHaveProperty('redisCluster');
  });

  it('refuses a malformed or oversized seed list, and --redis with --redis-cluster', () => {
    expect(() => clusterUrls({ 'redis-cluster': 'no-port' }, {})).toThrow(/seed node "no-port"/);
    expect(() => clusterUrls({ 'redis-cluster': 'a:7000 b:7001' }, {})).toThrow(/seed node/);
    const many = Array.from({ length: 65 }, (_, i) => `h${i}:7000`).join(',');
    expect(() => clusterUrls({ 'redis-cluster': many }, {})).toThrow(/at most 64/);
    expect(() => clusterUrls({ redis: 'redis://a', 'redis-cluster': 'b:7000' }, {})).toThrow(/not both/);
    expect(() => clusterUrls({ 'redis-cluster': 'b:7000' }, { SYNCLINE_REDIS_PREFIX: 'app{1}:' })).toThrow(
      /SYNCLINE_REDIS_PREFIX/,
    );
  });

  it('reads several Redis instances from repeated --redis, or from SYNCLINE_REDIS_URL', () => {
    expect(clusterUrls({ redis: ['redis://a:6379', 'redis://b:6379'] }, {})).toMatchObject({
      redis: 'redis://a:6379',
      redisUrls: ['redis://a:6379', 'redis://b:6379'],
    });
    expect(clusterUrls({}, { SYNCLINE_REDIS_URL: 'redis://a:6379 rediss://:p,w@b:6380' })).toMatchObject({
      redisUrls: ['redis://a:6379', 'rediss://:p,w@b:6380'],
    });
    expect(clusterUrls({ redis: ['redis://only'] }, {})).not.toHaveProperty('redisUrls');
    expect(() => clusterUrls({ redis: ['redis://a', 'redis://a'] }, {})).toThrow(/twice/);
    const many = Array.from({ length: 65 }, (_, i) => `redis://h${i}:6379`);
    expect(() => clusterUrls({ redis: many }, {})).toThrow(/at most 64/);
  });
});
