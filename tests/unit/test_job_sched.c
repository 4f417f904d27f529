/* SPDX-License-Identifier: MIT */
/* Unit tests of job_sched: priority names, lanes, run_at parsing, retry delays. */
#include <string.h>

#include "job_sched.h"
#include "tap.h"

static int run_at(const char *json, int64_t now, int64_t max, int64_t *out, struct api_error *e)
{
    json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
    int r;

    *out = -1;
    memset(e, 0, sizeof(*e));
    r = v ? job_sched_run_at(v, now, max, out, e) : -99;
    json_decref(v);
    return r;
}

static int prio(const char *json, int *out)
{
    struct api_error e;
    json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
    int r = v ? job_sched_priority(v, out, &e) : -99;

    json_decref(v);
    return r == 0 ? 0 : (strcmp(e.field, "priority") == 0 ? -1 : -2);
}

/* run_at and callback_url through job_spec_parse and the stored (canonical) form. */
static void test_spec(struct tap *t)
{
    static const char body[] = "{\"language\": \"python\", \"source\": \"1\", \"priority\": "
                               "\"low\", \"run_at\": 2000, \"callback_url\": "
                               "\"https://hooks.example.com/runq?x=1\"}";
    struct job_policy p = {.now_ms = 1000000, .webhooks = 1};
    struct job_spec s, back;
    struct api_error e;
    json_t *j = NULL;
    int ok;

    ok = job_spec_parse(body, strlen(body), &p, &s, &e) == 0;
    tap_ok(t, ok && s.priority == 9 && s.run_at_ms == 2000000 &&
                  !strcmp(s.callback_url, "https://hooks.example.com/runq?x=1"),
           "parsed: priority low (9), run_at in ms, callback_url");
    if (ok) {
        j = job_spec_to_json(&s);
        tap_ok(t, j && job_spec_from_json(j, &back, &e) == 0 && back.run_at_ms == 2000000 &&
                      back.priority == 9 && back.callback_url &&
                      !strcmp(back.callback_url, s.callback_url),
               "the stored form keeps them");
        if (j && back.language)
            job_spec_free(&back);
        json_decref(j);
        job_spec_free(&s);
    }
    p.webhooks = 0;
    tap_ok(t, job_spec_parse(body, strlen(body), &p, &s, &e) < 0 && e.status == 422 &&
                  !strcmp(e.field, "callback_url"),
           "webhooks off: 422 naming callback_url");
    p.webhooks = 1;
    static const char ftp[] = "{\"language\": \"python\", \"source\": \"1\", \"callback_url\": "
                              "\"ftp://x/\"}";
    tap_ok(t, job_spec_parse(ftp, strlen(ftp), &p, &s, &e) < 0 && e.status == 400 &&
                  !strcmp(e.field, "callback_url"),
           "an ftp URL: 400 naming callback_url");
}

int main(void)
{
    struct tap t = {0};
    struct api_error e;
    int64_t at;
    int p = -1, ok = 1;
    uint64_t d, prev = 0;

    tap_ok(&t, prio("\"high\"", &p) == 0 && p == 1, "\"high\" is priority 1");
    tap_ok(&t, prio("\"normal\"", &p) == 0 && p == 5, "\"normal\" is 5");
    tap_ok(&t, prio("\"low\"", &p) == 0 && p == 9, "\"low\" is 9");
    tap_ok(&t, prio("0", &p) == 0 && p == 0 && prio("9", &p) == 0 && p == 9, "0 and 9 as numbers");
    tap_ok(&t, prio("10", &p) == -1 && prio("-1", &p) == -1 && prio("\"HIGH\"", &p) == -1 &&
                   prio("2.5", &p) == -1 && prio("null", &p) == -1,
           "10, -1, \"HIGH\", 2.5 and null are refused, naming priority");
    for (p = 0; p <= 9; p++)
        ok &= job_sched_lane(p) == (p <= 3 ? JOB_SCHED_LANE_HIGH
                                           : p >= 7 ? JOB_SCHED_LANE_LOW : JOB_SCHED_LANE_NORMAL);
    tap_ok(&t, ok, "lanes: 0-3 high, 4-6 normal, 7-9 low");

    tap_ok(&t, run_at("\"2026-11-23T16:00:00Z\"", 0, 0, &at, &e) == 0 && at == 1795449600000LL,
           "RFC 3339 UTC (%lld)", (long long)at);
    tap_ok(&t, run_at("\"2026-11-23T17:30:00.250+01:30\"", 0, 0, &at, &e) == 0 &&
                   at == 1795449600250LL,
           "an offset and milliseconds");
    tap_ok(&t, run_at("\"2024-02-29t00:00:00z\"", 0, 0, &at, &e) == 0 && at == 1709164800000LL,
           "a leap day, lower-case t and z");
    tap_ok(&t, run_at("\"2023-02-29T00:00:00Z\"", 0, 0, &at, &e) < 0 &&
                   !strcmp(e.field, "run_at") && e.status == 400,
           "29 February of a common year: 400 naming run_at");
    tap_ok(&t, run_at("\"2026-11-23 16:00:00Z\"", 0, 0, &at, &e) < 0 &&
                   run_at("\"2026-11-23T16:00:00\"", 0, 0, &at, &e) < 0 &&
                   run_at("\"2026-11-23T24:00:00Z\"", 0, 0, &at, &e) < 0 &&
                   run_at("\"2026-11-23T16:00:00Zjunk\"", 0, 0, &at, &e) < 0 &&
                   run_at("\"2026-1-23T16:00:00Z\"", 0, 0, &at, &e) < 0,
           "a space, no zone, hour 24, trailing junk, a short month: refused");
    tap_ok(&t, run_at("1795449600.5", 0, 0, &at, &e) == 0 && at == 1795449600500LL,
           "Unix seconds, fractional");
    tap_ok(&t, run_at("-5", 0, 0, &at, &e) < 0 && run_at("true", 0, 0, &at, &e) < 0 &&
                   run_at("1e300", 0, 0, &at, &e) < 0,
           "negative, boolean and absurd numbers refused");
    tap_ok(&t, run_at("1000", 2000000, 0, &at, &e) == 0 && at == 0,
           "a time already past runs at once (0)");
    tap_ok(&t, run_at("100", 0, 50000, &at, &e) < 0 && e.status == 422 &&
                   !strcmp(e.field, "run_at") && run_at("100", 0, 100000, &at, &e) == 0 &&
                   at == 100000,
           "beyond max_delay: 422; at the limit: accepted");

    ok = 1;
    for (unsigned a = 1; a <= 12; a++) {
        uint64_t full = 1000ULL << (a - 1 < 6 ? a - 1 : 6);
        if (full > 60000)
            full = 60000;
        d = job_sched_retry_delay_ms(a, 0);
        ok &= d == full / 2 && job_sched_retry_delay_ms(a, 0xffffffffu) <= full &&
              job_sched_retry_delay_ms(a, (uint32_t)(full / 2)) == full && d >= prev;
        prev = d;
    }
    tap_ok(&t, ok, "retry delays: 1 s doubling to a 60 s cap, jitter within the upper half");
    tap_ok(&t, job_sched_retry_delay_ms(1000, 7) <= 60000, "a huge attempt number stays capped");
    test_spec(&t);
    return tap_done(&t);
}
