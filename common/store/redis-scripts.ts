import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TERMINAL_STATES } from '../contracts/index.ts';
import { DUST } from '../token-bucket.ts';

/**
 * The Lua scripts that make each Redis store operation one atomic step, and how they run:
 * EVALSHA first, EVAL when the server does not know the script (a restarted Redis forgets them).
 * The job scripts implement the rules of job-transitions.ts; the conformance suite holds both
 * implementations to the same behaviour.
 */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: (string | number | Buffer)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

const TERMINAL_TABLE = `{${TERMINAL_STATES.map((s) => `['${s}']=true`).join(',')}}`;

// Shared by the job scripts. Integers are formatted with %d: Lua's default number formatting
// switches to exponent notation past 14 digits.
const JOB_PRELUDE = `
local TERMINAL = ${TERMINAL_TABLE}
local function int(n) return string.format('%d', n) end
local function all(k) return redis.call('HGETALL', k) end
local function fenced(k, fence)
  if redis.call('EXISTS', k) == 0 then return {'not_found'} end
  local st = redis.call('HMGET', k, 'state', 'fence')
  if TERMINAL[st[1]] then return {'terminal', all(k)} end
  if tonumber(st[2]) ~= tonumber(fence) or st[1] ~= 'running' then return {'fenced', all(k)} end
  return nil
end
`;

// The body of a create: KEYS[1..4] job, attention, queued, idempotency; ARGV[1..5] idempotency
// ttl ms ('' = none), id, deadline, createdAt, job key prefix; the record's field/value pairs from
// ARGV[fields]. A repeat returns early with {0, record}; `afterCreate` runs only for a new job,
// which is answered with `created`.
const createBody = (fields: number, afterCreate: string, created = '{1, all(job)}') => `
local job, attention, queued, idem = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id = ARGV[2]
if ARGV[1] ~= '' then
  local prev = redis.call('GET', idem)
  if prev then
    local pk = ARGV[5] .. prev
    if redis.call('EXISTS', pk) == 1 then return {0, all(pk)} end
  end
  redis.call('SET', idem, id, 'PX', ARGV[1])
end
if redis.call('EXISTS', job) == 1 then return {0, all(job)} end
redis.call('HSET', job, unpack(ARGV, ${fields}))
${afterCreate}
redis.call('ZADD', attention, ARGV[3], id)
redis.call('ZADD', queued, ARGV[4], id)
return ${created}
`;

/**
 * KEYS: job, attention, queued, idempotency. ARGV: idempotency ttl ms ('' = none), id, deadline,
 * createdAt, job key prefix, then the record's field/value pairs.
 */
export const CREATE_JOB = new LuaScript('create-job', `${JOB_PRELUDE}${createBody(6, '')}`);

/**
 * The gateway's whole admission write as one script (one round trip, atomic): create as
 * CREATE_JOB, and only for a new job issue its queue ticket (the counters nextTicket uses) into the
 * record and append its first progress event (as APPEND_EVENT).
 * KEYS: job, attention, queued, idempotency, ticket counters, ticket index, event stream.
 * ARGV: as CREATE_JOB's first five, then ticket index member, event max length, event JSON,
 * event retention ms, wake-up channel, then the record's field/value pairs. Returns {1, ticket}
 * for a new job, {0, fields of the existing one} for a repeat.
 */
export const ADMIT_JOB = new LuaScript(
  'admit-job',
  `${JOB_PRELUDE}${createBody(
    11,
    `local ticket = redis.call('HINCRBY', KEYS[5], 'issued', 1)
redis.call('SADD', KEYS[6], ARGV[6])
redis.call('HSET', job, 'ticket', int(ticket))
redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[7], '0-*', 'e', ARGV[8])
redis.call('PEXPIRE', KEYS[7], ARGV[9])
redis.call('PUBLISH', ARGV[10], '1')`,
    // The caller holds the rest of the new record: only the ticket travels back.
    '{1, int(ticket)}',
  )}`,
);

/** KEYS: job, attention, queued. ARGV: owner, leaseUntil, now, id. */
export const CLAIM_JOB = new LuaScript(
  'claim-job',
  `${JOB_PRELUDE}
local job, attention, queued = KEYS[1], KEYS[2], KEYS[3]
if redis.call('EXISTS', job) == 0 then return {'not_found'} end
local st = redis.call('HMGET', job, 'state', 'leaseUntil', 'fence', 'claims', 'startedAt')
if TERMINAL[st[1]] then return {'terminal', all(job)} end
if st[1] == 'running' and tonumber(st[2]) >= tonumber(ARGV[3]) then return {'owned', all(job)} end
redis.call('HSET', job, 'state', 'running', 'owner', ARGV[1], 'fence', int(tonumber(st[3]) + 1),
  'leaseUntil', ARGV[2], 'claims', int(tonumber(st[4]) + 1), 'updatedAt', ARGV[3])
if st[5] == '' then redis.call('HSET', job, 'startedAt', ARGV[3]) end
redis.call('ZADD', attention, ARGV[2], ARGV[4])
redis.call('ZREM', queued, ARGV[4])
return {'ok', all(job)}
`,
);

