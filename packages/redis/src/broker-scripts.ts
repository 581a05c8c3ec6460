import type { Publication } from '@syncline/protocol';
import { LuaScript } from './lua-script.js';

// Shared Lua prelude: server time in ms, and the channel's epoch and top.
// ARGV[1] is a candidate epoch, ARGV[2] the identity of the Redis process the
// node is talking to (its run_id). A fresh epoch is taken (and any orphaned
// stream dropped) when the channel's meta key is gone, which is when its
// history was lost. When the meta key was last written by another Redis
// process (a restart, a restore from a backup, a failover to a replica), its
// state may be older than what was acknowledged, so the channel also gets a
// fresh epoch, keeping its retained history: no (epoch, offset) handed out
// before can be handed out again for another publication. An empty ARGV[2]
// asks the script to read the run_id of the Redis running it (on a Redis
// Cluster, where the node does not know beforehand which master will run it).
const PRELUDE = `
local ident = ARGV[2]
if ident == '' then ident = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local meta = redis.call('HMGET', KEYS[1], 'e', 'o', 'g')
local epoch = meta[1]
local top = tonumber(meta[2])
local created = false
if not epoch then
  epoch = ARGV[1]
  top = 0
  created = true
  redis.call('DEL', KEYS[2])
elseif meta[3] ~= ident then
  if meta[3] then epoch = ARGV[1] end
  redis.call('HSET', KEYS[1], 'e', epoch, 'g', ident)
end
`;

/**
 * Publish: KEYS = meta, stream, idempotency key, publication feed, feed
 * counter (both left out when the feed is not recorded here: on a Redis
 * Cluster it lives on another shard); ARGV = candidate epoch, Redis identity
 * ('' to read it here), size, ttlMs, metaTtlMs, data (JSON), user (JSON or
 * ''), fan-out channel, has key, fence duplicates ('1' when a WAIT follows),
 * record in the feed ('1' or '0'), feed MAXLEN, channel name, sharded
 * fan-out ('1': SPUBLISH on the channel's shard, else PUBLISH).
 * Allocates the next offset, appends to the capped stream, records the key
 * (it dedupes while its publication is retained, or for the TTL when the
 * namespace keeps no history), appends to the publication feed when asked
 * (entry `n` feed sequence, `c` channel, `e` epoch, `o` offset, `t` time, `d`
 * data, `u` user) and publishes to the node fan-out, all in one atomic step:
 * a publication is in the feed if and only if it was stored.
 * Returns { epoch, offset, duplicate (0/1), ts }.
 */
export const PUBLISH_SCRIPT = new LuaScript(`${PRELUDE}
local size = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local metaTtl = tonumber(ARGV[5])
local hasKey = ARGV[9] == '1'
-- A duplicate writes nothing, so a WAIT after it would not cover the first
-- publication (written by another connection, maybe not replicated yet). With
-- a fence it rewrites the channel's identity (same value): replication is in
-- order, so a replica that has this write has the first publication too.
local function duplicate(po)
  if ARGV[10] == '1' then redis.call('HSET', KEYS[1], 'g', ident) end
  return {epoch, po, 1, now}
end
if hasKey and not created then
  local prior = redis.call('GET', KEYS[3])
  if prior then
    local sep = string.find(prior, ' ', 1, true)
    if sep and string.sub(prior, 1, sep - 1) == epoch then
      local po = tonumber(string.sub(prior, sep + 1))
      if size == 0 or po > top - size then
        return duplicate(po)
      end
    elseif sep and size > 0 then
      -- Recorded in an earlier epoch whose history this one kept (Redis restarted
      -- with its data, or restored): the key was used if the retained entry at its
      -- offset is that publication.
      local po = tonumber(string.sub(prior, sep + 1))
      if po and po <= top and po > top - size then
        local e = redis.call('XRANGE', KEYS[2], po .. '-0', po .. '-0')
        if #e == 1 and e[1][2][1] == 'd' and e[1][2][2] == ARGV[6] then
          return duplicate(po)
        end
      end
    end
  end
end
top = top + 1
redis.call('HSET', KEYS[1], 'e', epoch, 'o', top, 'g', ident)
redis.call('PEXPIRE', KEYS[1], metaTtl)
if size > 0 then
  if ARGV[7] == '' then
    redis.call('XADD', KEYS[2], 'MAXLEN', size, top .. '-0', 'd', ARGV[6], 't', now)
  else
    redis.call('XADD', KEYS[2], 'MAXLEN', size, top .. '-0', 'd', ARGV[6], 't', now, 'u', ARGV[7])
  end
  redis.call('PEXPIRE', KEYS[2], ttl)
end
if hasKey then
  redis.call('SET', KEYS[3], epoch .. ' ' .. top, 'PX', ttl)
end
if ARGV[11] == '1' then
  local n = redis.call('INCR', KEYS[5])
  local f = {'n', n, 'c', ARGV[13], 'e', epoch, 'o', top, 't', now, 'd', ARGV[6]}
  if ARGV[7] ~= '' then
    f[#f + 1] = 'u'
    f[#f + 1] = ARGV[7]
  end
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[12], '*', unpack(f))
end
local user = ARGV[7]
if user == '' then user = 'null' end
redis.call(ARGV[14] == '1' and 'SPUBLISH' or 'PUBLISH', ARGV[8], '["' .. epoch .. '",' .. top .. ',' .. now .. ',' .. user .. ',' .. ARGV[6] .. ']')
return {epoch, top, 0, now}
`);

