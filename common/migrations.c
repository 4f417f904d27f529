/* SPDX-License-Identifier: MIT */
#include "migrations.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The ledger. The migrator creates it before reading it (it must exist to learn what is
 * pending); migration 1 repeats the statement so that the list alone describes the schema. */
#define LEDGER_SQL                                                                                 \
    "CREATE TABLE IF NOT EXISTS runq_schema_migrations (\n"                                        \
    "    version int PRIMARY KEY,\n"                                                               \
    "    name text NOT NULL,\n"                                                                    \
    "    applied_at timestamptz NOT NULL DEFAULT now()\n"                                          \
    ");\n"

/* Version 1: finished (and running) jobs. History lists newest first with keyset pagination
 * on (created_at, id): every history index ends in those two columns, so a page is an index
 * range scan whatever its depth. The stats query reads (language, finished_at). */
static const char m1_jobs[] = LEDGER_SQL
    "CREATE TABLE jobs (\n"
    "    id text PRIMARY KEY CHECK (id <> ''),\n"
    "    queue text NOT NULL,\n"
    "    language text NOT NULL,\n"
    "    status text NOT NULL\n"
    "        CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),\n"
    "    priority smallint NOT NULL DEFAULT 5 CHECK (priority BETWEEN 0 AND 9),\n"
    "    attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),\n"
    "    worker text,\n"
    "    spec_summary jsonb NOT NULL DEFAULT '{}'::jsonb,\n"
    "    result jsonb,\n"
    "    created_at timestamptz NOT NULL DEFAULT now(),\n"
    "    started_at timestamptz,\n"
    "    finished_at timestamptz,\n"
    "    metadata jsonb\n"
    ");\n"
    "CREATE INDEX jobs_history_idx ON jobs (created_at DESC, id DESC);\n"
    "CREATE INDEX jobs_status_history_idx ON jobs (status, created_at DESC, id DESC);\n"
    "CREATE INDEX jobs_language_history_idx ON jobs (language, created_at DESC, id DESC);\n"
    "CREATE INDEX jobs_stats_idx ON jobs (language, finished_at)\n"
    "    WHERE finished_at IS NOT NULL;\n";

/* Version 2: the batch a job belongs to, for a batch's rows once Redis has let it go. */
static const char m2_batches[] =
    "ALTER TABLE jobs ADD COLUMN batch_id text;\n"
    "CREATE INDEX jobs_batch_idx ON jobs (batch_id, created_at) WHERE batch_id IS NOT NULL;\n";

/* Version 3: how a job's callback_url delivery ended, kept past the Redis record. */
static const char m3_webhooks[] = "ALTER TABLE jobs ADD COLUMN webhook jsonb;\n";

static const struct migration all[] = {
    {1, "jobs", m1_jobs},
    {2, "batches", m2_batches},
    {3, "webhooks", m3_webhooks},
};

const struct migration *migrations_list(size_t *n)
{
    *n = sizeof(all) / sizeof(all[0]);
    return all;
}

int migrations_latest(void)
{
    return all[sizeof(all) / sizeof(all[0]) - 1].version;
}

static int name_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

int migrations_check(const struct migration *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i].version != (int)i + 1 || !name_ok(list[i].name))
            return -EINVAL;
        /* The script wraps each migration in $runq_m$ inside $runq_migrate$. */
        if (!list[i].sql || !*list[i].sql || strstr(list[i].sql, "$runq_"))
            return -EINVAL;
    }
    return n ? 0 : -EINVAL;
}

int migrations_script(const struct migration *list, size_t n, char **out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f;
    int r;

    *out = NULL;
    if ((r = migrations_check(list, n)) < 0)
        return r;
    f = open_memstream(&buf, &len);
    if (!f)
        return -ENOMEM;
    fprintf(f, "SELECT pg_advisory_xact_lock(%lld);\n", MIGRATIONS_LOCK_KEY);
    fputs(LEDGER_SQL, f);
    fputs("DO $runq_migrate$\nDECLARE\n    n int := 0;\nBEGIN\n", f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f,
                "    IF NOT EXISTS (SELECT 1 FROM runq_schema_migrations WHERE version = %d)"
                " THEN\n"
                "        EXECUTE $runq_m$\n%s$runq_m$;\n"
                "        INSERT INTO runq_schema_migrations (version, name, applied_at)\n"
                "            VALUES (%d, '%s', now());\n"
                "        n := n + 1;\n"
                "    END IF;\n",
                list[i].version, list[i].sql, list[i].version, list[i].name);
    }
    /* Transaction-local, so it cannot leak to the next query on the connection. */
    fputs("    PERFORM set_config('runq.migrations_applied', n::text, true);\n"
          "END\n$runq_migrate$;\n",
          f);
    fputs("SELECT current_setting('runq.migrations_applied')::int AS applied,\n"
          "       (SELECT max(version) FROM runq_schema_migrations) AS version;\n",
          f);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return -ENOMEM;
    }
    *out = buf;
    return 0;
}
