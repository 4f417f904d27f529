/* SPDX-License-Identifier: MIT */
/* Unit tests of common/keys: names, hash tags, job id generation and strict parsing. */
#include <errno.h>
#include <string.h>

#include "keys.h"
#include "tap.h"

static void test_names(struct tap *t)
{
    char b[KEYS_NAME_MAX];
    const char *id = "default.aaaaaaaaaaaaaaaaaaaaaaaaaa";

    tap_ok(t, keys_pending(b, sizeof(b), "default") == 0 && !strcmp(b, "runq:{default}:pending"),
           "pending key");
    tap_ok(t,
           keys_processing(b, sizeof(b), "gpu", "host-1.42") == 0 &&
               !strcmp(b, "runq:{gpu}:processing:host-1.42"),
           "processing key");
    tap_ok(t, keys_dead(b, sizeof(b), "q_1") == 0 && !strcmp(b, "runq:{q_1}:dead"), "dead key");
    tap_ok(t, keys_idem(b, sizeof(b), "q", "k:1/x") == 0 && !strcmp(b, "runq:{q}:idem:k:1/x"),
           "idempotency key");
    tap_ok(t,
           keys_job(b, sizeof(b), id) == 0 &&
               !strcmp(b, "runq:{default}:job:default.aaaaaaaaaaaaaaaaaaaaaaaaaa"),
           "job key derives the queue from the id");
    tap_ok(t,
           keys_events(b, sizeof(b), id) == 0 &&
               !strcmp(b, "runq:{default}:events:default.aaaaaaaaaaaaaaaaaaaaaaaaaa"),
           "events channel");
    tap_ok(t, keys_events_pattern(b, sizeof(b), "q") == 0 && !strcmp(b, "runq:{q}:events:*"),
           "events pattern");
    tap_ok(t, keys_job_prefix(b, sizeof(b), "q") == 0 && !strcmp(b, "runq:{q}:job:"), "job prefix");
    tap_ok(t, keys_worker(b, sizeof(b), "w1") == 0 && !strcmp(b, "runq:worker:w1"),
           "heartbeat key");
    tap_ok(t, keys_control(b, sizeof(b), "w1") == 0 && !strcmp(b, "runq:control:w1"),
           "control channel");
    tap_ok(t, keys_pending(b, 10, "default") == -ENOSPC, "short buffer -> -ENOSPC");
    tap_ok(t, keys_job(b, sizeof(b), "nope") == -EINVAL, "job key of a bad id -> -EINVAL");
}

static void test_validation(struct tap *t)
{
    char q65[66];

    memset(q65, 'a', 65);
    q65[65] = '\0';
    tap_ok(t, keys_valid_queue("default") == 0, "queue ok");
    tap_ok(t, keys_valid_queue("a-b_c9") == 0, "queue with - _ digits ok");
    tap_ok(t, keys_valid_queue("") == -EINVAL, "empty queue rejected");
    tap_ok(t, keys_valid_queue(NULL) == -EINVAL, "NULL queue rejected");
    tap_ok(t, keys_valid_queue("a}b") == -EINVAL, "brace in queue rejected (hash tag)");
    tap_ok(t, keys_valid_queue("a.b") == -EINVAL, "dot in queue rejected (id separator)");
    tap_ok(t, keys_valid_queue("a:b") == -EINVAL, "colon in queue rejected");
    tap_ok(t, keys_valid_queue("Upper") == -EINVAL, "upper case queue rejected");
    tap_ok(t, keys_valid_queue(q65) == -EINVAL, "65-byte queue rejected");
    q65[64] = '\0';
    tap_ok(t, keys_valid_queue(q65) == 0, "64-byte queue ok");
    tap_ok(t, keys_valid_worker("Host.example-12_3") == 0, "worker ok");
    tap_ok(t, keys_valid_worker("a b") == -EINVAL, "worker with space rejected");
    tap_ok(t, keys_valid_worker("a:b") == -EINVAL, "worker with colon rejected");
    tap_ok(t, keys_valid_idem("abc:123/{x}") == 0, "idempotency key with punctuation ok");
    tap_ok(t, keys_valid_idem("a b") == -EINVAL, "idempotency key with space rejected");
    tap_ok(t, keys_valid_idem("a\x01") == -EINVAL, "control byte rejected");
    tap_ok(t, keys_valid_idem("\xc3\xa9") == -EINVAL, "non-ASCII rejected");
}

