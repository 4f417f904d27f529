/* SPDX-License-Identifier: MIT */
/* Unit tests of common/yaml_tree and common/config: the shipped runq.yaml equals
 * the embedded defaults, every validation rule fails with its exact file:line: key: message,
 * RUNQ_* overrides. argv[1]: path of config/runq.yaml (default: config/runq.yaml). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"
#include "yaml_tree.h"

#define NAME "runq.yaml"

/* Loads text and checks that it fails with exactly want (config_error_format()). */
static void expect_error(struct tap *t, const char *text, const char *want)
{
    struct runq_config cfg;
    struct config_error err;
    char got[1024] = "";
    int r = config_load_string(text, NAME, &cfg, &err);

    if (r < 0)
        config_error_format(&err, got, sizeof(got));
    if (!tap_ok(t, r == -EINVAL && strcmp(got, want) == 0, "rejected: %s", want))
        tap_diag("r=%d got \"%s\"", r, got);
}

/* Applies env on top of the defaults and checks that it fails with exactly want. */
static void expect_env_error(struct tap *t, const char *const *env, const char *want)
{
    struct runq_config cfg, before;
    struct config_error err;
    char got[1024] = "";
    int r;

    config_defaults(&cfg);
    before = cfg;
    r = config_apply_env(&cfg, (char *const *)env, &err);
    if (r < 0)
        config_error_format(&err, got, sizeof(got));
    if (!tap_ok(t, r == -EINVAL && strcmp(got, want) == 0, "env rejected: %s", want))
        tap_diag("r=%d got \"%s\"", r, got);
    tap_ok(t, memcmp(&cfg, &before, sizeof(cfg)) == 0, "failed env left the config unchanged");
}

static void test_yaml_tree(struct tap *t)
{
    static const char text[] = "a: 1\n"
                               "b:\n"
                               "  - x\n"
                               "  - {c: ''}\n"
                               "d:\n"
                               "e: ~\n"
                               "f: 'null'\n";
    struct yaml_tree_node *root = NULL, *deep = NULL;
    struct yaml_tree_error err;
    const struct yaml_tree_pair *b, *c;
    char nested[200];
    int r = yaml_tree_load_string(text, strlen(text), "t.yaml", &root, &err);

    tap_ok(t, r == 0 && root && root->kind == YAML_TREE_MAPPING && root->count == 5,
           "tree: a mapping of 5 pairs");
    if (r < 0 || !root)
        return;
    b = yaml_tree_get(root, "b");
    tap_ok(t, b && b->key_line == 2 && b->value->kind == YAML_TREE_SEQUENCE && b->value->count == 2,
           "tree: sequence under b, key on line 2");
    tap_ok(t, b && b->value->items[1]->line == 4 && b->value->items[0]->line == 3,
           "tree: items carry their own lines");
    c = b ? yaml_tree_get(b->value->items[1], "c") : NULL;
    tap_ok(t, c && c->value->kind == YAML_TREE_SCALAR && !yaml_tree_is_null(c->value),
           "tree: quoted empty string is a value, not null");
    tap_ok(t,
           yaml_tree_is_null(yaml_tree_get(root, "d")->value) &&
               yaml_tree_is_null(yaml_tree_get(root, "e")->value),
           "tree: empty and ~ are null");
    tap_ok(t, !yaml_tree_is_null(yaml_tree_get(root, "f")->value), "tree: 'null' quoted is text");
    tap_ok(t, yaml_tree_get(root, "z") == NULL && yaml_tree_get(b->value, "x") == NULL,
           "tree: missing key, or not a mapping: NULL");
    tap_ok(t,
           strcmp(yaml_tree_scalar_problem(b->value), "expected a scalar, found a sequence") == 0,
           "tree: scalar_problem names the kind found");
    yaml_tree_free(root);

    memset(nested, '[', 40);
    memset(nested + 40, ']', 40);
    r = yaml_tree_load_string(nested, 80, "t.yaml", &deep, &err);
    tap_ok(t, r == -EINVAL && strcmp(err.message, "nesting deeper than 32 levels") == 0 && !deep,
           "tree: nesting is bounded");
    r = yaml_tree_load_string("", 0, "t.yaml", &deep, &err);
    tap_ok(t, r == 0 && deep == NULL, "tree: empty stream has no root");
    r = yaml_tree_load_string("a: b\0c\n", 7, "t.yaml", &deep, &err);
    tap_ok(t, r == -EINVAL && err.line == 1, "tree: NUL in the text rejected");
    yaml_tree_free(deep);
}

