import { LuaScript } from './lua-script.js';

// An entry is stored as one hash field (`user \0 clientId`) whose value is
// `node \t session \t enteredAt \t updatedAt \t base JSON \t state JSON`
// (JSON text never holds a raw tab), so scripts can replace parts without
// decoding JSON.
const SPLIT = `
local function split(v)
  local out = {}
  local from = 1
  for i = 1, 5 do
    local at = string.find(v, '\\t', from, true)
    out[i] = string.sub(v, from, at - 1)
    from = at + 1
  end
  out[6] = string.sub(v, from)
  return out
end
local function join(p)
  return p[1] .. '\\t' .. p[2] .. '\\t' .. p[3] .. '\\t' .. p[4] .. '\\t' .. p[5] .. '\\t' .. p[6]
end
`;

/**
 * Enter: KEYS = seq, channel hash, channels set, new owner's node index,
 * channel's per-user counts hash (on a Redis Cluster only seq, channel hash,
 * counts: the node-wide sets live on another shard and the caller updates
 * them); ARGV = channel, field, node, session, enteredAt, updatedAt, base
 * JSON, state JSON, node index prefix, user, most entries per user, most
 * entries in the channel, node-wide bookkeeping here ('1') or by the caller
 * ('0'). Returns { seq, action, stored value, prior owner node ('' when
 * new) }, or { 0, 'refused', limit name } when a new entry would pass a
 * limit (nothing changed). A take-over of an existing field is never refused.
 */
export const ENTER_SCRIPT = new LuaScript(`${SPLIT}
local global = ARGV[13] == '1'
local counts = KEYS[5]
if not global then counts = KEYS[3] end
local prior = redis.call('HGET', KEYS[2], ARGV[2])
local action = 'join'
local enteredAt = ARGV[5]
local priorNode = ''
local ref = ARGV[1] .. '\\n' .. ARGV[2]
if prior then
  local p = split(prior)
  action = 'update'
  enteredAt = p[3]
  priorNode = p[1]
  if global and p[1] ~= ARGV[3] then redis.call('SREM', ARGV[9] .. p[1], ref) end
else
  if redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[12]) then return {0, 'refused', 'maxMembers'} end
  if tonumber(redis.call('HGET', counts, ARGV[10]) or '0') >= tonumber(ARGV[11]) then
    return {0, 'refused', 'presenceEntriesPerUser'}
  end
  redis.call('HINCRBY', counts, ARGV[10], 1)
end
local value = join({ARGV[3], ARGV[4], enteredAt, ARGV[6], ARGV[7], ARGV[8]})
redis.call('HSET', KEYS[2], ARGV[2], value)
if global then
  redis.call('SADD', KEYS[3], ARGV[1])
  redis.call('SADD', KEYS[4], ref)
end
local seq = redis.call('INCR', KEYS[1])
return {seq, action, value, priorNode}
`);

/**
 * Update: KEYS = seq, channel hash; ARGV = field, updatedAt, state JSON.
 * Returns { seq, 'update', stored value } or nil when the entry is gone.
 */
export const UPDATE_SCRIPT = new LuaScript(`${SPLIT}
local prior = redis.call('HGET', KEYS[2], ARGV[1])
if not prior then return nil end
local p = split(prior)
p[4] = ARGV[2]
p[6] = ARGV[3]
local value = join(p)
redis.call('HSET', KEYS[2], ARGV[1], value)
local seq = redis.call('INCR', KEYS[1])
return {seq, 'update', value}
`);

/**
 * Leave: KEYS = seq, channel hash, channels set, channel's per-user counts
 * hash (on a Redis Cluster: seq, channel hash, counts); ARGV = channel,
 * field, only node ('' for any), only session ('' for any), node index
 * prefix, user, node-wide bookkeeping here ('1') or by the caller ('0').
 * Returns { seq, 'leave', stored value, channel now empty (0/1) } or nil.
 */
export const LEAVE_SCRIPT = new LuaScript(`${SPLIT}
local global = ARGV[7] == '1'
local counts = KEYS[4]
if not global then counts = KEYS[3] end
local prior = redis.call('HGET', KEYS[2], ARGV[2])
if not prior then return nil end
local p = split(prior)
if ARGV[3] ~= '' and (p[1] ~= ARGV[3] or (ARGV[4] ~= '' and p[2] ~= ARGV[4])) then return nil end
redis.call('HDEL', KEYS[2], ARGV[2])
if global then redis.call('SREM', ARGV[5] .. p[1], ARGV[1] .. '\\n' .. ARGV[2]) end
-- Entries stored before counts existed were never counted: a count never goes below zero.
if redis.call('HINCRBY', counts, ARGV[6], -1) <= 0 then redis.call('HDEL', counts, ARGV[6]) end
local empty = 0
if redis.call('HLEN', KEYS[2]) == 0 then
  if global then redis.call('SREM', KEYS[3], ARGV[1]) end
  redis.call('DEL', counts)
  empty = 1
end
local seq = redis.call('INCR', KEYS[1])
return {seq, 'leave', prior, empty}
`);

/** List: KEYS = seq, channel hash. Returns { seq, values } atomically. */
export const LIST_SCRIPT = new LuaScript(`
local seq = tonumber(redis.call('GET', KEYS[1]) or '0')
return {seq, redis.call('HVALS', KEYS[2])}
`);
