/* SPDX-License-Identifier: MIT */
#include "job_sched.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "job_field.h"

#define RETRY_BASE_MS 1000
#define RETRY_CAP_MS 60000

int job_sched_priority(const json_t *v, int *out, struct api_error *e)
{
    static const struct {
        const char *name;
        int priority;
    } names[] = {{"high", JOB_PRIORITY_HIGH}, {"normal", JOB_PRIORITY_DEFAULT},
                 {"low", JOB_PRIORITY_LOW}};
    size_t i;

    for (i = 0; json_is_string(v) && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(json_string_value(v), names[i].name) == 0) {
            *out = names[i].priority;
            return 0;
        }
    if (!json_is_integer(v) || json_integer_value(v) < JOB_PRIORITY_MIN ||
        json_integer_value(v) > JOB_PRIORITY_MAX)
        return job_field_fail(e, JOB_FIELD_EINVALID, "priority",
                              "\"priority\" must be \"high\", \"normal\", \"low\" or an integer "
                              "from %d (most urgent) to %d",
                              JOB_PRIORITY_MIN, JOB_PRIORITY_MAX);
    *out = (int)json_integer_value(v);
    return 0;
}

int job_sched_lane(int priority)
{
    if (priority <= 3)
        return JOB_SCHED_LANE_HIGH;
    return priority >= 7 ? JOB_SCHED_LANE_LOW : JOB_SCHED_LANE_NORMAL;
}

/* n digits at *p as a number; advances *p. -1 when they are not all digits. */
static int digits(const char **p, int n)
{
    int v = 0;

    for (; n > 0; n--, (*p)++) {
        if (**p < '0' || **p > '9')
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* RFC 3339 date-time (upper or lower case T and Z) to ms since the epoch. */
static int rfc3339_ms(const char *s, int64_t *out)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    int64_t ms = 0, scale = 100;
    const char *p = s;

    if ((y = digits(&p, 4)) < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 1 || mo > 12 ||
        *p++ != '-' || (d = digits(&p, 2)) < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)) ||
        (*p != 'T' && *p != 't') || (++p, (h = digits(&p, 2)) < 0) || h > 23 || *p++ != ':' ||
        (mi = digits(&p, 2)) < 0 || mi > 59 || *p++ != ':' || (sec = digits(&p, 2)) < 0 ||
        sec > 60)
        return -EINVAL;
    if (*p == '.') {
        if (*++p < '0' || *p > '9')
            return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
            ms += (*p - '0') * scale; /* digits past milliseconds add 0 */
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
        if ((oh = digits(&p, 2)) < 0 || oh > 23 || *p++ != ':' || (om = digits(&p, 2)) < 0 ||
            om > 59)
            return -EINVAL;
    } else {
        return -EINVAL;
    }
    if (*p)
        return -EINVAL;
    *out = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (sec > 59 ? 59 : sec)) -
            sign * (oh * 3600 + om * 60)) * 1000 + ms;
    return 0;
}

int job_sched_run_at(const json_t *v, int64_t now_ms, int64_t max_delay_ms, int64_t *out_ms,
                     struct api_error *e)
{
    int64_t at;

    if (json_is_string(v)) {
        if (rfc3339_ms(json_string_value(v), &at) < 0)
            return job_field_fail(e, JOB_FIELD_EINVALID, "run_at",
                                  "\"run_at\" must be an RFC 3339 time such as "
                                  "\"2026-01-31T12:00:00Z\", or Unix seconds");
    } else if (json_is_number(v) && isfinite(json_number_value(v)) &&
               json_number_value(v) >= 0 && json_number_value(v) < 1e11) {
        at = (int64_t)llround(json_number_value(v) * 1000.0);
    } else {
        return job_field_fail(e, JOB_FIELD_EINVALID, "run_at",
                              "\"run_at\" must be an RFC 3339 time or a number of Unix seconds");
    }
    if (max_delay_ms > 0 && at > now_ms && at - now_ms > max_delay_ms)
        return job_field_fail(e, JOB_FIELD_ELIMIT, "run_at",
                              "\"run_at\" is more than %lld s ahead (the server's maximum)",
                              (long long)(max_delay_ms / 1000));
    *out_ms = at > now_ms ? at : 0;
    return 0;
}

uint64_t job_sched_retry_delay_ms(unsigned attempt, uint32_t rnd)
{
    uint64_t d = RETRY_BASE_MS;

    for (unsigned i = 1; i < attempt && d < RETRY_CAP_MS; i++)
        d *= 2;
    if (d > RETRY_CAP_MS)
        d = RETRY_CAP_MS;
    return d / 2 + rnd % (d / 2 + 1);
}
