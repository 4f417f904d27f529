/* SPDX-License-Identifier: MIT */
/* config: runq.yaml (config/runq.yaml documents every key) and RUNQ_* environment overrides
 * -> a validated, self-contained struct runq_config (fixed arrays, nothing to free).
 * Does: embedded defaults, strict parsing (unknown keys, wrong types and out-of-range values
 * are errors naming file:line and the dotted key), cross-field checks.
 * Must not: read the process environment itself (callers pass envp), keep global state, or
 * leave a half-applied *cfg behind: on error the caller's struct is unchanged. */
#ifndef RUNQ_COMMON_CONFIG_H
#define RUNQ_COMMON_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_QUEUES 32
#define CONFIG_QUEUE_NAME_MAX 64 /* queue names: [a-z0-9_-]{1,64} */
#define CONFIG_QUEUE_DEPTH_MAX 1000000000
#define CONFIG_MAX_BINDS 64
#define CONFIG_PATH_MAX 256 /* binds and state_dir, NUL included */
#define CONFIG_URL_MAX 1024
#define CONFIG_MAX_SLOTS 1024
#define CONFIG_LIMIT_MAX (1ULL << 40) /* any limit value is 1..CONFIG_LIMIT_MAX */
#define CONFIG_LIMIT_COUNT 6

/* Resource limits of one run. In a language's overrides 0 means "not set". */
struct config_limits {
    uint64_t cpu_ms;
    uint64_t wall_ms;
    uint64_t memory_kb;
    uint64_t pids;
    uint64_t output_kb;
    uint64_t file_size_kb;
};

struct config_queue {
    char name[CONFIG_QUEUE_NAME_MAX + 1];
    uint64_t max_depth;
};

struct runq_config {
    struct {
        char listen[256];    /* host:port ("[v6addr]:port" for IPv6) */
        uint64_t max_body;   /* bytes */
        uint64_t max_header; /* bytes */
        uint64_t idle_timeout_ms;
        uint64_t request_timeout_ms;
        uint64_t max_wait_ms;
        uint64_t max_delay_ms; /* how far ahead a job's run_at may be */
        uint32_t max_tests;    /* test cases of one graded job */
        uint32_t max_submissions; /* jobs of one batch */
    } dispatcher;
    struct {
        char url[CONFIG_URL_MAX]; /* redis://... */
    } redis;
    struct {
        char url[CONFIG_URL_MAX]; /* postgresql://... or postgres://... */
        uint64_t commit_interval_ms; /* a worker's result statements start this far apart */
    } postgres;
    struct {
        uint32_t slots; /* 1..CONFIG_MAX_SLOTS */
        uint64_t heartbeat_ms;
        uint64_t heartbeat_ttl_ms; /* always > heartbeat_ms */
        uint32_t max_attempts;
        uint64_t drain_grace_ms;
        char backend[16]; /* "sandbox" or "docker": for languages that do not name one */
    } worker;
    struct {
        char socket[CONFIG_PATH_MAX]; /* the engine's unix socket */
        char image_prefix[128];       /* a language's image: prefix + name + ":" + tag */
        char image_tag[64];
        uint32_t uid;  /* the non-root user (uid:gid) every job container runs as */
        uint32_t cpus; /* CPUs a run may use at once (the CPU time limit is separate) */
    } docker;
    struct {
        uint64_t ttl_ms;
    } results;
    struct {
        char secret[256];       /* signs deliveries; "" = webhooks off (callback_url refused) */
        uint64_t timeout_ms;    /* one delivery attempt */
        uint32_t max_attempts;  /* attempts before a delivery is given up */
        uint32_t allow_private; /* 1: callback URLs may reach loopback/private addresses */
    } webhooks;
    struct config_queue queues[CONFIG_MAX_QUEUES]; /* at least one, in file order */
    size_t nqueues;
    struct {
        struct config_limits defaults; /* "limits.default"; each field <= maximum's */
        struct config_limits maximum;
    } limits;
    struct {
        uint32_t uid_base; /* slot n runs as uid_base + n */
        char cgroup[256];  /* one path component */
        char state_dir[CONFIG_PATH_MAX];
        char binds[CONFIG_MAX_BINDS][CONFIG_PATH_MAX]; /* absolute paths */
        size_t nbinds;
    } sandbox;
};

/* file is a path, or for an environment override the variable's name (then line is 0).
 * key is the dotted key path ("dispatcher.listen", "sandbox.binds[2]"), empty when the
 * error is not about one key (syntax, unreadable file). */
struct config_error {
    char file[256];
    int line;
    char key[128];
    char message[256];
};

/* Fills cfg with the embedded defaults (the values written in config/runq.yaml). Unused
 * bytes are zero, so two configs holding the same values compare equal with memcmp(). */
void config_defaults(struct runq_config *cfg);

/* Defaults, then every key the file sets. A mapping given for "queues" and a list given
 * for "sandbox.binds" replace the defaults as a whole. Returns 0, -EINVAL (syntax, unknown
 * key, bad value), -ENOMEM or an errno from reading the file; *err says where and why. */
int config_load(const char *path, struct runq_config *cfg, struct config_error *err);

/* The same from text; name stands for the file name in *err. */
int config_load_string(const char *text, const char *name, struct runq_config *cfg,
                       struct config_error *err);

/* Applies RUNQ_<SECTION>_<KEY>=value entries of the NULL-terminated envp on top of *cfg:
 * the name is the dotted key path upper-cased with '.' and '-' turned into '_'
 * (RUNQ_WORKER_SLOTS, RUNQ_LIMITS_MAXIMUM_CPU_MS). Values are parsed and checked like the
 * file's scalars; RUNQ_SANDBOX_BINDS is a ':'-separated list that replaces the binds. Queues
 * are set in the file only. A RUNQ_<SECTION>_ variable naming no key is an error; other RUNQ_
 * variables (RUNQ_CONFIG, ...) are left alone. Later entries win. Returns 0 or -EINVAL. */
int config_apply_env(struct runq_config *cfg, char *const *envp, struct config_error *err);

/* Cross-field checks on a config built by hand (load and apply_env already run them). */
int config_validate(const struct runq_config *cfg, struct config_error *err);

/* "runq.yaml:12: dispatcher.listen: expected host:port"; ":line" is omitted when 0 and
 * "key: " when empty. Returns buf. */
char *config_error_format(const struct config_error *err, char *buf, size_t len);

/* Parses one limit value as runq.yaml does (languages.yaml shares it): a plain integer
 * 1..CONFIG_LIMIT_MAX. Returns 0 or -EINVAL with the reason in msg. */
int config_parse_limit(const char *text, uint64_t *out, char *msg, size_t msglen);

#endif
