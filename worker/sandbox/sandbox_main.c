/* SPDX-License-Identifier: MIT */
/* runq-sandbox: run one program in a fresh sandbox slot and print its JSON result.
 * Exit status: 0 ok, 1 the program failed (any other verdict), 2 usage or internal error. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sbx_cli.h"
#include "sbx_io.h"
#include "sbx_server.h"
#include "sbx_slot.h"

/* Inputs are read into memory before the slot exists: the sandbox never sees host paths. */
#define INPUT_MAX_BYTES (1ULL << 30)

struct inputs {
    struct sbx_file files[SBX_CLI_MAX_ITEMS];
    char *data[SBX_CLI_MAX_ITEMS];
    char *stdin_data;
    size_t stdin_len;
};

static int read_input(const char *path, char **data, size_t *len, int *executable)
{
    struct stat st;
    int r = sbx_read_path(path, INPUT_MAX_BYTES, data, len);

    if (r < 0) {
        fprintf(stderr, "runq-sandbox: cannot read %s: %s\n", path, strerror(-r));
        return r;
    }
    if (executable)
        *executable = stat(path, &st) == 0 && (st.st_mode & S_IXUSR);
    return 0;
}

static int load_inputs(const struct sbx_cli *c, struct inputs *in)
{
    size_t i, len;
    int r;

    for (i = 0; i < c->nfiles; i++) {
        in->files[i].name = c->file_names[i];
        r = read_input(c->file_paths[i], &in->data[i], &len, &in->files[i].executable);
        if (r < 0)
            return r;
        in->files[i].data = in->data[i];
        in->files[i].len = len;
    }
    if (c->stdin_path)
        return read_input(c->stdin_path, &in->stdin_data, &in->stdin_len, NULL);
    return 0;
}

static void free_inputs(struct inputs *in)
{
    size_t i;

    for (i = 0; i < SBX_CLI_MAX_ITEMS; i++)
        free(in->data[i]);
    free(in->stdin_data);
}

/* A closed 0, 1 or 2 would be reused by the first pipe and clobbered by dup2 later. */
static void ensure_std_fds(void)
{
    int fd;

    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
        ;
    if (fd > 2)
        close(fd);
}

static int print_result(const struct sbx_result *res, int pretty)
{
    json_t *j = sbx_result_to_json(res);
    char *text = j ? json_dumps(j, pretty ? JSON_INDENT(2) : JSON_COMPACT) : NULL;
    int r = text ? 0 : -ENOMEM;

    if (text) {
        fputs(text, stdout);
        fputc('\n', stdout);
        r = fflush(stdout) == 0 ? 0 : -EIO;
    }
    free(text);
    json_decref(j);
    return r;
}

static int run(const struct sbx_cli *c, struct inputs *in)
{
    struct sbx_run_spec spec;
    struct sbx_result res;
    struct sbx_slot slot;
    char err[512] = "";
    int r;

    r = sbx_slot_open(&slot, &c->slot, err, sizeof(err));
    if (r < 0) {
        /* Still a result: callers parse JSON, and this is the sandbox's failure. */
        memset(&res, 0, sizeof(res));
        res.verdict.status = SBX_INTERNAL_ERROR;
        res.verdict.exit_code = -1;
        snprintf(res.message, sizeof(res.message), "%s", err);
        fprintf(stderr, "runq-sandbox: %s\n", err);
        print_result(&res, c->pretty);
        return 2;
    }
    memset(&spec, 0, sizeof(spec));
    spec.limits = c->limits;
    spec.argv = c->argv;
    spec.envp = c->env;
    spec.stdin_data = c->stdin_path ? (in->stdin_data ? in->stdin_data : "") : NULL;
    spec.stdin_len = in->stdin_len;
    spec.files = in->files;
    spec.nfiles = c->nfiles;
    spec.collect = c->collect;
    spec.ncollect = c->ncollect;
    sbx_slot_run(&slot, &spec, &res);
    sbx_slot_close(&slot, 1);
    r = print_result(&res, c->pretty) < 0                 ? 2
        : res.verdict.status == SBX_OK                    ? 0
        : res.verdict.status == SBX_INTERNAL_ERROR        ? 2
                                                          : 1;
    sbx_result_clear(&res);
    return r;
}

/* A warm slot for a worker: the slot stays open while requests come (sbx_server). */
static int serve(const struct sbx_cli *c)
{
    struct sbx_slot slot;
    char err[512] = "";
    int r;

    signal(SIGPIPE, SIG_IGN); /* a vanished worker is an EPIPE to report, not a crash */
    if (sbx_slot_open(&slot, &c->slot, err, sizeof(err)) < 0) {
        fprintf(stderr, "runq-sandbox: %s\n", err);
        (void)sbx_server_hello(1, c->slot.slot, err);
        return 2;
    }
    r = sbx_server_hello(1, c->slot.slot, NULL);
    if (r == 0)
        r = sbx_server_run(&slot, 0, 1);
    sbx_slot_close(&slot, 1);
    if (r < 0)
        fprintf(stderr, "runq-sandbox: --serve: %s\n", strerror(-r));
    return r < 0 ? 2 : 0;
}

int main(int argc, char **argv)
{
    struct sbx_cli cli;
    struct inputs in;
    char err[256];
    int r;

    ensure_std_fds();
    if (sbx_cli_parse(argc, argv, &cli, err, sizeof(err)) < 0) {
        fprintf(stderr, "runq-sandbox: %s\n%s", err, sbx_cli_usage);
        return 2;
    }
    if (cli.help) {
        fputs(sbx_cli_usage, stdout);
        return 0;
    }
    if (cli.serve)
        return serve(&cli);
    memset(&in, 0, sizeof(in));
    r = load_inputs(&cli, &in);
    if (r == 0)
        r = run(&cli, &in);
    else
        r = 2;
    free_inputs(&in);
    return r;
}
