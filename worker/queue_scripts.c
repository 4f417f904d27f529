/* SPDX-License-Identifier: MIT */
/* queue_scripts: Lua sources (see queue_scripts.h). Job hash fields: spec, state (queued,
 * running, completed, failed, cancelled), attempts (times started), abandoned (times taken
 * back from a dead worker), worker, cancel ("1" once asked), reason, result, created_ms,
 * started_ms, finished_ms. Redis runs each script atomically: no half-applied step. */
#include "queue_scripts.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* A queue's waiting jobs: three lanes (lists) by priority class, and a sorted set of jobs
 * waiting for their run_at. root is "runq:{Q}:" (keys_queue_root); a job hash's "lane" field
 * names its lane. LANES_FN gives the key names and the wake-up for blocked workers. */
#define LANES_FN                                                                           \
    "local function lane_key(root, lane)\n"                                                \
    "  if lane == 'high' or lane == 'low' then return root .. 'pending:' .. lane end\n"   \
    "  return root .. 'pending'\n"                                                         \
    "end\n"                                                                                \
    "local function waiting(root)\n"                                                       \
    "  return redis.call('LLEN', root .. 'pending') + redis.call('LLEN', root ..\n"        \
    "         'pending:high') + redis.call('LLEN', root .. 'pending:low') +\n"             \
    "         redis.call('ZCARD', root .. 'delayed')\n"                                    \
    "end\n"                                                                                \
    "local function wake(root)\n"                                                          \
    "  redis.call('LPUSH', root .. 'wake', '1'); redis.call('LTRIM', root .. 'wake', 0, 63)\n" \
    "end\n"

/* enqueue. KEYS[1] the job's lane, KEYS[2] job hash, KEYS[3] idempotency key (optional).
 * ARGV[1] id, ARGV[2] spec JSON, ARGV[3] now ms, ARGV[4] max depth (0: none),
 * ARGV[5] idempotency ttl ms, ARGV[6] queue root, ARGV[7] lane, ARGV[8] run_at ms (a time
 * after now: the job waits in the delayed set until then).
 * Returns {"ok", id, depth} | {"dup", existing id} | {"full", depth} | {"exists", id} (an id
 * collision: the caller draws another). The idempotency check comes first, so a retried
 * enqueue is answered "dup" even when the queue has filled up since. The depth counts every
 * lane and the delayed set. A blocked worker is woken. */
static const char *const enqueue_lua[] = {
    LANES_FN,
    "if KEYS[3] then\n"
    "  local old = redis.call('GET', KEYS[3])\n"
    "  if old then return {'dup', old} end\n"
    "end\n"
    "local max = tonumber(ARGV[4])\n"
    "local n = waiting(ARGV[6])\n"
    "if max > 0 and n >= max then return {'full', n} end\n"
    "if redis.call('EXISTS', KEYS[2]) == 1 then return {'exists', ARGV[1]} end\n"
    "redis.call('HSET', KEYS[2], 'spec', ARGV[2], 'state', 'queued', 'attempts', 0,\n"
    "           'abandoned', 0, 'created_ms', ARGV[3], 'lane', ARGV[7])\n"
    "if KEYS[3] then redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[5]) end\n"
    "if tonumber(ARGV[8]) > tonumber(ARGV[3]) then\n"
    "  redis.call('HSET', KEYS[2], 'run_at_ms', ARGV[8])\n"
    "  redis.call('ZADD', ARGV[6] .. 'delayed', ARGV[8], ARGV[1])\n"
    "else\n"
    "  redis.call('LPUSH', KEYS[1], ARGV[1])\n"
    "end\n"
    "wake(ARGV[6])\n"
    "return {'ok', ARGV[1], n + 1}\n",
    NULL};

/* A batch's job reached a final state (finish, or cancelled or dead without running):
 * counted once in its batch, its summary kept there, an event on the batch's channel, and
 * the batch completed with its last job. A job outside a batch is left alone. */