static void test_defaults(struct tap *t)
{
    struct runq_config c;

    config_defaults(&c);
    tap_ok(t, strcmp(c.dispatcher.listen, "127.0.0.1:8080") == 0, "default listen");
    tap_ok(t, c.dispatcher.max_body == 1 << 20 && c.dispatcher.max_header == 16 << 10,
           "default body/header sizes in bytes");
    tap_ok(t,
           c.dispatcher.idle_timeout_ms == 30000 && c.dispatcher.request_timeout_ms == 10000 &&
               c.dispatcher.max_wait_ms == 60000,
           "default dispatcher durations in ms");
    tap_ok(t, strcmp(c.redis.url, "redis://127.0.0.1:6379/0") == 0, "default redis url");
    tap_ok(t, strcmp(c.postgres.url, "postgresql://runq@127.0.0.1:5432/runq") == 0,
           "default postgres url");
    tap_ok(t,
           c.worker.slots == 2 && c.worker.heartbeat_ms == 5000 &&
               c.worker.heartbeat_ttl_ms == 20000 && c.worker.max_attempts == 3 &&
               c.worker.drain_grace_ms == 30000,
           "default worker");
    tap_ok(t, c.results.ttl_ms == 3600000, "default results.ttl is 1h");
    tap_ok(t,
           c.nqueues == 1 && strcmp(c.queues[0].name, "default") == 0 &&
               c.queues[0].max_depth == 10000,
           "default queue");
    tap_ok(t,
           c.limits.defaults.cpu_ms == 2000 && c.limits.defaults.wall_ms == 5000 &&
               c.limits.defaults.memory_kb == 262144 && c.limits.defaults.pids == 64 &&
               c.limits.defaults.output_kb == 1024 && c.limits.defaults.file_size_kb == 16384,
           "default limits.default");
    tap_ok(t,
           c.limits.maximum.cpu_ms == 30000 && c.limits.maximum.wall_ms == 60000 &&
               c.limits.maximum.memory_kb == 2097152 && c.limits.maximum.pids == 512 &&
               c.limits.maximum.output_kb == 65536 && c.limits.maximum.file_size_kb == 262144,
           "default limits.maximum");
    tap_ok(t,
           c.sandbox.uid_base == 60000 && strcmp(c.sandbox.cgroup, "runq") == 0 &&
               strcmp(c.sandbox.state_dir, "/run/runq-sandbox") == 0,
           "default sandbox scalars");
    tap_ok(t,
           c.sandbox.nbinds == 13 && strcmp(c.sandbox.binds[0], "/usr") == 0 &&
               strcmp(c.sandbox.binds[7], "/etc/alternatives") == 0 &&
               strcmp(c.sandbox.binds[10], "/etc/ssl") == 0 &&
               strcmp(c.sandbox.binds[12], "/etc/php") == 0,
           "default binds");
}

static void test_shipped_file(struct tap *t, const char *path)
{
    struct runq_config want, got;
    struct config_error err;
    char msg[1024];
    int r;

    config_defaults(&want);
    memset(&got, 0xA5, sizeof(got));
    r = config_load(path, &got, &err);
    if (!tap_ok(t, r == 0, "shipped %s loads", path))
        tap_diag("%s", config_error_format(&err, msg, sizeof(msg)));
    tap_ok(t, r == 0 && memcmp(&want, &got, sizeof(want)) == 0,
           "shipped runq.yaml equals config_defaults()");
}

