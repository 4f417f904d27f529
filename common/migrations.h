/* SPDX-License-Identifier: MIT */
/* migrations: the ordered, versioned PostgreSQL schema of runq (the jobs table and the
 * runq_schema_migrations ledger), and the one script that applies whatever is pending.
 * Does: hold the SQL text as constants; build the migration script (one implicit transaction
 * under pg_advisory_xact_lock, so concurrent migrators serialize and the loser is a no-op).
 * Must not: talk to PostgreSQL, include libpq, or edit a released migration (add a new one:
 * a deployed database has already run the old text). */
#ifndef RUNQ_COMMON_MIGRATIONS_H
#define RUNQ_COMMON_MIGRATIONS_H

#include <stddef.h>

/* pg_advisory_xact_lock key of the migrator: "runq" in ASCII. */
#define MIGRATIONS_LOCK_KEY 0x72756e71LL

struct migration {
    int version;      /* 1, 2, 3 ... without gaps, in list order */
    const char *name; /* [a-z0-9_]+ */
    const char *sql;  /* one or more statements; must not contain "$runq_" */
};

/* The migrations in order; *n receives their number. The list is static (never freed). */
const struct migration *migrations_list(size_t *n);

/* The newest version this binary knows. */
int migrations_latest(void);

/* Checks a list: versions 1..n in order, names [a-z0-9_]+, SQL present and free of the
 * script's dollar-quote tags. Returns 0 or -EINVAL. */
int migrations_check(const struct migration *list, size_t n);

/* Builds the migration script for list[0..n) (normally migrations_list()): a multi-statement
 * text for the simple query protocol (no parameters, no explicit BEGIN/COMMIT, so PostgreSQL
 * runs it as one implicit transaction and rolls all of it back on any error):
 *   SELECT pg_advisory_xact_lock(MIGRATIONS_LOCK_KEY);
 *   CREATE TABLE IF NOT EXISTS runq_schema_migrations (...);
 *   DO $runq_migrate$ ... for each version not in the ledger: EXECUTE its SQL, record it ...;
 *   SELECT <number applied now>, <highest version in the ledger>;
 * Its last result is one row of two columns: applied (0 when nothing was pending) and version.
 * Returns 0 with *out malloc'ed (the caller frees it), -EINVAL (bad list) or -ENOMEM. */
int migrations_script(const struct migration *list, size_t n, char **out);

#endif