#define BATCH_FN                                                                             \
    "local function batch_done(job, id, state, result)\n"                                   \
    "  local b = redis.call('HGET', job, 'batch')\n"                                         \
    "  if not b then return end\n"                                                           \
    "  local bk = string.gsub(job, 'job:.*$', 'batch:') .. b\n"                              \
    "  if redis.call('EXISTS', bk) == 0 then return end\n"                                   \
    "  local verdict, score, max = state, 0, 0\n"                                            \
    "  if result then\n"                                                                     \
    "    local ok, r = pcall(cjson.decode, result)\n"                                        \
    "    if ok and type(r) == 'table' then\n"                                                \
    "      verdict = r.verdict or r.status or state\n"                                       \
    "      score = tonumber(r.score) or 0; max = tonumber(r.max_score) or 0\n"               \
    "    end\n"                                                                              \
    "  end\n"                                                                                \
    "  local name = redis.call('HGET', job, 'name') or id\n"                                 \
    "  redis.call('HSET', bk, 'r:' .. id, cjson.encode({name = name, state = state,\n"       \
    "             verdict = verdict, score = score, max_score = max}))\n"                    \
    "  redis.call('HINCRBY', bk, 'c:' .. verdict, 1)\n"                                      \
    "  local done = redis.call('HINCRBY', bk, 'done', 1)\n"                                  \
    "  local total = tonumber(redis.call('HGET', bk, 'total'))\n"                            \
    "  local ch = string.gsub(bk, ':batch:', ':batch-events:')\n"                            \
    "  redis.call('PUBLISH', ch, cjson.encode({event = 'job', id = id, name = name,\n"       \
    "             verdict = verdict, score = score, done = done, total = total}))\n"         \
    "  if done >= total then\n"                                                              \
    "    if redis.call('HGET', bk, 'state') == 'running' then\n"                             \
    "      redis.call('HSET', bk, 'state', 'completed')\n"                                   \
    "    end\n"                                                                              \
    "    redis.call('PUBLISH', ch, cjson.encode({event = 'finished', id = b, done = done,\n" \
    "               total = total}))\n"                                                      \
    "  end\n"                                                                                \
    "end\n"

/* The start of one job, shared by start and take: state=running, worker, started_ms,
 * attempts+1. (job, proc, dead): its hash, our processing list, the dead list.
 * Returns {"ok", spec, attempts, created_ms} | {"gone"} (no hash) | {"cancelled"} | {"done",
 * state} (already finished, e.g. acked late by a worker presumed dead) | {"dead"} (started max
 * attempts times already without finishing, e.g. it crashes every worker that adopts it: it
 * is failed with reason "started <n> times without finishing" and put on dead). All but "ok"
 * also remove the id from the processing list, so the caller simply moves on. "ok" also
 * publishes {"id","event":"started"} on the job's events channel evch. */