/** KEYS: job, attention. ARGV: fence, pass, passes, leaseUntil, now, id. */
export const PROGRESS_JOB = new LuaScript(
  'progress-job',
  `${JOB_PRELUDE}
local job, attention = KEYS[1], KEYS[2]
local refused = fenced(job, ARGV[1])
if refused then return refused end
redis.call('HSET', job, 'pass', ARGV[2], 'passes', ARGV[3], 'leaseUntil', ARGV[4], 'updatedAt', ARGV[5])
redis.call('ZADD', attention, ARGV[4], ARGV[6])
return {'ok', all(job)}
`,
);

/** KEYS: job. ARGV: fence, blob key as a JSON string, now. */
export const ADD_PARTIAL = new LuaScript(
  'add-partial',
  `${JOB_PRELUDE}
local job = KEYS[1]
local refused = fenced(job, ARGV[1])
if refused then return refused end
local p = redis.call('HGET', job, 'partials')
if p == '[]' then p = '[' .. ARGV[2] .. ']' else p = string.sub(p, 1, -2) .. ',' .. ARGV[2] .. ']' end
redis.call('HSET', job, 'partials', p, 'updatedAt', ARGV[3])
return {'ok', all(job)}
`,
);

/**
 * KEYS: job, attention, queued, checkpoint, and optionally the job's event stream. ARGV: fence
 * ('' = client or reaper), target state, states it may be reached from (',a,b,'), result JSON or
 * '', error JSON or '', now, id, retention ms of the finished record; with the stream also event
 * max length, event retention ms, wake-up channel, pass and passes ('' = the record's). With the
 * stream, a finish that wins appends its terminal state event (as APPEND_EVENT) in the same step:
 * as two writes, a failure between them left a finished job that followers never saw end.
 */
export const FINISH_JOB = new LuaScript(
  'finish-job',
  `${JOB_PRELUDE}
local job, attention, queued, checkpoint = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if redis.call('EXISTS', job) == 0 then return {'not_found'} end
local st = redis.call('HMGET', job, 'state', 'fence')
if TERMINAL[st[1]] then return {'terminal', all(job)} end
if ARGV[1] ~= '' and (tonumber(st[2]) ~= tonumber(ARGV[1]) or st[1] ~= 'running') then
  return {'fenced', all(job)}
end
if not string.find(ARGV[3], ',' .. st[1] .. ',', 1, true) then return {'illegal_transition', all(job)} end
redis.call('HSET', job, 'state', ARGV[2], 'owner', '', 'leaseUntil', '0', 'finishedAt', ARGV[6], 'updatedAt', ARGV[6])
if ARGV[4] ~= '' then redis.call('HSET', job, 'result', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', job, 'error', ARGV[5]) end
redis.call('ZREM', attention, ARGV[7])
redis.call('ZREM', queued, ARGV[7])
redis.call('DEL', checkpoint)
redis.call('PEXPIRE', job, ARGV[8])
if KEYS[5] then
  local at = redis.call('HMGET', job, 'pass', 'passes')
  local pass = ARGV[12] ~= '' and ARGV[12] or at[1]
  local passes = ARGV[13] ~= '' and ARGV[13] or at[2]
  local event = '{"type":"state","state":"' .. ARGV[2] .. '","pass":' .. pass .. ',"passes":' .. passes ..
    ',"at":' .. ARGV[6] .. '}'
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[9], '0-*', 'e', event)
  redis.call('PEXPIRE', KEYS[5], ARGV[10])
  redis.call('PUBLISH', ARGV[11], '1')
end
return {'ok', all(job)}
`,
);

/** KEYS: job, checkpoint. ARGV: fence, data, retention ms. */
export const SAVE_CHECKPOINT = new LuaScript(
  'save-checkpoint',
  `${JOB_PRELUDE}
local refused = fenced(KEYS[1], ARGV[1])
if refused then return refused end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return {'ok', all(KEYS[1])}
`,
);

/** KEYS: ticket counters. ARGV: ticket. Served only moves forward. */
export const MARK_SERVED = new LuaScript(
  'mark-served',
  `
local cur = tonumber(redis.call('HGET', KEYS[1], 'served') or '0')
if tonumber(ARGV[1]) > cur then redis.call('HSET', KEYS[1], 'served', ARGV[1]) end
return 1
`,
);

/** KEYS: stream. ARGV: max length, event JSON, retention ms, wake-up channel. Returns the entry id 0-<seq>. */
export const APPEND_EVENT = new LuaScript(
  'append-event',
  `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '0-*', 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', ARGV[4], '1')
return id
`,
);