// Drops entries past the TTL from the head of the stream (ARGV[5] is the
// TTL) and sets `minOffset` to the oldest retained offset (0: none). Runs
// after the prelude, once the channel exists.
const TRIM_HEAD = `
local minTs = now - tonumber(ARGV[5])
local function tsOf(fields)
  for i = 1, #fields, 2 do
    if fields[i] == 't' then return tonumber(fields[i + 1]) end
  end
  return 0
end
local minOffset = 0
for _ = 1, 1000 do
  local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
  if #first == 0 then break end
  if tsOf(first[1][2]) >= minTs then
    minOffset = tonumber(string.match(first[1][1], '^(%d+)'))
    break
  end
  redis.call('XDEL', KEYS[2], first[1][1])
end
`;

/**
 * History: KEYS = meta, stream; ARGV = candidate epoch, Redis identity,
 * since, limit, ttlMs, metaTtlMs. Drops entries past the TTL from the head of the stream, then
 * reads after \`since\`. Returns { epoch, top, minOffset, entries }.
 */
export const HISTORY_SCRIPT = new LuaScript(`${PRELUDE}
local since = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
if created then
  redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0, 'g', ident)
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]))
  return {epoch, 0, 0, {}}
end
if limit == 0 then
  -- A position read (top): touches no entry.
  return {epoch, top, 0, {}}
end
${TRIM_HEAD}local entries = {}
if limit > 0 and minOffset > 0 then
  local from = since + 1
  if from < minOffset then from = minOffset end
  local raw = redis.call('XRANGE', KEYS[2], from .. '-0', '+', 'COUNT', limit)
  for i = 1, #raw do
    if tsOf(raw[i][2]) >= minTs then entries[#entries + 1] = raw[i] end
  end
end
return {epoch, top, minOffset, entries}
`);

/**
 * Feed append on a Redis Cluster, after the publish script stored the
 * publication on its channel's shard: KEYS = publication feed, feed counter;
 * ARGV = feed MAXLEN, channel, epoch, offset, time, data, user (or '').
 */
export const FEED_APPEND_SCRIPT = new LuaScript(`
local n = redis.call('INCR', KEYS[2])
local f = {'n', n, 'c', ARGV[2], 'e', ARGV[3], 'o', ARGV[4], 't', ARGV[5], 'd', ARGV[6]}
if ARGV[7] ~= '' then
  f[#f + 1] = 'u'
  f[#f + 1] = ARGV[7]
end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(f))
return n
`);

/** A stream entry as the history script returns it: id and field/value list. */
export type RawEntry = [string, string[]];

/** A publication from a stream entry (`d` data, `t` time, `u` user, id `offset-0`). */
export function parseEntry(entry: RawEntry): Publication {
  const [id, fields] = entry;
  let data: unknown = null;
  let ts = 0;
  let user: string | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    const k = fields[i];
    const v = fields[i + 1] as string;
    if (k === 'd') data = JSON.parse(v);
    else if (k === 't') ts = Number(v);
    else if (k === 'u') user = JSON.parse(v) as string;
  }
  const offset = Number.parseInt(id, 10);
  return user === undefined ? { offset, data, ts } : { offset, data, ts, user };
}

/**
 * History backwards: KEYS = meta, stream; ARGV = candidate epoch, Redis
 * identity, before, limit, ttlMs, metaTtlMs. Drops entries past the TTL from
 * the head of the stream, then reads the newest `limit` entries below
 * `before` (newest first; the caller reverses them). `limit` 0 reads the
 * position only. Returns { epoch, top, minOffset, entries }.
 */
export const HISTORY_BEFORE_SCRIPT = new LuaScript(`${PRELUDE}
local before = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
if created then
  redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0, 'g', ident)
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]))
  return {epoch, 0, 0, {}}
end
${TRIM_HEAD}
if before > top + 1 then before = top + 1 end
local entries = {}
if limit > 0 and minOffset > 0 and before > minOffset then
  local raw = redis.call('XREVRANGE', KEYS[2], (before - 1) .. '-0', minOffset .. '-0', 'COUNT', limit)
  for i = 1, #raw do
    if tsOf(raw[i][2]) >= minTs then entries[#entries + 1] = raw[i] end
  end
end
return {epoch, top, minOffset, entries}
`);
