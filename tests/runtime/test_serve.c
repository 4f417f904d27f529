/* SPDX-License-Identifier: MIT */
/* runq-sandbox --serve: how a worker drives a warm slot through a pipe. Several runs over
 * one process, a malformed request answered without killing the slot, EOF ends it cleanly. */
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sbx_server.h"
#include "tap.h"

struct server {
    pid_t pid;
    int to, from;
};

static int start(struct server *s, const char *exe)
{
    int in[2], out[2];

    if (pipe(in) < 0 || pipe(out) < 0)
        return -1;
    s->pid = fork();
    if (s->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execl(exe, exe, "--serve", "--slot", "23", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    s->to = in[1];
    s->from = out[0];
    return s->pid > 0 ? 0 : -1;
}

static json_t *hello(struct server *s)
{
    char *text = NULL;
    size_t len;
    json_t *j;

    if (sbx_frame_read(s->from, &text, &len) < 0)
        return NULL;
    j = json_loadb(text, len, 0, NULL);
    free(text);
    return j;
}

/* Sends one request, returns the answer (caller decrefs) or NULL. */
static json_t *ask(struct server *s, const char *request)
{
    char *text = NULL;
    size_t len;
    json_t *j;

    if (sbx_frame_write(s->to, request, strlen(request)) < 0 ||
        sbx_frame_read(s->from, &text, &len) < 0)
        return NULL;
    j = json_loadb(text, len, 0, NULL);
    free(text);
    return j;
}

/* Whether j.a(.b) is the string want (false when absent). */
static int is(json_t *j, const char *a, const char *b, const char *want)
{
    json_t *v = json_object_get(j, a);
    const char *s = json_string_value(b ? json_object_get(v, b) : v);

    return s && strcmp(s, want) == 0;
}

int main(int argc, char **argv)
{
    struct tap t = {0};
    struct server s;
    json_t *j;
    int status, i, ok = 1;

    signal(SIGPIPE, SIG_IGN);
    if (argc < 2 || !tap_ok(&t, start(&s, argv[1]) == 0, "start runq-sandbox --serve"))
        return tap_done(&t);
    j = hello(&s);
    tap_ok(&t, j && is(j, "type", NULL, "ready") &&
                   json_integer_value(json_object_get(j, "slot")) == 23,
           "it says ready, with its slot, once the slot is open");
    json_decref(j);
    /* "MiAz" is base64 of "2 3". */
    j = ask(&s, "{\"argv\": [\"sh\", \"-c\", \"read a b; echo $((a + b))\"], \"stdin\": \"MiAz\"}");
    tap_ok(&t, j && is(j, "type", NULL, "result") &&
                   is(j, "result", "status", "ok") &&
                   is(j, "result", "stdout", "5\n"),
           "a run with stdin (\"2 3\" -> 5)");
    json_decref(j);
    j = ask(&s, "{\"argv\": [\"sh\", \"-c\", \"while :; do :; done\"], "
                "\"limits\": {\"cpu_ms\": 300}}");
    tap_ok(&t, j && is(j, "result", "status", "time_limit") &&
                   is(j, "result", "time_limit", "cpu"),
           "a CPU time limit in the same slot");
    json_decref(j);
    j = ask(&s, "{\"argv\": []}");
    tap_ok(&t, j && is(j, "type", NULL, "error") &&
                   is(j, "field", NULL, "argv"),
           "a malformed request is answered with the field");
    json_decref(j);
    j = ask(&s, "not json");
    tap_ok(&t, j && is(j, "type", NULL, "error"), "so is a non-JSON one");
    json_decref(j);
    for (i = 0; i < 10; i++) {
        j = ask(&s, "{\"argv\": [\"true\"]}");
        ok &= j && is(j, "result", "status", "ok");
        json_decref(j);
    }
    tap_ok(&t, ok, "ten more runs over the same process");
    close(s.to);
    tap_ok(&t, waitpid(s.pid, &status, 0) == s.pid && WIFEXITED(status) &&
                   WEXITSTATUS(status) == 0,
           "EOF on its input ends the server cleanly");
    close(s.from);
    tap_ok(&t, access("/sys/fs/cgroup/memory/runq/slot-23", F_OK) != 0 &&
                   access("/sys/fs/cgroup/runq/slot-23", F_OK) != 0,
           "and removes the slot's cgroups");
    return tap_done(&t);
}