#define START_FN                                                                           \
    "local function start(job, proc, dead, id, worker, now, ttl, maxa, evch)\n"            \
    "  if redis.call('EXISTS', job) == 0 then\n"                                           \
    "    redis.call('LREM', proc, 0, id); return {'gone'}\n"                               \
    "  end\n"                                                                              \
    "  local st = redis.call('HGET', job, 'state')\n"                                      \
    "  if st == 'completed' or st == 'failed' or st == 'cancelled' then\n"                 \
    "    redis.call('LREM', proc, 0, id); return {'done', st}\n"                           \
    "  end\n"                                                                              \
    "  if redis.call('HGET', job, 'cancel') == '1' then\n"                                 \
    "    redis.call('HSET', job, 'state', 'cancelled', 'finished_ms', now)\n"              \
    "    if tonumber(ttl) > 0 then redis.call('PEXPIRE', job, ttl) end\n"                  \
    "    redis.call('LREM', proc, 0, id); batch_done(job, id, 'cancelled')\n"              \
    "    return {'cancelled'}\n"                                                           \
    "  end\n"                                                                              \
    "  local n = tonumber(redis.call('HGET', job, 'attempts') or '0')\n"                   \
    "  if n >= tonumber(maxa) then\n"                                                      \
    "    redis.call('HSET', job, 'state', 'failed', 'finished_ms', now, 'reason',\n"       \
    "               'started ' .. n .. ' times without finishing')\n"                      \
    "    redis.call('LREM', proc, 0, id); redis.call('LPUSH', dead, id)\n"                 \
    "    batch_done(job, id, 'failed')\n"                                                  \
    "    return {'dead'}\n"                                                                \
    "  end\n"                                                                              \
    "  local a = redis.call('HINCRBY', job, 'attempts', 1)\n"                              \
    "  redis.call('HSET', job, 'state', 'running', 'worker', worker, 'started_ms', now)\n" \
    "  redis.call('PUBLISH', evch, '{\"id\":\"' .. id .. '\",\"event\":\"started\"}')\n"       \
    "  return {'ok', redis.call('HGET', job, 'spec'), a,\n"                                \
    "          tonumber(redis.call('HGET', job, 'created_ms') or '0')}\n"                  \
    "end\n"

/* start (mark running) one id that BLMOVE or adoption put in the worker's processing list.
 * KEYS[1] job hash, KEYS[2] processing list, KEYS[3] dead. ARGV[1] id, ARGV[2] worker,
 * ARGV[3] now ms, ARGV[4] results ttl ms (for a job found cancelled), ARGV[5] max attempts,
 * ARGV[6] the job's events channel. Returns what START_FN returns. */
static const char *const start_lua[] = {
    BATCH_FN,
    START_FN,
    "return start(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4],\n"
    "             ARGV[5], ARGV[6])\n",
    NULL};

/* take: up to ARGV[5] jobs at once, each moved from a lane to the processing list (the
 * same atomic move as BLMOVE, so no loss window) and started as by start; ids that start
 * skips (cancelled, finished, dead, gone) cost a bounded number of extra moves. One round
 * trip and one AOF write for a whole batch. First, delayed jobs that are due go to the
 * consuming end of their lanes. Lanes are served by weighted turns so that none starves: of
 * every 7 picks 4 go to high, 2 to normal and 1 to low first (an empty lane passes its turn
 * on, in the order high, normal, low). With nothing to take, stale wake-ups are dropped.
 * KEYS[1] processing list, KEYS[2] dead. ARGV[1] worker, ARGV[2] now ms, ARGV[3] results ttl
 * ms, ARGV[4] max attempts, ARGV[5] at most this many, ARGV[6] queue root, ARGV[7] events
 * channel prefix. Returns {id, spec, attempts, created_ms, ...} of the started jobs. */
static const char *const take_lua[] = {
    LANES_FN,
    BATCH_FN,
    START_FN,
    "local root, out, want = ARGV[6], {}, tonumber(ARGV[5])\n"
    "local due = redis.call('ZRANGEBYSCORE', root .. 'delayed', '-inf', ARGV[2], 'LIMIT', 0, 256)\n"
    "for _, id in ipairs(due) do\n"
    "  redis.call('ZREM', root .. 'delayed', id)\n"
    "  redis.call('HDEL', root .. 'job:' .. id, 'run_at_ms')\n"
    "  redis.call('RPUSH', lane_key(root, redis.call('HGET', root .. 'job:' .. id, 'lane')), id)\n"
    "end\n"
    "local orders = {{'high', 'normal', 'low'}, {'normal', 'high', 'low'},\n"
    "                {'low', 'high', 'normal'}}\n"
    "local budget = 4 * want + 16\n"
    "while #out < 4 * want and budget > 0 do\n"
    "  budget = budget - 1\n"
    "  local turn = redis.call('INCR', root .. 'turn') % 7\n"
    "  local order = orders[1]\n"
    "  if turn >= 6 then order = orders[3] elseif turn >= 4 then order = orders[2] end\n"
    "  local id = false\n"
    "  for _, lane in ipairs(order) do\n"
    "    id = redis.call('LMOVE', lane_key(root, lane), KEYS[1], 'RIGHT', 'LEFT')\n"
    "    if id then break end\n"
    "  end\n"
    "  if not id then\n"
    "    if #out == 0 then redis.call('DEL', root .. 'wake') end\n"
    "    break\n"
    "  end\n"
    "  local r = start(root .. 'job:' .. id, KEYS[1], KEYS[2], id, ARGV[1], ARGV[2], ARGV[3],\n"
    "                  ARGV[4], ARGV[7] .. id)\n"
    "  if r[1] == 'ok' then\n"
    "    out[#out + 1] = id; out[#out + 1] = r[2]; out[#out + 1] = r[3]\n"
    "    out[#out + 1] = r[4]\n"
    "  end\n"
    "end\n"
    "return out\n",
    NULL};

