/* SPDX-License-Identifier: MIT */
/* sbx_spec: what one sandboxed run is asked to do (limits, command, files) and what a slot
 * is built from (uid, cgroup name, read-only binds).
 * Does: defaults and validation on plain data. Must not: touch the system; callers own all
 * strings and buffers referenced from these structs. */
#ifndef RUNQ_SBX_SPEC_H
#define RUNQ_SBX_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sbx_limits {
    uint64_t cpu_ms;        /* CPU time of the whole tree */
    uint64_t wall_ms;       /* wall clock */
    uint64_t memory_bytes;  /* cgroup memory limit */
    uint64_t processes;     /* pids.max */
    uint64_t output_bytes;  /* per stream */
    uint64_t file_bytes;    /* RLIMIT_FSIZE */
    uint64_t open_files;    /* RLIMIT_NOFILE */
    uint64_t stack_bytes;   /* RLIMIT_STACK */
    uint64_t address_space; /* RLIMIT_AS, 0 = unlimited */
    uint64_t tmp_bytes;     /* size of /tmp and of /dev/shm */
    uint64_t box_bytes;     /* size of /box */
};

struct sbx_file {
    const char *name; /* relative path inside /box, no ".." */
    const void *data;
    size_t len;
    int executable;
};

struct sbx_run_spec {
    struct sbx_limits limits;
    char *const *argv; /* NULL-terminated */
    char *const *envp; /* NULL-terminated; NULL = sbx_default_env */
    const void *stdin_data; /* NULL = /dev/null */
    size_t stdin_len;
    const struct sbx_file *files;
    size_t nfiles;
    const char *const *collect; /* names in /box to return after the run */
    size_t ncollect;
    /* Optional: called with each piece of output as it is read (what is kept, within the
     * limit), stream 1 = stdout, 2 = stderr, so a caller can stream progress. */
    void (*on_output)(void *ctx, int stream, const char *data, size_t len);
    void *output_ctx;
};

#define SBX_MAX_BINDS 64

struct sbx_slot_config {
    unsigned slot;            /* uid = uid_base + slot */
    uid_t uid_base;
    const char *cgroup_name;  /* parent group in every hierarchy, e.g. "runq" */
    const char *binds[SBX_MAX_BINDS]; /* host paths bound read-only at the same path */
    size_t nbinds;
    const char *state_dir;    /* slot locks live here */
    int allow_core_pipe;      /* accept a kernel.core_pattern that pipes to a host helper */
};

extern char *const sbx_default_env[];

void sbx_limits_default(struct sbx_limits *l);
void sbx_slot_config_default(struct sbx_slot_config *c);

/* Checks limits for sanity (nonzero where required, bounded). Returns 0 or -EINVAL with
 * the offending field's option name in *field. */
int sbx_limits_validate(const struct sbx_limits *l, const char **field);

/* The wall-clock limit in force: wall_ms, or 2 x CPU + 1 s when wall_ms is 0. */
uint64_t sbx_limits_wall_ms(const struct sbx_limits *l);

/* A /box-relative path: non-empty, no leading '/', no "." or ".." component, no empty
 * component, at most 255 bytes. */
int sbx_box_name_valid(const char *name);

#endif
