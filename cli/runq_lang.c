/* SPDX-License-Identifier: MIT */
/* runq_lang: see runq_lang.h. */
#include "runq_lang.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EXT_MAX 32 /* bytes of an extension looked at; longer ones match nothing */

/* Extensions in common use that no alias in config/languages.yaml spells; the target must
 * still be one of the fleet's languages (resolved like a --language). */
static const struct {
    const char *ext, *language;
} conventional[] = {
    {"cc", "cpp"},         {"cxx", "cpp"},     {"c++", "cpp"},     {"mjs", "javascript"},
    {"cjs", "javascript"}, {"f03", "fortran"}, {"f08", "fortran"}, {"bash", "bash"},
};

void runq_lang_free(struct runq_langs *l)
{
    size_t i, k;

    for (i = 0; l->items && i < l->count; i++) {
        free(l->items[i].name);
        for (k = 0; k < l->items[i].naliases; k++)
            free(l->items[i].aliases[k]);
        free(l->items[i].aliases);
        free(l->items[i].version);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

static int bad(char *err, size_t len, const char *what, size_t i)
{
    snprintf(err, len, "GET /v1/languages: languages[%zu] %s", i, what);
    return -EINVAL;
}

static int take_one(const json_t *v, size_t i, struct runq_lang *out, char *err, size_t len)
{
    const json_t *name = json_object_get(v, "name"), *aliases = json_object_get(v, "aliases");
    const json_t *version = json_object_get(v, "version");
    size_t k;

    if (!json_is_string(name) || !json_string_length(name))
        return bad(err, len, "has no \"name\"", i);
    if (aliases && !json_is_array(aliases))
        return bad(err, len, "has \"aliases\" that are not an array", i);
    if (!(out->name = strdup(json_string_value(name))))
        return -ENOMEM;
    if (json_is_string(version) && !(out->version = strdup(json_string_value(version))))
        return -ENOMEM;
    if (!json_array_size(aliases))
        return 0;
    if (!(out->aliases = calloc(json_array_size(aliases), sizeof(*out->aliases))))
        return -ENOMEM;
    for (k = 0; k < json_array_size(aliases); k++) {
        const json_t *a = json_array_get(aliases, k);
        if (!json_is_string(a))
            return bad(err, len, "has an alias that is not a string", i);
        if (!(out->aliases[out->naliases++] = strdup(json_string_value(a))))
            return -ENOMEM;
    }
    return 0;
}

int runq_lang_parse(const char *body, size_t len, struct runq_langs *out, char *err, size_t errlen)
{
    json_t *root = json_loadb(body ? body : "", len, 0, NULL);
    const json_t *list = json_object_get(root, "languages");
    size_t i;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (!json_is_array(list)) {
        json_decref(root);
        snprintf(err, errlen, "GET /v1/languages: the answer has no \"languages\" array");
        return -EINVAL;
    }
    if (json_array_size(list) && !(out->items = calloc(json_array_size(list), sizeof(*out->items))))
        rc = -ENOMEM;
    for (i = 0; rc == 0 && i < json_array_size(list); i++) {
        out->count++;
        rc = take_one(json_array_get(list, i), i, &out->items[i], err, errlen);
    }
    json_decref(root);
    if (rc < 0)
        runq_lang_free(out);
    return rc;
}

const char *runq_lang_resolve(const struct runq_langs *l, const char *name)
{
    size_t i, k;

    for (i = 0; i < l->count; i++)
        if (!strcasecmp(l->items[i].name, name))
            return l->items[i].name;
    for (i = 0; i < l->count; i++)
        for (k = 0; k < l->items[i].naliases; k++)
            if (!strcasecmp(l->items[i].aliases[k], name))
                return l->items[i].name;
    return NULL;
}

const char *runq_lang_from_path(const struct runq_langs *l, const char *path)
{
    const char *base = strrchr(path, '/'), *dot;
    const char *found;
    size_t i;

    base = base ? base + 1 : path;
    dot = strrchr(base, '.');
    /* ".bashrc" is a hidden file without an extension, "main." has an empty one */
    if (!dot || dot == base || !dot[1] || strlen(dot + 1) > EXT_MAX)
        return NULL;
    if ((found = runq_lang_resolve(l, dot + 1)))
        return found;
    for (i = 0; i < sizeof(conventional) / sizeof(conventional[0]); i++)
        if (!strcasecmp(conventional[i].ext, dot + 1))
            return runq_lang_resolve(l, conventional[i].language);
    return NULL;
}

/* A column cell: s, or "-" when empty. */
static const char *cell(const char *s)
{
    return s && *s ? s : "-";
}

char *runq_lang_table(const struct runq_langs *l)
{
    size_t i, k, wname = 4, walias = 7, n = 0;
    char **aliases = calloc(l->count + 1, sizeof(*aliases));
    char *out = NULL;
    FILE *f;

    if (!aliases)
        return NULL;
    for (i = 0; i < l->count; i++) {
        size_t len = 1;
        for (k = 0; k < l->items[i].naliases; k++)
            len += strlen(l->items[i].aliases[k]) + 2;
        if (!(aliases[i] = calloc(1, len)))
            goto out;
        for (k = 0; k < l->items[i].naliases; k++) {
            if (k)
                strcat(aliases[i], ", ");
            strcat(aliases[i], l->items[i].aliases[k]);
        }
        if (strlen(l->items[i].name) > wname)
            wname = strlen(l->items[i].name);
        if (strlen(cell(aliases[i])) > walias)
            walias = strlen(cell(aliases[i]));
    }
    if (!(f = open_memstream(&out, &n)))
        goto out;
    fprintf(f, "%-*s  %-*s  %s\n", (int)wname, "NAME", (int)walias, "ALIASES", "VERSION");
    for (i = 0; i < l->count; i++) {
        const char *v = cell(l->items[i].version);
        /* a version command may print several lines: the first says it */
        fprintf(f, "%-*s  %-*s  %.*s\n", (int)wname, l->items[i].name, (int)walias,
                cell(aliases[i]), (int)strcspn(v, "\r\n"), v);
    }
    if (fclose(f) != 0) {
        free(out);
        out = NULL;
    }
out:
    for (i = 0; i < l->count; i++)
        free(aliases[i]);
    free(aliases);
    return out;
}