/* retry: a job that failed for a reason of ours (the sandbox or the worker, never the
 * program's) waits in the delayed set for another start. KEYS[1] job hash, KEYS[2]
 * processing list. ARGV[1] id, ARGV[2] now ms, ARGV[3] delay ms, ARGV[4] queue root,
 * ARGV[5] reason. Returns 1, or 0 when the id was not in the processing list (not ours). */
static const char *const retry_lua[] = {
    "if redis.call('LREM', KEYS[2], 0, ARGV[1]) == 0 then return 0 end\n"
    "local at = tonumber(ARGV[2]) + tonumber(ARGV[3])\n"
    "redis.call('HSET', KEYS[1], 'state', 'queued', 'reason', ARGV[5], 'run_at_ms', at)\n"
    "redis.call('HDEL', KEYS[1], 'worker')\n"
    "redis.call('ZADD', ARGV[4] .. 'delayed', at, ARGV[1])\n"
    "return 1\n",
    NULL};

/* finish (ack), once the result is durable in PostgreSQL.
 * KEYS[1] job hash, KEYS[2] processing list, KEYS[3] pending, KEYS[4] dead.
 * ARGV[1] id, ARGV[2] final state, ARGV[3] result JSON, ARGV[4] now ms, ARGV[5] results ttl ms
 * (0: keep), ARGV[6] events channel, ARGV[7] event message.
 * Returns 1, or 0 when the id was no longer in the processing list (taken back as orphaned):
 * it is then also removed from pending and dead, so the stored result is not run again. */
static const char *const finish_lua[] = {
    BATCH_FN,
    "local mine = redis.call('LREM', KEYS[2], 0, ARGV[1])\n"
    "if mine == 0 then\n"
    "  redis.call('LREM', KEYS[3], 0, ARGV[1]); redis.call('LREM', KEYS[4], 0, ARGV[1])\n"
    "end\n"
    "local before = redis.call('HGET', KEYS[1], 'state')\n"
    "redis.call('HSET', KEYS[1], 'state', ARGV[2], 'result', ARGV[3], 'finished_ms', ARGV[4])\n"
    "if before ~= 'completed' and before ~= 'failed' and before ~= 'cancelled' then\n"
    "  batch_done(KEYS[1], ARGV[1], ARGV[2], ARGV[3])\n"
    "end\n"
    "redis.call('HDEL', KEYS[1], 'reason')\n"
    "if tonumber(ARGV[5]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end\n"
    "redis.call('PUBLISH', ARGV[6], ARGV[7])\n"
    "if mine > 0 then return 1 end\n"
    "return 0\n",
    NULL};