static void test_overrides(struct tap *t)
{
    static const char text[] = "# a comment only file section follows\n"
                               "dispatcher:\n"
                               "  listen: \"[::1]:9000\"\n"
                               "  max_body: 64K\n"
                               "  idle_timeout: 250ms\n"
                               "  max_wait: 0\n"
                               "postgres: {url: 'postgres://u@db/runq'}\n"
                               "worker:\n"
                               "  slots: 1024\n"
                               "  drain_grace: 1.5\n"
                               "results:\n"
                               "  ttl: 5m\n"
                               "queues:\n"
                               "  fast: 10\n"
                               "  bulk-2: 1000000\n"
                               "limits:\n"
                               "  maximum: {cpu_ms: 100000}\n"
                               "  default:\n"
                               "    cpu_ms: 100000\n"
                               "sandbox:\n"
                               "  binds:\n"
                               "    - /usr\n"
                               "    - /opt/tools\n"
                               "redis:\n";
    struct runq_config c, d;
    struct config_error err;
    char msg[1024];
    int r = config_load_string(text, NAME, &c, &err);

    if (!tap_ok(t, r == 0, "overriding file loads"))
        tap_diag("%s", config_error_format(&err, msg, sizeof(msg)));
    config_defaults(&d);
    tap_ok(t, strcmp(c.dispatcher.listen, "[::1]:9000") == 0, "bracketed IPv6 listen");
    tap_ok(t, c.dispatcher.max_body == 65536, "max_body 64K");
    tap_ok(t, c.dispatcher.idle_timeout_ms == 250, "idle_timeout 250ms");
    tap_ok(t, c.dispatcher.max_wait_ms == 0, "max_wait 0 allowed");
    tap_ok(t, c.dispatcher.max_header == d.dispatcher.max_header, "unset key keeps its default");
    tap_ok(t, strcmp(c.postgres.url, "postgres://u@db/runq") == 0, "flow mapping, postgres://");
    tap_ok(t, c.worker.slots == 1024 && c.worker.drain_grace_ms == 1500, "slots, 1.5 seconds");
    tap_ok(t, c.results.ttl_ms == 300000, "ttl 5m");
    tap_ok(t,
           c.nqueues == 2 && strcmp(c.queues[0].name, "fast") == 0 && c.queues[0].max_depth == 10 &&
               strcmp(c.queues[1].name, "bulk-2") == 0 && c.queues[1].max_depth == 1000000,
           "queues replaced, in file order");
    tap_ok(t, c.limits.defaults.cpu_ms == 100000 && c.limits.maximum.cpu_ms == 100000,
           "default may equal maximum");
    tap_ok(t,
           c.sandbox.nbinds == 2 && strcmp(c.sandbox.binds[1], "/opt/tools") == 0 &&
               c.sandbox.binds[2][0] == '\0',
           "binds replaced");
    tap_ok(t, strcmp(c.redis.url, d.redis.url) == 0, "empty section keeps defaults");

    memset(&c, 0, sizeof(c));
    r = config_load_string("# nothing but comments\n", NAME, &c, &err);
    tap_ok(t, r == 0 && memcmp(&c, &d, sizeof(c)) == 0, "comment-only file gives the defaults");
    r = config_load_string("results:\n  ttl: 1d\n", NAME, &c, &err);
    tap_ok(t, r == 0 && c.results.ttl_ms == 86400000ULL, "ttl 1d");
    r = config_load_string("queues:\n  "
                           "q234567890123456789012345678901234567890123456789012345678901234: 1\n",
                           NAME, &c, &err);
    tap_ok(t, r == 0 && strlen(c.queues[0].name) == 64, "a 64-character queue name is accepted");
}