static void test_ids(struct tap *t)
{
    uint8_t zero[KEYS_RANDOM_BYTES] = {0}, ones[KEYS_RANDOM_BYTES], seq[KEYS_RANDOM_BYTES];
    char id[KEYS_ID_MAX + 1], q[KEYS_QUEUE_MAX + 1], bad[KEYS_ID_MAX + 8];
    size_t i;

    memset(ones, 0xff, sizeof(ones));
    for (i = 0; i < sizeof(seq); i++)
        seq[i] = (uint8_t)(i * 17);
    tap_ok(t,
           keys_job_id_make("default", zero, id, sizeof(id)) == 0 &&
               !strcmp(id, "default.aaaaaaaaaaaaaaaaaaaaaaaaaa"),
           "zero bytes -> all 'a'");
    tap_ok(t,
           keys_job_id_make("q", ones, id, sizeof(id)) == 0 &&
               !strcmp(id, "q.7777777777777777777777777"
                           "4"),
           "0xff bytes -> '7'... and a padded last char (%s)", id);
    tap_ok(t, keys_job_id_parse(id, q, sizeof(q)) == 0 && !strcmp(q, "q"),
           "generated id parses back to its queue");
    tap_ok(t,
           keys_job_id_make("q", seq, id, sizeof(id)) == 0 &&
               !strcmp(id, "q.aaisem2ekvthpcezvk54zxpo74"),
           "known vector, as Python base64.b32encode (%s)", id);
    tap_ok(t, keys_job_id_parse(id, NULL, 0) == 0, "known vector parses");
    tap_ok(t, keys_job_id_make("q", seq, id, 10) == -ENOSPC, "short buffer -> -ENOSPC");
    tap_ok(t, keys_job_id_make("Q", seq, id, sizeof(id)) == -EINVAL, "bad queue -> -EINVAL");
    tap_ok(t,
           keys_job_id_parse("q.7777777777777777777777777"
                             "7",
                             NULL, 0) == -EINVAL,
           "non-zero padding bits rejected");
    tap_ok(t, keys_job_id_parse("q.aaaaaaaaaaaaaaaaaaaaaaaaa", NULL, 0) == -EINVAL,
           "25 chars rejected");
    tap_ok(t, keys_job_id_parse("q.aaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, 0) == -EINVAL,
           "27 chars rejected");
    tap_ok(t, keys_job_id_parse("q.aaaaaaaaaaaaaaaaaaaaaaaaA", NULL, 0) == -EINVAL,
           "upper case rejected");
    tap_ok(t, keys_job_id_parse("q.aaaaaaaaaaaaaaaaaaaaaaaa1a", NULL, 0) == -EINVAL,
           "'1' (not base32) rejected");
    tap_ok(t, keys_job_id_parse(".aaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, 0) == -EINVAL,
           "empty queue rejected");
    tap_ok(t, keys_job_id_parse("a.b.aaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, 0) == -EINVAL,
           "dot inside the queue rejected");
    tap_ok(t, keys_job_id_parse("a}.aaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, 0) == -EINVAL,
           "brace in queue rejected");
    tap_ok(t, keys_job_id_parse("", NULL, 0) == -EINVAL && keys_job_id_parse(NULL, q, 1) == -EINVAL,
           "empty and NULL rejected");
    tap_ok(t, keys_job_id_parse("default.aaaaaaaaaaaaaaaaaaaaaaaaaa", q, 4) == -ENOSPC,
           "queue buffer too small -> -ENOSPC");
    snprintf(bad, sizeof(bad), "q.aaaaaaaaaaaaaaaaaaaaaaaaaa%c", '\n');
    tap_ok(t, keys_job_id_parse(bad, NULL, 0) == -EINVAL, "trailing newline rejected");
}

int main(void)
{
    struct tap t = {0};

    test_names(&t);
    test_validation(&t);
    test_ids(&t);
    return tap_done(&t);
}
