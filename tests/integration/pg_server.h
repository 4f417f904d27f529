/* SPDX-License-Identifier: MIT */
/* pg_server: a throwaway PostgreSQL for tests: initdb + pg_ctl (the newest
 * /usr/lib/postgresql/<v>/bin) as the unprivileged user nobody (PostgreSQL refuses root), in
 * a fresh temporary directory, on a free 127.0.0.1 port, trust authentication, user "runq".
 * Does: start, stop (-m fast) and start again on the same port, remove everything.
 * Must not: touch a system cluster or anything outside its temporary directory. The calls
 * block (they wait for the server): use them from a test's main flow, not from a library. */
#ifndef RUNQ_TESTS_PG_SERVER_H
#define RUNQ_TESTS_PG_SERVER_H

#include <stddef.h>

struct pg_server {
    char bin[128];  /* directory of initdb and pg_ctl */
    char dir[64];   /* the temporary directory (0755, so nobody can traverse it) */
    char data[128]; /* dir/data: the cluster and its Unix socket, owned by nobody */
    char log[128];  /* dir/data/server.log */
    int port;
    int running;
    char url[160]; /* postgresql://runq@127.0.0.1:<port>/postgres */
};

/* initdb and start. Returns 0, or a negative errno with a reason in err (and nothing left
 * behind). */
int pg_server_start(struct pg_server *s, char *err, size_t errlen);

/* pg_ctl stop -m fast -w. Returns 0 or -EIO. */
int pg_server_stop(struct pg_server *s);

/* Starts a stopped server again on the same port and data. Returns 0 or -EIO. */
int pg_server_resume(struct pg_server *s);

/* Runs SQL with psql (as nobody, database postgres); 0 or -EIO. For fixtures only. */
int pg_server_psql(struct pg_server *s, const char *sql);

/* The URL of another database of the same server. Returns 0 or -ENAMETOOLONG. */
int pg_server_url(const struct pg_server *s, const char *dbname, char *buf, size_t len);

/* Stops the server if it runs and removes the temporary directory. */
void pg_server_destroy(struct pg_server *s);

#endif