/* recover the processing list of a worker whose heartbeat expired (one queue).
 * KEYS[1] the worker's processing list, KEYS[2] pending (unused: lanes come from ARGV[6]),
 * KEYS[3] dead. ARGV[1] worker, ARGV[2] max attempts, ARGV[3] now ms, ARGV[4] job key prefix
 * ("runq:{Q}:job:"), ARGV[5] results ttl ms, ARGV[6] queue root.
 * Each id: abandoned += 1; a job asked to cancel becomes cancelled; a job started
 * max-attempts times goes to dead as failed with reason "abandoned by worker <w> <n> times";
 * any other goes back to the consuming end of its lane (state queued), oldest first.
 * attempts is not changed: it counts starts and the next start adds one.
 * Returns {requeued, dead, cancelled}. */
static const char *const recover_lua[] = {
    LANES_FN,
    BATCH_FN,
    "local rq, dead, cx = 0, 0, 0\n"
    "while true do\n"
    "  local id = redis.call('LPOP', KEYS[1])\n"
    "  if not id then break end\n"
    "  local job = ARGV[4] .. id\n"
    "  local st = redis.call('HGET', job, 'state')\n"
    "  if st == 'queued' or st == 'running' then\n"
    "    local ab = redis.call('HINCRBY', job, 'abandoned', 1)\n"
    "    local att = tonumber(redis.call('HGET', job, 'attempts') or '0')\n"
    "    if redis.call('HGET', job, 'cancel') == '1' then\n"
    "      redis.call('HSET', job, 'state', 'cancelled', 'finished_ms', ARGV[3])\n"
    "      if tonumber(ARGV[5]) > 0 then redis.call('PEXPIRE', job, ARGV[5]) end\n"
    "      batch_done(job, id, 'cancelled'); cx = cx + 1\n"
    "    elseif att >= tonumber(ARGV[2]) then\n"
    "      redis.call('HSET', job, 'state', 'failed', 'finished_ms', ARGV[3], 'reason',\n"
    "                 'abandoned by worker ' .. ARGV[1] .. ' ' .. ab .. ' times')\n"
    "      redis.call('LPUSH', KEYS[3], id); batch_done(job, id, 'failed'); dead = dead + 1\n"
    "    else\n"
    "      redis.call('HSET', job, 'state', 'queued'); redis.call('HDEL', job, 'worker')\n"
    "      redis.call('RPUSH', lane_key(ARGV[6], redis.call('HGET', job, 'lane')), id)\n"
    "      rq = rq + 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if rq > 0 then wake(ARGV[6]) end\n"
    "return {rq, dead, cx}\n",
    NULL};

/* cancel. KEYS[1] job hash, KEYS[2] pending (unused: lanes come from ARGV[8]). ARGV[1] id,
 * ARGV[2] now ms, ARGV[3] results ttl ms, ARGV[4] control channel prefix ("runq:control:"),
 * ARGV[5] events channel, ARGV[6] event message, ARGV[7] control message, ARGV[8] queue root.
 * Sets cancel=1, then: still waiting (in its lane or the delayed set) -> removed, state
 * cancelled, event published,
 * returns {"cancelled"}; running -> control message to runq:control:<worker>, returns
 * {"running", worker}; fetched but not started -> {"flagged"} (start will see the flag);
 * already finished -> {"finished", state}; no such job -> {"missing"}. */