/**
 * KEYS: lease, epoch counter. ARGV: holder, ttl ms, now. Returns {held, holder, epoch, expiresAt}.
 * The epoch grows whenever the lease is taken anew (another holder, or the same one after a lapse).
 */
export const ACQUIRE_LEASE = new LuaScript(
  'acquire-lease',
  `
local now, ttl = tonumber(ARGV[3]), tonumber(ARGV[2])
local cur = redis.call('HMGET', KEYS[1], 'holder', 'epoch', 'expiresAt')
if cur[1] and tonumber(cur[3]) > now and cur[1] ~= ARGV[1] then return {0, cur[1], cur[2], cur[3]} end
local epoch
if cur[1] == ARGV[1] and tonumber(cur[3]) > now then epoch = tonumber(cur[2]) else epoch = redis.call('INCR', KEYS[2]) end
local expires = string.format('%d', now + ttl)
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'epoch', string.format('%d', epoch), 'expiresAt', expires)
-- Garbage collection only; the lease's validity is expiresAt against the callers' clocks.
redis.call('PEXPIRE', KEYS[1], string.format('%d', ttl + 60000))
return {1, ARGV[1], string.format('%d', epoch), expires}
`,
);

/** KEYS: lease. ARGV: holder. */
export const RELEASE_LEASE = new LuaScript(
  'release-lease',
  `
if redis.call('HGET', KEYS[1], 'holder') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`,
);

/**
 * KEYS: admission. ARGV: epoch, state JSON, handover JSON ('' for none). Refused (0) when a higher
 * epoch already published.
 */
export const PUBLISH_ADMISSION = new LuaScript(
  'publish-admission',
  `
local cur = redis.call('HGET', KEYS[1], 'epoch')
if cur and tonumber(cur) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'state', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'handover', ARGV[3]) end
return 1
`,
);

// Signal expiry uses the Redis server's clock, so reporters with skewed clocks agree.
const REDIS_NOW = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS: signals hash, expiry zset. ARGV: field, signal JSON, ttl ms. */
export const REPORT_SIGNAL = new LuaScript(
  'report-signal',
  `
${REDIS_NOW}
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], string.format('%d', now + tonumber(ARGV[3])), ARGV[1])
return 1
`,
);

/** KEYS: signals hash, expiry zset. Drops expired entries, returns the live ones' JSON. */
export const READ_SIGNALS = new LuaScript(
  'read-signals',
  `
${REDIS_NOW}
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', string.format('%d', now))
for _, field in ipairs(expired) do
  redis.call('HDEL', KEYS[1], field)
  redis.call('ZREM', KEYS[2], field)
end
return redis.call('HVALS', KEYS[1])
`,
);

/**
 * KEYS: bucket. ARGV: cost, rate per second, burst, now. Returns {ok, waitMs} with waitMs -1 for
 * "never" (rate 0). The same arithmetic as token-bucket.ts, with tokens stored at full precision.
 */
export const TAKE_TOKENS = new LuaScript(
  'take-tokens',
  `
local cost, now, need = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
-- KEYS[1] is the request's own bucket, the others its fallbacks in order; ARGV holds each
-- bucket's rate and burst after cost, now and need (taken only from a bucket holding need, held
-- to [cost, burst] as token-bucket.ts does). The own bucket's refill is always stored.
local function level(i)
  local rate, burst = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  local s = redis.call('HMGET', KEYS[i], 'tokens', 'updatedAt')
  local tokens, updated = burst, now
  if s[1] then tokens, updated = tonumber(s[1]), tonumber(s[2]) end
  return math.min(burst, tokens + (math.max(0, now - updated) * rate) / 1000), rate, burst
end
local function store(i, tokens, rate, burst)
  redis.call('HSET', KEYS[i], 'tokens', string.format('%.17g', tokens), 'updatedAt', string.format('%.17g', now))
  local refill = 86400000
  if rate > 0 then refill = math.min(refill, math.ceil(burst * 1000 / rate) + 60000) end
  redis.call('PEXPIRE', KEYS[i], string.format('%d', refill))
end
local function required(burst) return math.max(cost, math.min(need, burst)) - ${DUST} end
local tokens, rate, burst = level(1)
if tokens >= required(burst) then
  store(1, tokens - cost, rate, burst)
  return {1, '0', 1}
end
store(1, tokens, rate, burst)
for i = 2, #KEYS do
  local t, r, b = level(i)
  if t >= required(b) then
    store(i, t - cost, r, b)
    return {1, '0', i}
  end
end
local wait = -1
if rate > 0 then wait = math.ceil(((required(burst) + ${DUST} - tokens) * 1000) / rate) end
return {0, string.format('%d', wait), 0}
`,
);