static void test_validation(struct tap *t)
{
    expect_error(t, "dispatcher:\n  listen: localhost\n",
                 "runq.yaml:2: dispatcher.listen: expected host:port");
    expect_error(t, "dispatcher:\n  max_body: 1M\n  listen: :8080\n",
                 "runq.yaml:3: dispatcher.listen: expected host:port");
    expect_error(t, "dispatcher:\n  listen: ::1:8080\n",
                 "runq.yaml:2: dispatcher.listen: expected host:port");
    expect_error(t, "dispatcher:\n  listen: 127.0.0.1:0\n",
                 "runq.yaml:2: dispatcher.listen: port must be between 1 and 65535");
    expect_error(t, "dispatcher:\n  listen: 127.0.0.1:65536\n",
                 "runq.yaml:2: dispatcher.listen: port must be between 1 and 65535");
    expect_error(t, "redis:\n  url: http://127.0.0.1:6379\n",
                 "runq.yaml:2: redis.url: expected a redis:// URL");
    expect_error(t, "redis:\n  url: redis://\n", "runq.yaml:2: redis.url: expected a redis:// URL");
    expect_error(t, "postgres:\n  url: mysql://runq@db/runq\n",
                 "runq.yaml:2: postgres.url: expected a postgresql:// or postgres:// URL");
    expect_error(t, "worker:\n  slots: 0\n",
                 "runq.yaml:2: worker.slots: must be between 1 and 1024");
    expect_error(t, "worker:\n  slots: 1025\n",
                 "runq.yaml:2: worker.slots: must be between 1 and 1024");
    expect_error(t, "worker:\n  slots: two\n",
                 "runq.yaml:2: worker.slots: expected a non-negative integer");
    expect_error(t, "worker:\n  backend: podman\n",
                 "runq.yaml:2: worker.backend: expected sandbox or docker");
    expect_error(t, "docker:\n  socket: docker.sock\n",
                 "runq.yaml:2: docker.socket: expected an absolute path");
    expect_error(t, "docker:\n  uid: 0\n",
                 "runq.yaml:2: docker.uid: must be between 1 and 2147483647");
    expect_error(t, "limits:\n  default:\n    cpu_ms: 40000\n",
                 "runq.yaml:3: limits.default.cpu_ms: exceeds limits.maximum.cpu_ms (30000)");
    expect_error(t, "limits:\n  maximum:\n    pids: 10\n",
                 "runq.yaml:3: limits.maximum.pids: is below limits.default.pids (64)");
    expect_error(t, "limits:\n  maximum:\n    pids: 0\n",
                 "runq.yaml:3: limits.maximum.pids: must be between 1 and 1099511627776");
    expect_error(t, "queues:\n  default: 10\n  Fast: 10\n",
                 "runq.yaml:3: queues.Fast: queue names must match [a-z0-9_-]{1,64}");
    expect_error(t, "queues:\n  \"a.b\": 10\n",
                 "runq.yaml:2: queues.a.b: queue names must match [a-z0-9_-]{1,64}");
    expect_error(t,
                 "queues:\n  "
                 "q2345678901234567890123456789012345678901234567890123456789012345: 1\n",
                 "runq.yaml:2: queues.q234567890123456789012345678901234567890123456789012345678901"
                 "2345: queue names must match [a-z0-9_-]{1,64}");
    expect_error(t, "queues:\n  default: 0\n",
                 "runq.yaml:2: queues.default: must be between 1 and 1000000000");
    expect_error(t, "queues: {}\n", "runq.yaml:1: queues: at least one queue is required");
    expect_error(t, "\nqueues:\n", "runq.yaml:2: queues: at least one queue is required");
    expect_error(t, "sandbox:\n  binds: [/usr, lib]\n",
                 "runq.yaml:2: sandbox.binds[1]: expected an absolute path");
    expect_error(t, "sandbox:\n  binds:\n    - /usr\n    - lib64\n",
                 "runq.yaml:4: sandbox.binds[1]: expected an absolute path");
    expect_error(t, "sandbox:\n  binds: /usr\n",
                 "runq.yaml:2: sandbox.binds: expected a list of absolute paths");
    expect_error(t, "sandbox:\n  state_dir: run/x\n",
                 "runq.yaml:2: sandbox.state_dir: expected an absolute path");
    expect_error(t, "sandbox:\n  cgroup: a/b\n",
                 "runq.yaml:2: sandbox.cgroup: expected one cgroup name of [A-Za-z0-9_.-]");
    expect_error(t, "sandbox:\n  uid_base: 0\n",
                 "runq.yaml:2: sandbox.uid_base: must be between 1 and 4294966270");
    expect_error(
        t, "worker:\n  heartbeat: 30s\n",
        "runq.yaml:2: worker.heartbeat: must be less than worker.heartbeat_ttl (20000 ms)");
    expect_error(t, "worker:\n  heartbeat_ttl: 5s\n",
                 "runq.yaml:2: worker.heartbeat_ttl: must be greater than worker.heartbeat "
                 "(5000 ms)");
    expect_error(t, "dispatcher:\n  max_body: 1X\n",
                 "runq.yaml:2: dispatcher.max_body: expected a size such as 16K, 1M or 2G");
    expect_error(t, "dispatcher:\n  max_header: 100\n",
                 "runq.yaml:2: dispatcher.max_header: must be between 1024 and 1048576 bytes");
    expect_error(t, "dispatcher:\n  idle_timeout: 3 weeks\n",
                 "runq.yaml:2: dispatcher.idle_timeout: expected a duration such as 500ms, 30s, "
                 "5m or 1h");
    expect_error(t, "results:\n  ttl: 999ms\n",
                 "runq.yaml:2: results.ttl: must be between 1000 and 31536000000 ms");
}

