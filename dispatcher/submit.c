/* SPDX-License-Identifier: MIT */
/* submit: see submit.h. */
#include "submit.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "job.h"
#include "job_sched.h"

#define JOBS_PREFIX "/v1/jobs/"
#define SUBMIT_IDEM_TTL_MS (24ULL * 3600 * 1000) /* how long an Idempotency-Key is kept */

struct op {
    struct http_exchange *ex;
};

static const char *resolve_language(void *ctx, const char *name)
{
    const struct language *l = languages_find(((struct submit_ctx *)ctx)->langs, name);

    return l ? l->name : NULL;
}

const struct config_queue *submit_find_queue(const struct runq_config *cfg, const char *name)
{
    size_t i;

    for (i = 0; i < cfg->nqueues; i++) {
        if (!strcmp(cfg->queues[i].name, name))
            return &cfg->queues[i];
    }
    return NULL;
}

static int queue_exists(void *ctx, const char *name)
{
    return submit_find_queue(((struct submit_ctx *)ctx)->cfg, name) != NULL;
}

static int is_json(const char *ct)
{
    static const char want[] = "application/json";

    if (!ct || strncasecmp(ct, want, sizeof(want) - 1))
        return 0;
    ct += sizeof(want) - 1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

int submit_require_json(struct http_exchange *ex)
{
    if (is_json(http_request_header(http_exchange_request(ex), "Content-Type")))
        return 1;
    http_respond_error(ex, 415, "unsupported_media_type", "Content-Type must be application/json",
                       NULL);
    return 0;
}

static void on_enqueued(void *arg, int status, const struct rq_enqueued *res)
{
    struct op *op = arg;
    char loc[sizeof(JOBS_PREFIX) + KEYS_ID_MAX];

    if (status < 0) {
        api_rq_error(op->ex, status);
    } else if (res->status == RQ_FULL) {
        http_exchange_add_header(op->ex, "Retry-After", "1");
        http_respond_error(op->ex, 503, "queue_full", "the queue is full; retry later", "queue");
    } else {
        snprintf(loc, sizeof(loc), JOBS_PREFIX "%s", res->id);
        http_exchange_add_header(op->ex, "Location", loc);
        if (res->status == RQ_DUPLICATE)
            api_json(op->ex, 200, json_pack("{s:s, s:b}", "id", res->id, "duplicate", 1));
        else
            api_json(op->ex, 202, json_pack("{s:s, s:s}", "id", res->id, "status", "queued"));
    }
    free(op);
}


void submit_policy(struct submit_ctx *c, struct job_policy *pol)
{
    *pol = (struct job_policy){
        .maximum = c->cfg->limits.maximum,
        .max_body_bytes = c->cfg->dispatcher.max_body,
        .resolve_language = resolve_language,
        .queue_exists = queue_exists,
        .ctx = c,
        .max_tests = c->cfg->dispatcher.max_tests,
        .now_ms = (int64_t)rq_now_ms(), /* run_at is compared with the worker's clock */
        .max_delay_ms = (int64_t)c->cfg->dispatcher.max_delay_ms,
        .webhooks = c->cfg->webhooks.secret[0] != 0,
    };
}

int submit_name_source(const struct languages *langs, struct job_spec *spec)
{
    const struct language *lang = languages_find(langs, spec->language);

    if (lang && spec->nfiles == 1 && !spec->files[0].name) /* "source": after the language */
        spec->files[0].name = strdup(lang->file);
    return lang && spec->files[0].name ? 0 : -ENOMEM;
}

void submit_job(const struct runq_config *cfg, const struct languages *langs, struct rq *rq,
                struct http_exchange *ex)
{
    const struct http_request *req = http_exchange_request(ex);
    struct submit_ctx c = {cfg, langs};
    struct job_policy pol;
    const char *idem = http_request_header(req, "Idempotency-Key");
    struct job_spec spec = {0};
    struct api_error err = {0};
    char *text = NULL;
    json_t *j;
    struct op *op;
    int rc;

    if (!submit_require_json(ex))
        return;
    submit_policy(&c, &pol);
    if (idem && keys_valid_idem(idem) < 0) {
        http_respond_error(ex, 400, "invalid_header",
                           "Idempotency-Key must be 1..255 printable ASCII characters",
                           "Idempotency-Key");
        return;
    }
    if (job_spec_parse(req->body, req->body_len, &pol, &spec, &err) < 0) {
        api_json(ex, err.status, api_error_to_json(&err));
        return;
    }
    rc = -ENOMEM;
    if (submit_name_source(langs, &spec) == 0 && (j = job_spec_to_json(&spec))) {
        text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
    }
    if (text && (op = calloc(1, sizeof(*op)))) {
        op->ex = ex;
        rc = rq_enqueue_at(rq, spec.queue, text, idem, SUBMIT_IDEM_TTL_MS,
                           submit_find_queue(cfg, spec.queue)->max_depth,
                           (enum rq_lane)job_sched_lane(spec.priority),
                           (uint64_t)spec.run_at_ms, on_enqueued, op);
        if (rc < 0)
            free(op);
    }
    free(text);
    job_spec_free(&spec);
    if (rc < 0)
        api_rq_error(ex, rc);
}