#define CANCEL_FN                                                                              \
    "local function cancel(job, id, now, ttl, ctl, evch, evmsg, ctlmsg, root)\n"                 \
    "  if redis.call('EXISTS', job) == 0 then return {'missing'} end\n"                          \
    "  local st = redis.call('HGET', job, 'state')\n"                                            \
    "  if st == 'completed' or st == 'failed' or st == 'cancelled' then\n"                       \
    "    return {'finished', st}\n"                                                              \
    "  end\n"                                                                                    \
    "  redis.call('HSET', job, 'cancel', '1')\n"                                                 \
    "  local lane = lane_key(root, redis.call('HGET', job, 'lane'))\n"                           \
    "  if redis.call('LREM', lane, 0, id) + redis.call('ZREM', root .. 'delayed', id) > 0 then\n" \
    "    redis.call('HSET', job, 'state', 'cancelled', 'finished_ms', now)\n"                    \
    "    if tonumber(ttl) > 0 then redis.call('PEXPIRE', job, ttl) end\n"                        \
    "    redis.call('PUBLISH', evch, evmsg)\n"                                                   \
    "    batch_done(job, id, 'cancelled')\n"                                                     \
    "    return {'cancelled'}\n"                                                                 \
    "  end\n"                                                                                    \
    "  if st == 'running' then\n"                                                                \
    "    local w = redis.call('HGET', job, 'worker')\n"                                          \
    "    redis.call('PUBLISH', ctl .. w, ctlmsg)\n"                                              \
    "    return {'running', w}\n"                                                                \
    "  end\n"                                                                                    \
    "  return {'flagged'}\n"                                                                     \
    "end\n"

static const char *const cancel_lua[] = {
    LANES_FN,
    BATCH_FN,
    CANCEL_FN,
    "return cancel(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7],\n"
    "              ARGV[8])\n",
    NULL};

/* batch_enqueue: a batch and all its jobs at once, or nothing. KEYS[1] batch hash, KEYS[2]
 * batch jobs list. ARGV[1] queue root, ARGV[2] batch id, ARGV[3] the shared graded spec,
 * ARGV[4] now ms, ARGV[5] lane, ARGV[6] max depth (0: none), ARGV[7] n, then for each job
 * its id, spec and name. Returns {"ok", n} | {"full", depth} | {"exists"} (an id collision:
 * draw others). The jobs go to their lane in order; a blocked worker is woken. */
static const char *const batch_enqueue_lua[] = {
    LANES_FN,
    "local root, n, max = ARGV[1], tonumber(ARGV[7]), tonumber(ARGV[6])\n"
    "local depth = waiting(root)\n"
    "if max > 0 and depth + n > max then return {'full', depth} end\n"
    "if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end\n"
    "for i = 0, n - 1 do\n"
    "  if redis.call('EXISTS', root .. 'job:' .. ARGV[8 + 3 * i]) == 1 then return {'exists'} end\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'spec', ARGV[3], 'total', n, 'done', 0, 'state', 'running',\n"
    "           'created_ms', ARGV[4])\n"
    "local lane = lane_key(root, ARGV[5])\n"
    "for i = 0, n - 1 do\n"
    "  local id, spec, name = ARGV[8 + 3 * i], ARGV[9 + 3 * i], ARGV[10 + 3 * i]\n"
    "  redis.call('HSET', root .. 'job:' .. id, 'spec', spec, 'state', 'queued', 'attempts', 0,\n"
    "             'abandoned', 0, 'created_ms', ARGV[4], 'lane', ARGV[5], 'batch', ARGV[2],\n"
    "             'name', name)\n"
    "  redis.call('LPUSH', lane, id); redis.call('RPUSH', KEYS[2], id)\n"
    "  redis.call('HSET', KEYS[1], 'r:' .. id, cjson.encode({name = name, state = 'queued'}))\n"
    "end\n"
    "wake(root)\n"
    "return {'ok', n}\n",
    NULL};

/* batch_cancel: cancel every job of a batch (as cancel does each) and mark it cancelled.
 * KEYS[1] batch hash, KEYS[2] batch jobs list. ARGV[1] queue root, ARGV[2] now ms, ARGV[3]
 * results ttl ms, ARGV[4] control channel prefix, ARGV[5] events channel prefix. Returns
 * {cancelled, running, finished} counts, or {-1} when there is no such batch. */