static void test_structure_errors(struct tap *t)
{
    expect_error(t, "dispatcher:\n  lisen: 1.2.3.4:80\n",
                 "runq.yaml:2: dispatcher.lisen: unknown key");
    expect_error(t, "worker: {}\nworkers: {}\n", "runq.yaml:2: workers: unknown key");
    expect_error(t, "limits:\n  default:\n    cpu: 1\n",
                 "runq.yaml:3: limits.default.cpu: unknown key");
    expect_error(t, "worker: 3\n", "runq.yaml:1: worker: expected a mapping");
    expect_error(t, "dispatcher:\n  listen: [a, b]\n",
                 "runq.yaml:2: dispatcher.listen: expected a scalar, found a sequence");
    expect_error(t, "worker:\n  slots:\n  heartbeat: 1s\n",
                 "runq.yaml:2: worker.slots: expected a value");
    expect_error(t, "- dispatcher\n",
                 "runq.yaml:1: expected a mapping of sections at the top level");
    expect_error(t, "worker:\n  slots: 2\n  slots: 3\n",
                 "runq.yaml:3: duplicate key \"slots\" (first on line 2)");
    expect_error(t, "worker:\n  slots: &n 2\n", "runq.yaml:2: anchors are not supported");
    expect_error(t, "? [worker]\n: {}\n", "runq.yaml:1: mapping keys must be scalars");
    expect_error(t, "worker:\n  slots: !!int 2\n", "runq.yaml:2: tags are not supported");
    expect_error(t, "worker: {}\n---\nworker: {}\n",
                 "runq.yaml:2: only one YAML document is allowed");
    expect_error(t, "dispatcher:\n  listen: 1.2.3.4:80\n bad: 1\n",
                 "runq.yaml:3: did not find expected key (while parsing a block mapping)");
    expect_error(t, "dispatcher:\n\tlisten: x\n",
                 "runq.yaml:2: found character that cannot start any token (while scanning "
                 "for the next token)");
}

