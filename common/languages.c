/* SPDX-License-Identifier: MIT */
#include "languages.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "yaml_tree.h"

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+#-"

enum argv_kind { ARGV_VERSION, ARGV_COMPILE, ARGV_RUN };

static const struct {
    const char *name;
    size_t off;
} limit_keys[] = {
    {"cpu_ms", offsetof(struct config_limits, cpu_ms)},
    {"wall_ms", offsetof(struct config_limits, wall_ms)},
    {"memory_kb", offsetof(struct config_limits, memory_kb)},
    {"pids", offsetof(struct config_limits, pids)},
    {"output_kb", offsetof(struct config_limits, output_kb)},
    {"file_size_kb", offsetof(struct config_limits, file_size_kb)},
};

#define NLIMITS (sizeof(limit_keys) / sizeof(limit_keys[0]))

/* One load: where errors point and the table being filled. */
struct loader {
    const char *file;
    struct config_error *err;
    struct languages *table;
};

/* Fills *err and returns -EINVAL, so that callers can "return fail(...)". */
static int __attribute__((format(printf, 4, 5)))
fail(struct loader *ld, int line, const char *key, const char *fmt, ...)
{
    struct config_error *err = ld->err;
    va_list ap;

    memset(err, 0, sizeof(*err));
    snprintf(err->file, sizeof(err->file), "%s", ld->file);
    err->line = line;
    snprintf(err->key, sizeof(err->key), "%s", key);
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int oom(struct loader *ld)
{
    fail(ld, 0, "", "out of memory");
    return -ENOMEM;
}

static void strv_free(char **v)
{
    size_t i;

    for (i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static int name_valid(const char *s)
{
    size_t n = strlen(s);

    return n >= 1 && n <= LANGUAGES_NAME_MAX && strspn(s, NAME_CHARS) == n;
}

/* Is id (a name or alias) already taken by an earlier language, or by this one's name and
 * earlier aliases (l->aliases[0..n))? Fails naming the clash. */
static int check_unique(struct loader *ld, size_t self, size_t n, const char *id, int line,
                        const char *key)
{
    size_t i, a;

    for (i = 0; i <= self; i++) {
        const struct language *l = &ld->table->items[i];
        size_t na = i == self ? n : SIZE_MAX;

        if (i < self && strcasecmp(l->name, id) == 0)
            return fail(ld, line, key, "\"%s\" is already the name of a language", id);
        if (i == self && l->name != id && strcasecmp(l->name, id) == 0)
            return fail(ld, line, key, "\"%s\" repeats the language's name", id);
        for (a = 0; a < na && l->aliases && l->aliases[a]; a++) {
            if (strcasecmp(l->aliases[a], id) == 0)
                return fail(ld, line, key, "\"%s\" is already an alias of %s", id, l->name);
        }
    }
    return 0;
}

/* Copies a sequence of non-empty scalars into a new NULL-terminated vector. */
static int load_strv(struct loader *ld, const struct yaml_tree_pair *p, const char *lang,
                     char ***out)
{
    const struct yaml_tree_node *s = p->value;
    char key[160];
    size_t i;
    char **v;

    snprintf(key, sizeof(key), "%s.%s", lang, p->key);
    if (s->kind != YAML_TREE_SEQUENCE)
        return fail(ld, p->key_line, key, "expected a list");
    if (s->count > LANGUAGES_ARGV_MAX)
        return fail(ld, p->key_line, key, "more than %d elements", LANGUAGES_ARGV_MAX);
    if (!(v = calloc(s->count + 1, sizeof(*v))))
        return oom(ld);
    *out = v;
    for (i = 0; i < s->count; i++) {
        const struct yaml_tree_node *n = s->items[i];
        const char *problem = yaml_tree_scalar_problem(n);

        snprintf(key, sizeof(key), "%s.%s[%zu]", lang, p->key, i);
        if (!problem && !n->value[0])
            problem = "expected a non-empty string";
        if (problem)
            return fail(ld, n->line, key, "%s", problem);
        if (!(v[i] = strdup(n->value)))
            return oom(ld);
    }
    return 0;
}

/* Checks where the placeholders of an argv template may appear. */
static int check_argv(struct loader *ld, const struct yaml_tree_pair *p, const char *lang,
                      enum argv_kind kind, char **argv)
{
    const struct yaml_tree_node *s = p->value;
    char key[160];
    size_t i;

    snprintf(key, sizeof(key), "%s.%s", lang, p->key);
    if (!argv[0])
        return fail(ld, p->key_line, key, "expected at least the program");
    for (i = 0; argv[i]; i++) {
        const char *problem = NULL;

        if (strstr(argv[i], "{args}") && kind != ARGV_RUN)
            problem = "{args} is only available in run";
        else if (strstr(argv[i], "{args}") && i == 0)
            problem = "{args} cannot be the program";
        else if (strstr(argv[i], "{args}") && strcmp(argv[i], "{args}") != 0)
            problem = "{args} must be a whole element";
        else if (strstr(argv[i], "{file}") && kind == ARGV_VERSION)
            problem = "{file} is not available in version";
        if (problem) {
            snprintf(key, sizeof(key), "%s.%s[%zu]", lang, p->key, i);
            return fail(ld, s->items[i]->line, key, "%s", problem);
        }
    }
    return 0;
}

static int load_limits(struct loader *ld, const struct yaml_tree_pair *p, const char *lang,
                       struct config_limits *out)
{
    const struct yaml_tree_node *m = p->value;
    char key[200], msg[128];
    size_t i, k;

    snprintf(key, sizeof(key), "%s.%s", lang, p->key);
    if (m->kind != YAML_TREE_MAPPING)
        return fail(ld, p->key_line, key, "expected a mapping of limits");
    for (i = 0; i < m->count; i++) {
        const struct yaml_tree_pair *q = &m->pairs[i];
        const char *problem = yaml_tree_scalar_problem(q->value);
        uint64_t v;

        snprintf(key, sizeof(key), "%s.%s.%s", lang, p->key, q->key);
        for (k = 0; k < NLIMITS && strcmp(limit_keys[k].name, q->key) != 0; k++)
            ;
        if (k == NLIMITS)
            return fail(ld, q->key_line, key, "unknown key");
        if (problem)
            return fail(ld, q->key_line, key, "%s", problem);
        if (config_parse_limit(q->value->value, &v, msg, sizeof(msg)) < 0)
            return fail(ld, q->key_line, key, "%s", msg);
        memcpy((char *)out + limit_keys[k].off, &v, sizeof(v));
    }
    return 0;
}

/* Why f cannot be a file of /box named on a command line, or NULL if it can. */
static const char *plain_name_problem(const char *f)
{
    if (!f[0] || strchr(f, '/') || strcmp(f, ".") == 0 || strcmp(f, "..") == 0)
        return "expected a plain file name (no '/', not \".\" or \"..\")";
    if (f[0] == '-')
        return "a file name must not start with '-' (it would read as an option)";
    if (strlen(f) > 255)
        return "file name longer than 255 bytes";
    return NULL;
}

static int load_file_name(struct loader *ld, const struct yaml_tree_pair *p, struct language *l)
{
    const char *problem = yaml_tree_scalar_problem(p->value);
    const char *f = problem ? "" : p->value->value;
    char key[160];

    snprintf(key, sizeof(key), "%s.file", l->name);
    if (!problem)
        problem = plain_name_problem(f);
    if (problem)
        return fail(ld, p->key_line, key, "%s", problem);
    return (l->file = strdup(f)) ? 0 : oom(ld);
}

/* "backend: sandbox | docker" and "image: name[:tag]" (printable, no spaces). */
static int load_backend(struct loader *ld, const struct yaml_tree_pair *p, struct language *l)
{
    const char *problem = yaml_tree_scalar_problem(p->value);
    const char *v = problem ? "" : p->value->value;
    int image = strcmp(p->key, "image") == 0;
    char key[160];
    size_t i;

    snprintf(key, sizeof(key), "%s.%s", l->name, p->key);
    if (!problem && !image && strcmp(v, "sandbox") != 0 && strcmp(v, "docker") != 0)
        problem = "expected sandbox or docker";
    for (i = 0; !problem && image && v[i]; i++)
        if (v[i] <= ' ' || v[i] > '~')
            problem = "expected an image name: printable ASCII without spaces";
    if (!problem && image && !v[0])
        problem = "expected an image name";
    if (problem)
        return fail(ld, p->key_line, key, "%s", problem);
    if (image)
        return (l->image = strdup(v)) ? 0 : oom(ld);
    l->docker = strcmp(v, "docker") == 0 ? 1 : 0;
    return 0;
}

static int unknown_key(struct loader *ld, const struct yaml_tree_pair *p, const char *lang)
{
    char key[200];

    snprintf(key, sizeof(key), "%s.%s", lang, p->key);
    return fail(ld, p->key_line, key, "unknown key");
}

static int load_language(struct loader *ld, size_t self, const struct yaml_tree_pair *lp)
{
    struct language *l = &ld->table->items[self];
    const struct yaml_tree_node *m = lp->value;
    const struct yaml_tree_pair *p;
    size_t i;
    int r;

    if (!name_valid(lp->key))
        return fail(ld, lp->key_line, lp->key, "language names must match [A-Za-z0-9_.+#-]{1,64}");
    if (!(l->name = strdup(lp->key)))
        return oom(ld);
    l->line = lp->key_line;
    l->docker = -1;
    if ((r = check_unique(ld, self, 0, l->name, lp->key_line, l->name)) < 0)
        return r;
    if (m->kind != YAML_TREE_MAPPING)
        return fail(ld, lp->key_line, l->name, "expected a mapping");
    for (i = 0; i < m->count; i++) {
        p = &m->pairs[i];
        if (strcmp(p->key, "aliases") == 0)
            r = load_strv(ld, p, l->name, &l->aliases);
        else if (strcmp(p->key, "version") == 0)
            r = load_strv(ld, p, l->name, &l->version);
        else if (strcmp(p->key, "compile") == 0)
            r = load_strv(ld, p, l->name, &l->compile);
        else if (strcmp(p->key, "run") == 0)
            r = load_strv(ld, p, l->name, &l->run);
        else if (strcmp(p->key, "file") == 0)
            r = load_file_name(ld, p, l);
        else if (strcmp(p->key, "limits") == 0)
            r = load_limits(ld, p, l->name, &l->limits);
        else if (strcmp(p->key, "compile_limits") == 0)
            r = load_limits(ld, p, l->name, &l->compile_limits);
        else if (strcmp(p->key, "artifacts") == 0)
            r = load_strv(ld, p, l->name, &l->artifacts);
        else if (strcmp(p->key, "backend") == 0 || strcmp(p->key, "image") == 0)
            r = load_backend(ld, p, l);
        else
            r = unknown_key(ld, p, l->name);
        if (r < 0)
            return r;
    }
    return 0;
}

/* What a compile step leaves for the run step: required with compile, meaningless without. */
static int check_artifacts(struct loader *ld, const struct language *l,
                           const struct yaml_tree_pair *lp)
{
    const struct yaml_tree_pair *p = yaml_tree_get(lp->value, "artifacts");
    char key[160];
    size_t i;

    snprintf(key, sizeof(key), "%s.artifacts", l->name);
    if (l->compile && (!l->artifacts || !l->artifacts[0]))
        return fail(ld, p ? p->key_line : lp->key_line, key,
                    "a compiled language must name its artifacts");
    if (!l->compile && p)
        return fail(ld, p->key_line, key, "set without compile");
    for (i = 0; l->artifacts && l->artifacts[i]; i++) {
        const char *problem = plain_name_problem(l->artifacts[i]);
        if (problem) {
            snprintf(key, sizeof(key), "%s.artifacts[%zu]", l->name, i);
            return fail(ld, p->value->items[i]->line, key, "%s", problem);
        }
    }
    return 0;
}

/* The checks that need the whole language: required keys, placeholders, unique aliases. */
static int check_language(struct loader *ld, size_t self, const struct yaml_tree_pair *lp)
{
    static const char *const required[] = {"version", "file", "run"};
    static const char *const argvs[] = {"version", "compile", "run"};
    struct language *l = &ld->table->items[self];
    const struct yaml_tree_pair *p;
    char key[160];
    size_t i;
    int r;

    for (i = 0; i < 3; i++) {
        snprintf(key, sizeof(key), "%s.%s", l->name, required[i]);
        if (!yaml_tree_get(lp->value, required[i]))
            return fail(ld, lp->key_line, key, "required key is missing");
    }
    for (i = 0; i < 3; i++) {
        char **argv = i == 0 ? l->version : i == 1 ? l->compile : l->run;
        p = yaml_tree_get(lp->value, argvs[i]);
        if (p && (r = check_argv(ld, p, l->name, (enum argv_kind)i, argv)) < 0)
            return r;
    }
    if (!l->compile && (p = yaml_tree_get(lp->value, "compile_limits")) != NULL) {
        snprintf(key, sizeof(key), "%s.compile_limits", l->name);
        return fail(ld, p->key_line, key, "set without compile");
    }
    if ((r = check_artifacts(ld, l, lp)) < 0)
        return r;
    if (!l->aliases && !(l->aliases = calloc(1, sizeof(char *))))
        return oom(ld);
    p = yaml_tree_get(lp->value, "aliases");
    for (i = 0; l->aliases[i]; i++) {
        snprintf(key, sizeof(key), "%s.aliases[%zu]", l->name, i);
        if (!name_valid(l->aliases[i]))
            return fail(ld, p->value->items[i]->line, key,
                        "aliases must match [A-Za-z0-9_.+#-]{1,64}");
        if ((r = check_unique(ld, self, i, l->aliases[i], p->value->items[i]->line, key)) < 0)
            return r;
    }
    return 0;
}

static int load_tree(struct yaml_tree_node *root, int r, const struct yaml_tree_error *ye,
                     const char *file, struct languages *table, struct config_error *err)
{
    struct languages t = {NULL, 0};
    struct loader ld = {file, err, &t};
    size_t i;

    if (r < 0) {
        fail(&ld, ye->line, "", "%s", ye->message);
        return r;
    }
    if (!root || yaml_tree_is_null(root) || (root->kind == YAML_TREE_MAPPING && !root->count))
        r = fail(&ld, 0, "", "no languages defined");
    else if (root->kind != YAML_TREE_MAPPING)
        r = fail(&ld, root->line, "", "expected a mapping of language names");
    else if (!(t.items = calloc(root->count, sizeof(*t.items))))
        r = oom(&ld);
    for (i = 0; r == 0 && i < root->count; i++) {
        t.count = i + 1;
        if ((r = load_language(&ld, i, &root->pairs[i])) == 0)
            r = check_language(&ld, i, &root->pairs[i]);
    }
    yaml_tree_free(root);
    if (r < 0) {
        languages_free(&t);
        return r;
    }
    *table = t;
    return 0;
}

int languages_load(const char *path, struct languages *table, struct config_error *err)
{
    struct yaml_tree_node *root = NULL;
    struct yaml_tree_error ye;
    int r = yaml_tree_load_file(path, &root, &ye);

    return load_tree(root, r, &ye, path, table, err);
}

int languages_load_string(const char *text, const char *name, struct languages *table,
                          struct config_error *err)
{
    struct yaml_tree_node *root = NULL;
    struct yaml_tree_error ye;
    int r = yaml_tree_load_string(text, strlen(text), name, &root, &ye);

    return load_tree(root, r, &ye, name, table, err);
}

void languages_free(struct languages *table)
{
    size_t i;

    for (i = 0; i < table->count; i++) {
        struct language *l = &table->items[i];

        free(l->name);
        free(l->file);
        free(l->image);
        strv_free(l->aliases);
        strv_free(l->version);
        strv_free(l->compile);
        strv_free(l->run);
        strv_free(l->artifacts);
    }
    free(table->items);
    table->items = NULL;
    table->count = 0;
}

const struct language *languages_find(const struct languages *table, const char *name)
{
    size_t i, a;

    for (i = 0; name && i < table->count; i++) {
        const struct language *l = &table->items[i];

        if (strcasecmp(l->name, name) == 0)
            return l;
        for (a = 0; l->aliases[a]; a++) {
            if (strcasecmp(l->aliases[a], name) == 0)
                return l;
        }
    }
    return NULL;
}

/* Length of t with every "{file}" replaced by file (of length flen); writes it if out. */
static size_t expand_file(const char *t, const char *file, size_t flen, char *out)
{
    size_t n = 0;
    const char *hit;

    while ((hit = strstr(t, "{file}")) != NULL) {
        if (out) {
            memcpy(out + n, t, (size_t)(hit - t));
            memcpy(out + n + (size_t)(hit - t), file, flen);
        }
        n += (size_t)(hit - t) + flen;
        t = hit + 6;
    }
    if (out)
        memcpy(out + n, t, strlen(t) + 1);
    return n + strlen(t);
}

int languages_expand(char *const *template_argv, const char *file, const char *const *args,
                     size_t nargs, char ***out_argv)
{
    size_t i, a, n = 0, bytes = 0, flen = file ? strlen(file) : 0;
    char **argv, *p;

    if (!template_argv || (nargs && !args))
        return -EINVAL;
    /* Sizes are bounded by what the caller already holds in memory; the sums cannot wrap
     * before malloc() refuses them, except through absurd nargs, which is checked. */
    for (i = 0; template_argv[i]; i++) {
        if (strcmp(template_argv[i], "{args}") == 0) {
            if (nargs > SIZE_MAX / sizeof(char *) / 2 - n)
                return -ENOMEM;
            n += nargs;
            for (a = 0; a < nargs; a++)
                bytes += strlen(args[a]) + 1;
        } else if (!file && strstr(template_argv[i], "{file}")) {
            return -EINVAL;
        } else {
            n++;
            bytes += expand_file(template_argv[i], file, flen, NULL) + 1;
        }
    }
    if (!(argv = malloc((n + 1) * sizeof(*argv) + bytes)))
        return -ENOMEM;
    p = (char *)(argv + n + 1);
    for (i = 0, n = 0; template_argv[i]; i++) {
        if (strcmp(template_argv[i], "{args}") == 0) {
            for (a = 0; a < nargs; a++) {
                argv[n++] = p;
                p += strlen(strcpy(p, args[a])) + 1;
            }
        } else {
            argv[n++] = p;
            p += expand_file(template_argv[i], file, flen, p) + 1;
        }
    }
    argv[n] = NULL;
    *out_argv = argv;
    return 0;
}

void languages_limits(const struct config_limits *base, const struct config_limits *over,
                      struct config_limits *out)
{
    struct config_limits o = *over;
    size_t k;
    uint64_t v;

    *out = *base;
    for (k = 0; k < NLIMITS; k++) {
        memcpy(&v, (const char *)&o + limit_keys[k].off, sizeof(v));
        if (v)
            memcpy((char *)out + limit_keys[k].off, &v, sizeof(v));
    }
}

int languages_uses_docker(const struct language *l, const char *default_backend)
{
    if (l->docker >= 0)
        return l->docker;
    return strcmp(default_backend, "docker") == 0;
}

int languages_image(const struct language *l, const char *prefix, const char *tag, char *out,
                    size_t size)
{
    int n = l->image ? snprintf(out, size, "%s", l->image)
                     : snprintf(out, size, "%s%s:%s", prefix, l->name, tag);

    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}
