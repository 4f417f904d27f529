/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "units.h"
#include "yaml_tree.h"

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_-"
#define SEC 1000ULL
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)
/* uid_base + any slot stays below (uid_t)-1, which means "no change" to setuid() */
#define UID_BASE_MAX (UINT32_MAX - 1 - CONFIG_MAX_SLOTS)

/* clang-format off */
enum kind { K_LISTEN, K_REDIS_URL, K_PG_URL, K_NAME, K_PATH, K_SIZE, K_DURATION, K_UINT,
            K_BINDS, K_QUEUES, K_TEXT, K_BOOL, K_BACKEND };

/* One key of runq.yaml: where it lives in struct runq_config, what it accepts and its
 * embedded default, written as in the file. */
struct key_spec {
    const char *path;
    enum kind kind;
    size_t off, size;
    uint64_t min, max;
    const char *dflt;
};

#define F(field) offsetof(struct runq_config, field), sizeof(((struct runq_config *)0)->field)
/* "limits.default" is spelt defaults in C: default is a keyword. */
#define LIMIT(which, field, name, dflt) \
    {"limits." #which "." #name, K_UINT, F(limits.field.name), 1, CONFIG_LIMIT_MAX, dflt}

static const struct key_spec specs[] = {
    {"dispatcher.listen", K_LISTEN, F(dispatcher.listen), 0, 0, "127.0.0.1:8080"},
    {"dispatcher.max_body", K_SIZE, F(dispatcher.max_body), 1, 1ULL << 30, "1M"},
    {"dispatcher.max_header", K_SIZE, F(dispatcher.max_header), 1024, 1ULL << 20, "16K"},
    {"dispatcher.idle_timeout", K_DURATION, F(dispatcher.idle_timeout_ms), 1, DAY, "30s"},
    {"dispatcher.request_timeout", K_DURATION, F(dispatcher.request_timeout_ms), 1, HOUR, "10s"},
    {"dispatcher.max_wait", K_DURATION, F(dispatcher.max_wait_ms), 0, HOUR, "60s"},
    {"dispatcher.max_delay", K_DURATION, F(dispatcher.max_delay_ms), 0, 365 * DAY, "30d"},
    {"dispatcher.max_tests", K_UINT, F(dispatcher.max_tests), 1, 100000, "1000"},
    {"dispatcher.max_submissions", K_UINT, F(dispatcher.max_submissions), 1, 100000, "1000"},
    {"redis.url", K_REDIS_URL, F(redis.url), 0, 0, "redis://127.0.0.1:6379/0"},
    {"postgres.url", K_PG_URL, F(postgres.url), 0, 0, "postgresql://runq@127.0.0.1:5432/runq"},
    {"postgres.commit_interval", K_DURATION, F(postgres.commit_interval_ms), 0, SEC, "10ms"},
    {"worker.slots", K_UINT, F(worker.slots), 1, CONFIG_MAX_SLOTS, "2"},
    {"worker.heartbeat", K_DURATION, F(worker.heartbeat_ms), 1, HOUR, "5s"},
    {"worker.heartbeat_ttl", K_DURATION, F(worker.heartbeat_ttl_ms), 1, DAY, "20s"},
    {"worker.max_attempts", K_UINT, F(worker.max_attempts), 1, 100, "3"},
    {"worker.drain_grace", K_DURATION, F(worker.drain_grace_ms), 0, HOUR, "30s"},
    {"worker.backend", K_BACKEND, F(worker.backend), 0, 0, "sandbox"},
    {"docker.socket", K_PATH, F(docker.socket), 0, 0, "/var/run/docker.sock"},
    {"docker.image_prefix", K_TEXT, F(docker.image_prefix), 0, 0, "runq/lang-"},
    {"docker.image_tag", K_TEXT, F(docker.image_tag), 0, 0, "latest"},
    {"docker.uid", K_UINT, F(docker.uid), 1, INT32_MAX, "65534"},
    {"docker.cpus", K_UINT, F(docker.cpus), 1, 256, "1"},
    {"webhooks.secret", K_TEXT, F(webhooks.secret), 0, 0, ""},
    {"webhooks.timeout", K_DURATION, F(webhooks.timeout_ms), 1, HOUR, "10s"},
    {"webhooks.max_attempts", K_UINT, F(webhooks.max_attempts), 1, 100, "8"},
    {"webhooks.allow_private", K_BOOL, F(webhooks.allow_private), 0, 1, "false"},
    {"results.ttl", K_DURATION, F(results.ttl_ms), SEC, 365 * DAY, "1h"},
    {"queues", K_QUEUES, F(queues), 0, 0, "default"}, /* depth 10000: config_defaults() */
    LIMIT(default, defaults, cpu_ms, "2000"),     LIMIT(maximum, maximum, cpu_ms, "30000"),
    LIMIT(default, defaults, wall_ms, "5000"),    LIMIT(maximum, maximum, wall_ms, "60000"),
    LIMIT(default, defaults, memory_kb, "262144"), LIMIT(maximum, maximum, memory_kb, "2097152"),
    LIMIT(default, defaults, pids, "64"),         LIMIT(maximum, maximum, pids, "512"),
    LIMIT(default, defaults, output_kb, "1024"),  LIMIT(maximum, maximum, output_kb, "65536"),
    LIMIT(default, defaults, file_size_kb, "16384"),
    LIMIT(maximum, maximum, file_size_kb, "262144"),
    {"sandbox.uid_base", K_UINT, F(sandbox.uid_base), 1, UID_BASE_MAX, "60000"},
    {"sandbox.cgroup", K_NAME, F(sandbox.cgroup), 0, 0, "runq"},
    {"sandbox.state_dir", K_PATH, F(sandbox.state_dir), 0, 0, "/run/runq-sandbox"},
    {"sandbox.binds", K_BINDS, F(sandbox.binds), 0, 0,
     "/usr:/bin:/sbin:/lib:/lib32:/lib64:/libx32:/etc/alternatives:/etc/ld.so.cache:"
     "/etc/java-17-openjdk:/etc/ssl:/etc/mono:/etc/php"},
};
/* clang-format on */

#define NSPECS (sizeof(specs) / sizeof(specs[0]))

static const char *const limit_names[CONFIG_LIMIT_COUNT] = {
    "cpu_ms", "wall_ms", "memory_kb", "pids", "output_kb", "file_size_kb",
};

/* Where a key's value came from during one load or apply_env: a file line or a variable. */
struct origin {
    const char *src; /* file name, or "RUNQ_X=value" of which srclen bytes name the variable */
    size_t srclen;
    int line;
};

/* Fills *err and returns -EINVAL, so that callers can "return fail(...)". */
static int __attribute__((format(printf, 4, 5)))
fail(struct config_error *err, const struct origin *o, const char *key, const char *fmt, ...)
{
    va_list ap;

    memset(err, 0, sizeof(*err));
    if (o && o->src)
        snprintf(err->file, sizeof(err->file), "%.*s", (int)o->srclen, o->src);
    err->line = o ? o->line : 0;
    snprintf(err->key, sizeof(err->key), "%s", key);
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Parses a size, duration or integer of the given kind within [min, max]. 0 or -EINVAL
 * with the reason in msg. */
static int parse_number(enum kind kind, const char *text, uint64_t min, uint64_t max, uint64_t *out,
                        char *msg, size_t msglen)
{
    const char *unit = kind == K_SIZE ? " bytes" : kind == K_DURATION ? " ms" : "";
    uint64_t v = 0;
    int r;

    if (kind == K_SIZE)
        r = units_parse_size(text, &v);
    else if (kind == K_DURATION)
        r = units_parse_duration_ms(text, &v);
    else
        r = units_parse_uint(text, UINT64_MAX, &v);
    if (r == -EINVAL) {
        snprintf(msg, msglen, "%s",
                 kind == K_SIZE       ? "expected a size such as 16K, 1M or 2G"
                 : kind == K_DURATION ? "expected a duration such as 500ms, 30s, 5m or 1h"
                                      : "expected a non-negative integer");
        return -EINVAL;
    }
    if (r < 0 || v < min || v > max) {
        snprintf(msg, msglen, "must be between %llu and %llu%s", (unsigned long long)min,
                 (unsigned long long)max, unit);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

static int has_space(const char *s)
{
    while (*s && !isspace((unsigned char)*s) && !iscntrl((unsigned char)*s))
        s++;
    return *s != '\0';
}

/* host:port, or [v6]:port. The host is checked only for being there and free of spaces. */
static const char *check_listen(const char *text)
{
    const char *colon = strrchr(text, ':');
    uint64_t port;
    int r;

    if (!colon || colon == text || has_space(text) ||
        (text[0] == '[' ? colon[-1] != ']' || colon == text + 2 : strchr(text, ':') != colon) ||
        (r = units_parse_uint(colon + 1, 65535, &port)) == -EINVAL)
        return "expected host:port";
    if (r < 0 || port == 0)
        return "port must be between 1 and 65535";
    return NULL;
}

static const char *check_url(const char *text, const char *const *schemes, const char *msg)
{
    for (; *schemes; schemes++) {
        size_t n = strlen(*schemes);
        if (strncmp(text, *schemes, n) == 0 && text[n] && !has_space(text))
            return NULL;
    }
    return msg;
}

static const char *check_path(const char *text)
{
    if (text[0] != '/')
        return "expected an absolute path";
    if (strlen(text) >= CONFIG_PATH_MAX)
        return "path longer than 255 bytes";
    return NULL;
}

/* Copies text into a zero-filled fixed field (so that memcmp() sees no stale bytes). */
static int store_str(char *field, size_t size, const char *text)
{
    size_t n = strlen(text);

    if (n >= size)
        return -ENAMETOOLONG;
    memset(field, 0, size);
    memcpy(field, text, n);
    return 0;
}

/* Parses a scalar for spec s into cfg. Returns 0, or -EINVAL with the reason in msg. */
/* Printable ASCII but the space: secrets and the like, whole in one YAML scalar. */
#define TEXT_CHARS                                                                                 \
    "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz" \
    "{|}~"

static int set_scalar(struct runq_config *cfg, const struct key_spec *s, const char *text,
                      char *msg, size_t msglen)
{
    static const char *const redis[] = {"redis://", NULL};
    static const char *const pg[] = {"postgresql://", "postgres://", NULL};
    char *field = (char *)cfg + s->off;
    const char *bad = NULL;
    uint64_t v;

    if (s->kind == K_SIZE || s->kind == K_DURATION || s->kind == K_UINT) {
        if (parse_number(s->kind, text, s->min, s->max, &v, msg, msglen) < 0)
            return -EINVAL;
        if (s->size == sizeof(uint32_t)) {
            uint32_t v32 = (uint32_t)v; /* max fits: see the table */
            memcpy(field, &v32, sizeof(v32));
        } else {
            memcpy(field, &v, sizeof(v));
        }
        return 0;
    }
    if (s->kind == K_BOOL) {
        uint32_t b = !strcmp(text, "true") || !strcmp(text, "yes") || !strcmp(text, "1");
        if (!b && strcmp(text, "false") && strcmp(text, "no") && strcmp(text, "0")) {
            snprintf(msg, msglen, "expected true or false");
            return -EINVAL;
        }
        memcpy(field, &b, sizeof(b));
        return 0;
    }
    if (s->kind == K_LISTEN)
        bad = check_listen(text);
    else if (s->kind == K_TEXT && strspn(text, TEXT_CHARS) != strlen(text))
        bad = "expected printable ASCII without spaces";
    else if (s->kind == K_BACKEND && strcmp(text, "sandbox") != 0 && strcmp(text, "docker") != 0)
        bad = "expected sandbox or docker";
    else if (s->kind == K_REDIS_URL)
        bad = check_url(text, redis, "expected a redis:// URL");
    else if (s->kind == K_PG_URL)
        bad = check_url(text, pg, "expected a postgresql:// or postgres:// URL");
    else if (s->kind == K_NAME &&
             (!text[0] || strcmp(text, ".") == 0 || strcmp(text, "..") == 0 ||
              strspn(text, NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ.") != strlen(text)))
        bad = "expected one cgroup name of [A-Za-z0-9_.-]";
    else if (s->kind == K_PATH)
        bad = check_path(text);
    if (!bad && store_str(field, s->size, text) < 0)
        bad = "value too long";
    if (bad)
        snprintf(msg, msglen, "%s", bad);
    return bad ? -EINVAL : 0;
}

/* The index of the key called path, or -1; *section tells whether path holds keys. */
static long spec_index(const char *path, int *section)
{
    size_t i, n = strlen(path);

    *section = 0;
    for (i = 0; i < NSPECS; i++) {
        if (strcmp(specs[i].path, path) == 0)
            return (long)i;
        if (strncmp(specs[i].path, path, n) == 0 && specs[i].path[n] == '.')
            *section = 1;
    }
    return -1;
}

/* One config_load or config_apply_env: the struct being built and where values came from. */
struct loader {
    struct runq_config *cfg;
    struct origin org[NSPECS];
    const char *file;
    struct config_error *err;
};

static int set_bind(struct loader *ld, size_t i, const char *text, const struct origin *o)
{
    char key[48];
    const char *bad = check_path(text);

    snprintf(key, sizeof(key), "sandbox.binds[%zu]", i);
    if (!bad && i >= CONFIG_MAX_BINDS)
        bad = "too many binds (at most 64)";
    if (bad)
        return fail(ld->err, o, key, "%s", bad);
    store_str(ld->cfg->sandbox.binds[i], CONFIG_PATH_MAX, text);
    ld->cfg->sandbox.nbinds = i + 1;
    return 0;
}

/* "/usr:/bin:/lib" replaces the binds (RUNQ_SANDBOX_BINDS and the default); "" empties them. */
static int set_bind_list(struct loader *ld, const struct origin *o, const char *list)
{
    size_t i;
    int r;

    memset(ld->cfg->sandbox.binds, 0, sizeof(ld->cfg->sandbox.binds));
    ld->cfg->sandbox.nbinds = 0;
    for (i = 0; *list; i++) {
        size_t n = strcspn(list, ":");
        char path[CONFIG_PATH_MAX + 1];

        snprintf(path, sizeof(path), "%.*s", (int)n, list);
        if ((r = set_bind(ld, i, path, o)) < 0)
            return r;
        list += n + (list[n] == ':');
    }
    return 0;
}

/* A scalar with a value: the only thing a leaf key or list item may be. */
static int want_scalar(struct loader *ld, const struct yaml_tree_node *n, int line, const char *key)
{
    struct origin o = {ld->file, strlen(ld->file), line};
    const char *problem = yaml_tree_scalar_problem(n);

    return problem ? fail(ld->err, &o, key, "%s", problem) : 0;
}

static int load_queues(struct loader *ld, const struct yaml_tree_pair *p)
{
    struct runq_config *c = ld->cfg;
    struct origin o = {ld->file, strlen(ld->file), p->key_line};
    const struct yaml_tree_node *m = p->value;
    size_t i;
    int r;

    if (!yaml_tree_is_null(m) && m->kind != YAML_TREE_MAPPING)
        return fail(ld->err, &o, "queues", "expected a mapping of name: max_depth");
    memset(c->queues, 0, sizeof(c->queues));
    c->nqueues = 0;
    for (i = 0; m->kind == YAML_TREE_MAPPING && i < m->count; i++) {
        const struct yaml_tree_pair *q = &m->pairs[i];
        char key[160], msg[128];

        snprintf(key, sizeof(key), "queues.%s", q->key);
        o.line = q->key_line;
        if (!q->key[0] || strlen(q->key) > CONFIG_QUEUE_NAME_MAX ||
            strspn(q->key, NAME_CHARS) != strlen(q->key))
            return fail(ld->err, &o, key, "queue names must match [a-z0-9_-]{1,64}");
        if (i >= CONFIG_MAX_QUEUES)
            return fail(ld->err, &o, key, "too many queues (at most %d)", CONFIG_MAX_QUEUES);
        if ((r = want_scalar(ld, q->value, q->key_line, key)) < 0)
            return r;
        if (parse_number(K_UINT, q->value->value, 1, CONFIG_QUEUE_DEPTH_MAX,
                         &c->queues[i].max_depth, msg, sizeof(msg)) < 0)
            return fail(ld->err, &o, key, "%s", msg);
        store_str(c->queues[i].name, sizeof(c->queues[i].name), q->key);
        c->nqueues = i + 1;
    }
    return 0; /* an empty set is refused by cross_check() */
}

static int load_binds(struct loader *ld, const struct yaml_tree_pair *p)
{
    struct origin o = {ld->file, strlen(ld->file), p->key_line};
    const struct yaml_tree_node *s = p->value;
    size_t i;
    int r;

    if (s->kind != YAML_TREE_SEQUENCE)
        return fail(ld->err, &o, "sandbox.binds", "expected a list of absolute paths");
    memset(ld->cfg->sandbox.binds, 0, sizeof(ld->cfg->sandbox.binds));
    ld->cfg->sandbox.nbinds = 0;
    for (i = 0; i < s->count; i++) {
        char key[48];

        snprintf(key, sizeof(key), "sandbox.binds[%zu]", i);
        o.line = s->items[i]->line;
        if ((r = want_scalar(ld, s->items[i], o.line, key)) < 0 ||
            (r = set_bind(ld, i, s->items[i]->value, &o)) < 0)
            return r;
    }
    return 0;
}

static int load_mapping(struct loader *ld, const struct yaml_tree_node *map, const char *prefix)
{
    size_t i;
    int r, section;

    for (i = 0; i < map->count; i++) {
        const struct yaml_tree_pair *p = &map->pairs[i];
        struct origin o = {ld->file, strlen(ld->file), p->key_line};
        const struct key_spec *s = NULL;
        char path[128], msg[160];
        long k;

        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", p->key);
        if ((k = spec_index(path, &section)) >= 0) {
            s = &specs[k];
            ld->org[k] = o;
        }
        if (s && s->kind == K_QUEUES) {
            r = load_queues(ld, p);
        } else if (s && s->kind == K_BINDS) {
            r = load_binds(ld, p);
        } else if (s) {
            if ((r = want_scalar(ld, p->value, p->key_line, path)) == 0 &&
                set_scalar(ld->cfg, s, p->value->value, msg, sizeof(msg)) < 0)
                r = fail(ld->err, &o, path, "%s", msg);
        } else if (!section)
            r = fail(ld->err, &o, path, "unknown key");
        else if (yaml_tree_is_null(p->value))
            r = 0; /* "worker:" with every key commented out */
        else if (p->value->kind != YAML_TREE_MAPPING)
            r = fail(ld->err, &o, path, "expected a mapping");
        else
            r = load_mapping(ld, p->value, path);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Checks lo <= hi (lo < hi when strict); blames whichever of the two this source set. */
static int check_order(const struct runq_config *c, const struct origin *org, const char *lo,
                       const char *hi, int strict, struct config_error *err)
{
    int section;
    long a = spec_index(lo, &section), b = spec_index(hi, &section);
    const char *unit = specs[a].kind == K_DURATION ? " ms" : "";
    uint64_t va, vb;

    memcpy(&va, (const char *)c + specs[a].off, sizeof(va));
    memcpy(&vb, (const char *)c + specs[b].off, sizeof(vb));
    if (strict ? va < vb : va <= vb)
        return 0;
    if (org[a].src || !org[b].src)
        return fail(err, &org[a], lo, "%s %s (%llu%s)", strict ? "must be less than" : "exceeds",
                    hi, (unsigned long long)vb, unit);
    return fail(err, &org[b], hi, "%s %s (%llu%s)", strict ? "must be greater than" : "is below",
                lo, (unsigned long long)va, unit);
}

static int cross_check(const struct runq_config *c, const struct origin *org,
                       struct config_error *err)
{
    char lo[64], hi[64];
    int i, r;

    if (c->nqueues == 0)
        return fail(err, &org[spec_index("queues", &i)], "queues",
                    "at least one queue is required");
    for (i = 0; i < CONFIG_LIMIT_COUNT; i++) {
        snprintf(lo, sizeof(lo), "limits.default.%s", limit_names[i]);
        snprintf(hi, sizeof(hi), "limits.maximum.%s", limit_names[i]);
        if ((r = check_order(c, org, lo, hi, 0, err)) < 0)
            return r;
    }
    return check_order(c, org, "worker.heartbeat", "worker.heartbeat_ttl", 1, err);
}

void config_defaults(struct runq_config *cfg)
{
    struct config_error err;
    struct loader ld = {.cfg = cfg, .file = "", .err = &err};
    char msg[160];
    size_t i;

    memset(cfg, 0, sizeof(*cfg));
    for (i = 0; i < NSPECS; i++) {
        if (specs[i].kind == K_BINDS)
            set_bind_list(&ld, NULL, specs[i].dflt);
        else if (specs[i].kind == K_QUEUES)
            store_str(cfg->queues[0].name, sizeof(cfg->queues[0].name), specs[i].dflt);
        else
            set_scalar(cfg, &specs[i], specs[i].dflt, msg, sizeof(msg));
    }
    cfg->queues[0].max_depth = 10000;
    cfg->nqueues = 1;
}

/* Loads a parsed tree (or none) on top of the defaults; *cfg is written only on success. */
static int load_tree(struct yaml_tree_node *root, int r, const struct yaml_tree_error *ye,
                     const char *file, struct runq_config *cfg, struct config_error *err)
{
    struct runq_config tmp;
    struct loader ld = {.cfg = &tmp, .file = file, .err = err};
    struct origin o = {file, strlen(file), r < 0 ? ye->line : root ? root->line : 0};

    if (r < 0) {
        fail(err, &o, "", "%s", ye->message);
        return r;
    }
    config_defaults(&tmp);
    if (root && root->kind == YAML_TREE_MAPPING)
        r = load_mapping(&ld, root, "");
    else if (root && !yaml_tree_is_null(root))
        r = fail(err, &o, "", "expected a mapping of sections at the top level");
    if (r == 0)
        r = cross_check(&tmp, ld.org, err);
    if (r == 0)
        *cfg = tmp;
    yaml_tree_free(root);
    return r;
}

int config_load(const char *path, struct runq_config *cfg, struct config_error *err)
{
    struct yaml_tree_node *root = NULL;
    struct yaml_tree_error ye;
    int r = yaml_tree_load_file(path, &root, &ye);

    return load_tree(root, r, &ye, path, cfg, err);
}

int config_load_string(const char *text, const char *name, struct runq_config *cfg,
                       struct config_error *err)
{
    struct yaml_tree_node *root = NULL;
    struct yaml_tree_error ye;
    int r = yaml_tree_load_string(text, strlen(text), name, &root, &ye);

    return load_tree(root, r, &ye, name, cfg, err);
}

/* name[0..len) equals text upper-cased with '.' and '-' as '_'. */
static int env_matches(const char *text, const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < len && text[i]; i++) {
        char c = text[i] == '.' || text[i] == '-' ? '_' : (char)toupper((unsigned char)text[i]);
        if (c != name[i])
            return 0;
    }
    return i == len && text[i] == '\0';
}

static int apply_one(struct loader *ld, const char *var)
{
    const char *name = var + 5, *eq = strchr(var, '='), *value = eq + 1;
    size_t len = (size_t)(eq - name), i;
    struct origin o = {var, (size_t)(eq - var), 0};
    char msg[160], section[32];

    for (i = 0; i < NSPECS; i++) {
        const struct key_spec *s = &specs[i];

        if (!env_matches(s->path, name, len))
            continue;
        ld->org[i] = o;
        if (s->kind == K_BINDS)
            return set_bind_list(ld, &o, value);
        if (s->kind != K_QUEUES && set_scalar(ld->cfg, s, value, msg, sizeof(msg)) == 0)
            return 0;
        break;
    }
    if (i < NSPECS && specs[i].kind != K_QUEUES)
        return fail(ld->err, &o, specs[i].path, "%s", msg);
    if (len >= 6 && strncmp(name, "QUEUES", 6) == 0)
        return fail(ld->err, &o, "queues", "queues are set in the file only");
    for (i = 0; i < NSPECS; i++) {
        size_t n = strcspn(specs[i].path, ".");

        snprintf(section, sizeof(section), "%.*s", (int)n, specs[i].path);
        if (len > n && name[n] == '_' && env_matches(section, name, n))
            return fail(ld->err, &o, section, "unknown key");
    }
    return 0; /* RUNQ_CONFIG and the like belong to someone else */
}

int config_apply_env(struct runq_config *cfg, char *const *envp, struct config_error *err)
{
    struct runq_config tmp = *cfg;
    struct loader ld = {.cfg = &tmp, .file = "", .err = err};
    int r;

    for (; envp && *envp; envp++) {
        if (strncmp(*envp, "RUNQ_", 5) == 0 && strchr(*envp, '=') &&
            (r = apply_one(&ld, *envp)) < 0)
            return r;
    }
    if ((r = cross_check(&tmp, ld.org, err)) < 0)
        return r;
    *cfg = tmp;
    return 0;
}

int config_validate(const struct runq_config *cfg, struct config_error *err)
{
    struct origin org[NSPECS];

    memset(org, 0, sizeof(org));
    return cross_check(cfg, org, err);
}

char *config_error_format(const struct config_error *err, char *buf, size_t len)
{
    char line[24] = "";

    if (err->line > 0)
        snprintf(line, sizeof(line), ":%d", err->line);
    snprintf(buf, len, "%s%s%s%s%s%s", err->file, line, err->file[0] ? ": " : "", err->key,
             err->key[0] ? ": " : "", err->message);
    return buf;
}

int config_parse_limit(const char *text, uint64_t *out, char *msg, size_t msglen)
{
    return parse_number(K_UINT, text, 1, CONFIG_LIMIT_MAX, out, msg, msglen);
}