static void test_files(struct tap *t)
{
    char path[] = "/tmp/runq-test-config-XXXXXX", want[256], got[1024] = "";
    struct runq_config c;
    struct config_error err;
    int fd = mkstemp(path), r;
    static const char text[] = "worker:\n  slots: 4\n  max_attempts: 0\n";

    tap_ok(t, fd >= 0 && write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1,
           "temporary file written");
    if (fd >= 0)
        close(fd);
    c.worker.slots = 77;
    r = config_load(path, &c, &err);
    snprintf(want, sizeof(want), "%s:3: worker.max_attempts: must be between 1 and 100", path);
    config_error_format(&err, got, sizeof(got));
    if (!tap_ok(t, r == -EINVAL && strcmp(got, want) == 0, "file errors name the path"))
        tap_diag("got \"%s\"", got);
    tap_ok(t, c.worker.slots == 77, "a failed load leaves the caller's config unchanged");
    unlink(path);
    r = config_load(path, &c, &err);
    snprintf(want, sizeof(want), "%s: cannot open: %s", path, strerror(ENOENT));
    config_error_format(&err, got, sizeof(got));
    if (!tap_ok(t, r == -ENOENT && strcmp(got, want) == 0, "missing file: -ENOENT, no line"))
        tap_diag("r=%d got \"%s\"", r, got);
}

static void test_env(struct tap *t)
{
    const char *good[] = {"HOME=/root",
                          "RUNQ_CONFIG=/etc/runq/runq.yaml",
                          "RUNQ_WORKER_SLOTS=8",
                          "RUNQ_REDIS_URL=redis://cache:6379/2",
                          "RUNQ_DISPATCHER_LISTEN=0.0.0.0:80",
                          "RUNQ_DISPATCHER_MAX_BODY=2M",
                          "RUNQ_RESULTS_TTL=2h",
                          "RUNQ_LIMITS_DEFAULT_CPU_MS=40000",
                          "RUNQ_LIMITS_MAXIMUM_CPU_MS=60000",
                          "RUNQ_SANDBOX_BINDS=/usr:/bin",
                          "RUNQ_WORKER_SLOTS=9",
                          "runq_worker_slots=1",
                          NULL};
    const char *empty_binds[] = {"RUNQ_SANDBOX_BINDS=", NULL};
    struct runq_config c;
    struct config_error err;
    char msg[1024];
    int r;

    config_defaults(&c);
    r = config_apply_env(&c, (char *const *)good, &err);
    if (!tap_ok(t, r == 0, "good overrides apply"))
        tap_diag("%s", config_error_format(&err, msg, sizeof(msg)));
    tap_ok(t, c.worker.slots == 9, "RUNQ_WORKER_SLOTS: last one wins, lower case ignored");
    tap_ok(t, strcmp(c.redis.url, "redis://cache:6379/2") == 0, "RUNQ_REDIS_URL");
    tap_ok(t, strcmp(c.dispatcher.listen, "0.0.0.0:80") == 0, "RUNQ_DISPATCHER_LISTEN");
    tap_ok(t, c.dispatcher.max_body == 2 << 20, "RUNQ_DISPATCHER_MAX_BODY parsed as a size");
    tap_ok(t, c.results.ttl_ms == 7200000, "RUNQ_RESULTS_TTL parsed as a duration");
    tap_ok(t, c.limits.defaults.cpu_ms == 40000 && c.limits.maximum.cpu_ms == 60000,
           "limits checked after all variables (default above the old maximum is fine)");
    tap_ok(t, c.sandbox.nbinds == 2 && strcmp(c.sandbox.binds[1], "/bin") == 0,
           "RUNQ_SANDBOX_BINDS is a ':' list");
    r = config_apply_env(&c, (char *const *)empty_binds, &err);
    tap_ok(t, r == 0 && c.sandbox.nbinds == 0, "RUNQ_SANDBOX_BINDS= empties the binds");

    expect_env_error(t, (const char *[]){"RUNQ_WORKER_SLOTS=0", NULL},
                     "RUNQ_WORKER_SLOTS: worker.slots: must be between 1 and 1024");
    expect_env_error(t, (const char *[]){"RUNQ_WORKER_SLOTS=4", "RUNQ_WORKER_HEARTBEAT=soon", NULL},
                     "RUNQ_WORKER_HEARTBEAT: worker.heartbeat: expected a duration such as "
                     "500ms, 30s, 5m or 1h");
    expect_env_error(t, (const char *[]){"RUNQ_WORKER_SLOTZ=4", NULL},
                     "RUNQ_WORKER_SLOTZ: worker: unknown key");
    expect_env_error(t, (const char *[]){"RUNQ_POSTGRES_URL=mysql://x", NULL},
                     "RUNQ_POSTGRES_URL: postgres.url: expected a postgresql:// or postgres:// "
                     "URL");
    expect_env_error(t, (const char *[]){"RUNQ_DISPATCHER_LISTEN=8080", NULL},
                     "RUNQ_DISPATCHER_LISTEN: dispatcher.listen: expected host:port");
    expect_env_error(t, (const char *[]){"RUNQ_SANDBOX_BINDS=/usr:lib", NULL},
                     "RUNQ_SANDBOX_BINDS: sandbox.binds[1]: expected an absolute path");
    expect_env_error(t, (const char *[]){"RUNQ_LIMITS_DEFAULT_PIDS=1000", NULL},
                     "RUNQ_LIMITS_DEFAULT_PIDS: limits.default.pids: exceeds "
                     "limits.maximum.pids (512)");
    expect_env_error(t, (const char *[]){"RUNQ_LIMITS_MAXIMUM_WALL_MS=10", NULL},
                     "RUNQ_LIMITS_MAXIMUM_WALL_MS: limits.maximum.wall_ms: is below "
                     "limits.default.wall_ms (5000)");
    expect_env_error(t, (const char *[]){"RUNQ_QUEUES_DEFAULT=5", NULL},
                     "RUNQ_QUEUES_DEFAULT: queues: queues are set in the file only");
}

