/* SPDX-License-Identifier: MIT */
/* keys: Redis key and channel names, job ids (see keys.h). */
#include "keys.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static int in_set(const char *s, size_t max, const char *extra, int upper)
{
    size_t n = 0;

    if (!s)
        return -EINVAL;
    for (; s[n]; n++) {
        char c = s[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(extra, c) ||
                 (upper && c >= 'A' && c <= 'Z');
        if (!ok || n >= max)
            return -EINVAL;
    }
    return n ? 0 : -EINVAL;
}

int keys_valid_queue(const char *queue)
{
    return in_set(queue, KEYS_QUEUE_MAX, "_-", 0);
}

int keys_valid_worker(const char *worker)
{
    return in_set(worker, KEYS_WORKER_MAX, "._-", 1);
}

int keys_valid_idem(const char *key)
{
    size_t n;

    if (!key)
        return -EINVAL;
    for (n = 0; key[n]; n++) {
        if ((unsigned char)key[n] < 0x21 || (unsigned char)key[n] > 0x7e || n >= KEYS_IDEM_MAX)
            return -EINVAL;
    }
    return n ? 0 : -EINVAL;
}

static int put(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int put(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    return (size_t)n < len ? 0 : -ENOSPC;
}

int keys_job_id_make(const char *queue, const uint8_t rnd[KEYS_RANDOM_BYTES], char *out, size_t len)
{
    char tail[KEYS_RANDOM_CHARS + 1];
    unsigned int acc = 0, bits = 0;
    size_t i, o = 0;

    if (keys_valid_queue(queue) < 0 || !rnd)
        return -EINVAL;
    for (i = 0; i < KEYS_RANDOM_BYTES; i++) {
        acc = (acc << 8) | rnd[i];
        bits += 8;
        while (bits >= 5) {
            tail[o++] = b32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    tail[o++] = b32[(acc << (5 - bits)) & 31]; /* 3 data bits, 2 zero padding bits */
    tail[o] = '\0';
    return put(out, len, "%s.%s", queue, tail);
}

int keys_job_id_parse(const char *id, char *queue, size_t qlen)
{
    const char *dot, *p;
    size_t qn;
    char q[KEYS_QUEUE_MAX + 1];

    if (!id || !(dot = strrchr(id, '.')))
        return -EINVAL;
    qn = (size_t)(dot - id);
    if (qn == 0 || qn > KEYS_QUEUE_MAX || strlen(dot + 1) != KEYS_RANDOM_CHARS)
        return -EINVAL;
    memcpy(q, id, qn);
    q[qn] = '\0';
    if (keys_valid_queue(q) < 0)
        return -EINVAL;
    for (p = dot + 1; *p; p++) {
        const char *c = *p ? strchr(b32, *p) : NULL;
        if (!c)
            return -EINVAL;
        if (!p[1] && ((c - b32) & 3)) /* non-canonical padding bits */
            return -EINVAL;
    }
    if (queue)
        return put(queue, qlen, "%s", q);
    return 0;
}

static int queue_of(const char *id, char q[KEYS_QUEUE_MAX + 1])
{
    return keys_job_id_parse(id, q, KEYS_QUEUE_MAX + 1);
}

/* "runq:{Q}:<kind><id><tail>", Q taken from the id (a job's or a batch's). */
static int id_key(char *out, size_t len, const char *id, const char *kind, const char *tail)
{
    char q[KEYS_QUEUE_MAX + 1];
    int r = queue_of(id, q);

    return r < 0 ? r : put(out, len, "runq:{%s}:%s%s%s", q, kind, id, tail);
}

int keys_job(char *out, size_t len, const char *id)
{
    return id_key(out, len, id, "job:", "");
}

int keys_job_prefix(char *out, size_t len, const char *queue)
{
    if (keys_valid_queue(queue) < 0)
        return -EINVAL;
    return put(out, len, "runq:{%s}:job:", queue);
}

int keys_queue_root(char *out, size_t len, const char *queue)
{
    if (keys_valid_queue(queue) < 0)
        return -EINVAL;
    return put(out, len, "runq:{%s}:", queue);
}

int keys_wake(char *out, size_t len, const char *queue)
{
    if (keys_valid_queue(queue) < 0)
        return -EINVAL;
    return put(out, len, "runq:{%s}:wake", queue);
}

int keys_pending(char *out, size_t len, const char *queue)
{
    if (keys_valid_queue(queue) < 0)
        return -EINVAL;
    return put(out, len, "runq:{%s}:pending", queue);
}

int keys_processing(char *out, size_t len, const char *queue, const char *worker)
{
    if (keys_valid_queue(queue) < 0 || keys_valid_worker(worker) < 0)
        return -EINVAL;
    return put(out, len, "runq:{%s}:processing:%s", queue, worker);
}

int keys_dead(char *out, size_t len, const char *queue)
{
    if (keys_valid_queue(queue) < 0)
        return -EINVAL;
    return put(out, len, "runq:{%s}:dead", queue);
}

int keys_idem(char *out, size_t len, const char *queue, const char *key)
{
    if (keys_valid_queue(queue) < 0 || keys_valid_idem(key) < 0)
        return -EINVAL;
    return put(out, len, "runq:{%s}:idem:%s", queue, key);
}

int keys_events(char *out, size_t len, const char *id)
{
    return id_key(out, len, id, "events:", "");
}

int keys_batch(char *out, size_t len, const char *batch_id)
{
    return id_key(out, len, batch_id, "batch:", "");
}

int keys_batch_jobs(char *out, size_t len, const char *batch_id)
{
    return id_key(out, len, batch_id, "batch:", ":jobs");
}

int keys_batch_events(char *out, size_t len, const char *batch_id)
{
    return id_key(out, len, batch_id, "batch-events:", "");
}

int keys_events_prefix(char *out, size_t len, const char *queue)
{
    if (keys_valid_queue(queue) < 0)
        return -EINVAL;
    return put(out, len, "runq:{%s}:events:", queue);
}

int keys_events_pattern(char *out, size_t len, const char *queue)
{
    if (keys_valid_queue(queue) < 0)
        return -EINVAL;
    return put(out, len, "runq:{%s}:events:*", queue);
}

int keys_worker(char *out, size_t len, const char *worker)
{
    if (keys_valid_worker(worker) < 0)
        return -EINVAL;
    return put(out, len, "runq:worker:%s", worker);
}

int keys_control(char *out, size_t len, const char *worker)
{
    if (keys_valid_worker(worker) < 0)
        return -EINVAL;
    return put(out, len, KEYS_CONTROL_PREFIX "%s", worker);
}