static const char *const batch_cancel_lua[] = {
    LANES_FN,
    BATCH_FN,
    CANCEL_FN,
    "if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end\n"
    "if redis.call('HGET', KEYS[1], 'state') == 'running' then\n"
    "  redis.call('HSET', KEYS[1], 'state', 'cancelled')\n"
    "end\n"
    "local c = {0, 0, 0}\n"
    "for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do\n"
    "  local r = cancel(ARGV[1] .. 'job:' .. id, id, ARGV[2], ARGV[3], ARGV[4], ARGV[5] .. id,\n"
    "                   '{\"id\":\"' .. id .. '\",\"event\":\"cancelled\",\"state\":\"cancelled\"}',\n"
    "                   '{\"cmd\":\"cancel\",\"id\":\"' .. id .. '\"}', ARGV[1])\n"
    "  if r[1] == 'cancelled' then c[1] = c[1] + 1\n"
    "  elseif r[1] == 'running' or r[1] == 'flagged' then c[2] = c[2] + 1\n"
    "  else c[3] = c[3] + 1 end\n"
    "end\n"
    "return c\n",
    NULL};

/* adopt: an id in this worker's processing list that this process does not hold: a BLMOVE
 * or take whose reply was lost to a disconnect, or what an earlier process of the same worker
 * name left behind. KEYS[1] processing list. ARGV[1] worker, ARGV[2] job key prefix, ARGV[3]
 * "1" on the first scan of a process: nothing runs yet, so jobs still marked running by this
 * name are marked queued first (their next start counts as a new attempt), ARGV[4] the ids
 * this process holds, separated by spaces.
 * Returns the oldest id not held here, or nil. */
static const char *const adopt_lua[] = {
    "local held = {}\n"
    "for id in string.gmatch(ARGV[4], '%S+') do held[id] = true end\n"
    "local ids = redis.call('LRANGE', KEYS[1], 0, -1)\n"
    "local pick = false\n"
    "for i = #ids, 1, -1 do\n"
    "  if ARGV[3] == '1' then\n"
    "    local job = ARGV[2] .. ids[i]\n"
    "    local f = redis.call('HMGET', job, 'state', 'worker')\n"
    "    if f[1] == 'running' and f[2] == ARGV[1] then redis.call('HSET', job, 'state', 'queued') end\n"
    "  end\n"
    "  if not pick and not held[ids[i]] then pick = ids[i] end\n"
    "end\n"
    "return pick\n",
    NULL};

/* depth. KEYS[1] pending, KEYS[2] dead. ARGV[1] queue root. Returns {waiting (every lane
 * and the delayed set), LLEN dead, high, normal, low, delayed}. */
static const char *const depth_lua[] = {
    LANES_FN,
    "local r = ARGV[1]\n"
    "return {waiting(r), redis.call('LLEN', KEYS[2]), redis.call('LLEN', r ..\n"
    "        'pending:high'), redis.call('LLEN', r .. 'pending'),\n"
    "        redis.call('LLEN', r .. 'pending:low'), redis.call('ZCARD', r .. 'delayed')}\n",
    NULL};

/* release: a fetched job this worker will not run (it is draining) goes back where fetches
 * take from in its lane, so it is the next one fetched; if take had already started it here,
 * that start is undone (state queued, attempts back down by one): it never ran.
 * KEYS[1] processing list, KEYS[2] pending (unused). ARGV[1] id, ARGV[2] worker, ARGV[3] job
 * key prefix, ARGV[4] queue root. Returns 1, or 0 when the id was not in the processing list. */
static const char *const release_lua[] = {
    LANES_FN,
    "if redis.call('LREM', KEYS[1], 0, ARGV[1]) == 0 then return 0 end\n"
    "local job = ARGV[3] .. ARGV[1]\n"
    "local f = redis.call('HMGET', job, 'state', 'worker', 'lane')\n"
    "if f[1] == 'running' and f[2] == ARGV[2] then\n"
    "  redis.call('HSET', job, 'state', 'queued')\n"
    "  redis.call('HINCRBY', job, 'attempts', -1)\n"
    "  redis.call('HDEL', job, 'worker', 'started_ms')\n"
    "end\n"
    "redis.call('RPUSH', lane_key(ARGV[4], f[3]), ARGV[1])\n"
    "wake(ARGV[4])\n"
    "return 1\n",
    NULL};