static void test_validate_and_format(struct tap *t)
{
    struct runq_config c;
    struct config_error err = {"", 0, "", "no line"};
    char got[1024];

    config_defaults(&c);
    tap_ok(t, config_validate(&c, &err) == 0, "defaults validate");
    c.limits.defaults.wall_ms = c.limits.maximum.wall_ms + 1;
    tap_ok(t,
           config_validate(&c, &err) == -EINVAL &&
               strcmp(config_error_format(&err, got, sizeof(got)),
                      "limits.default.wall_ms: exceeds limits.maximum.wall_ms (60000)") == 0,
           "config_validate: no file, key and message");
    config_defaults(&c);
    c.nqueues = 0;
    tap_ok(t, config_validate(&c, &err) == -EINVAL && strcmp(err.key, "queues") == 0,
           "config_validate: no queue");
    err = (struct config_error){"x.yaml", 0, "", "cannot open"};
    tap_ok(t, strcmp(config_error_format(&err, got, sizeof(got)), "x.yaml: cannot open") == 0,
           "format without line and key");
    err = (struct config_error){"x.yaml", 7, "a.b", "bad"};
    config_error_format(&err, got, 12);
    tap_ok(t, strcmp(got, "x.yaml:7: a") == 0, "format truncates to the buffer");
}

int main(int argc, char **argv)
{
    struct tap t = {0};

    test_yaml_tree(&t);
    test_defaults(&t);
    test_shipped_file(&t, argc > 1 ? argv[1] : "config/runq.yaml");
    test_overrides(&t);
    test_validation(&t);
    test_structure_errors(&t);
    test_files(&t);
    test_env(&t);
    test_validate_and_format(&t);
    return tap_done(&t);
}