/* delete: a finished job's hash. KEYS[1] job hash. Returns 1 deleted, 0 no such job, -1 not
 * finished (queued or running: left alone). */
static const char *const delete_lua[] = {
    "local st = redis.call('HGET', KEYS[1], 'state')\n"
    "if not st then return 0 end\n"
    "if st == 'completed' or st == 'failed' or st == 'cancelled' then\n"
    "  redis.call('DEL', KEYS[1]); return 1\n"
    "end\n"
    "return -1\n",
    NULL};

/* note: a field of a job hash, set only while the hash exists (never a half hash after it
 * expired or was deleted). KEYS[1] job hash. ARGV[1] field, ARGV[2] value. Returns 1 set,
 * 0 no such job. */
static const char *const note_lua[] = {
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
    "return 1\n",
    NULL};

/* batch_get: KEYS[1] batch hash, KEYS[2] its jobs list. Returns {the hash's fields without
 * the shared tests ("spec") and the job summaries ("r:<id>"), the job ids, each job's
 * summary in the ids' order (nil while it runs)}: the tests never leave Redis for a status
 * read, and the caller finds a job's summary by position. */
static const char *const batch_get_lua[] = {
    "local h = redis.call('HGETALL', KEYS[1])\n"
    "local fields = {}\n"
    "for i = 1, #h, 2 do\n"
    "  if h[i] ~= 'spec' and string.sub(h[i], 1, 2) ~= 'r:' then\n"
    "    fields[#fields + 1] = h[i]; fields[#fields + 1] = h[i + 1]\n"
    "  end\n"
    "end\n"
    "local ids = redis.call('LRANGE', KEYS[2], 0, -1)\n"
    "local sums = {}\n"
    "for i, id in ipairs(ids) do sums[i] = redis.call('HGET', KEYS[1], 'r:' .. id) end\n"
    "return {fields, ids, sums}\n",
    NULL};

/* Each script's text in pieces: C caps one literal at 4095 bytes. */
static const char *const *const scripts[QUEUE_SCRIPT_COUNT] = {
    [QUEUE_SCRIPT_ENQUEUE] = enqueue_lua,
    [QUEUE_SCRIPT_START] = start_lua,
    [QUEUE_SCRIPT_TAKE] = take_lua,
    [QUEUE_SCRIPT_RETRY] = retry_lua,
    [QUEUE_SCRIPT_NOTE] = note_lua,
    [QUEUE_SCRIPT_BATCH_ENQUEUE] = batch_enqueue_lua,
    [QUEUE_SCRIPT_BATCH_CANCEL] = batch_cancel_lua,
    [QUEUE_SCRIPT_BATCH_GET] = batch_get_lua,
    [QUEUE_SCRIPT_RELEASE] = release_lua,
    [QUEUE_SCRIPT_DELETE] = delete_lua,
    [QUEUE_SCRIPT_FINISH] = finish_lua,
    [QUEUE_SCRIPT_RECOVER] = recover_lua,
    [QUEUE_SCRIPT_CANCEL] = cancel_lua,
    [QUEUE_SCRIPT_ADOPT] = adopt_lua,
    [QUEUE_SCRIPT_DEPTH] = depth_lua,
};

char *queue_script_text(enum queue_script s)
{
    size_t i, len = 1;
    char *text, *p;

    if ((unsigned)s >= QUEUE_SCRIPT_COUNT)
        return NULL;
    for (i = 0; scripts[s][i]; i++)
        len += strlen(scripts[s][i]);
    if (!(text = p = malloc(len)))
        return NULL;
    for (i = 0; scripts[s][i]; i++) {
        size_t n = strlen(scripts[s][i]);
        memcpy(p, scripts[s][i], n);
        p += n;
    }
    *p = '\0';
    return text;
}
