/* SPDX-License-Identifier: MIT */
/* runq_lang: the fleet's languages as GET /v1/languages answers them, which language a
 * file is by its extension, and the `runq languages` table.
 * Does: read the answer strictly enough that a wrong shape is an error, not a crash; map an
 * extension to a language by its name, then its aliases (case-insensitive), then a few
 * conventional extensions that are no alias (.cc, .cxx, .mjs...), each only when the fleet
 * has that language.
 * Must not: do I/O, or know the fleet's languages itself: the server's list decides. */
#ifndef RUNQ_CLI_LANG_H
#define RUNQ_CLI_LANG_H

#include <stddef.h>

struct runq_lang {
    char *name;
    char **aliases; /* naliases strings */
    size_t naliases;
    char *version; /* NULL until a worker reported one */
};

struct runq_langs {
    struct runq_lang *items;
    size_t count;
};

/* Parses {"languages": [{"name", "aliases", "version", ...}]} from body[0..len). Returns 0
 * with *out filled (free with runq_lang_free), -EINVAL with a message in err, -ENOMEM. */
int runq_lang_parse(const char *body, size_t len, struct runq_langs *out, char *err, size_t errlen);

void runq_lang_free(struct runq_langs *l);

/* The canonical name of the language the file at path is written in (by its extension;
 * directories in path are ignored), or NULL: no extension, or no language has it. */
const char *runq_lang_from_path(const struct runq_langs *l, const char *path);

/* The canonical name for a name or alias (any case), or NULL. */
const char *runq_lang_resolve(const struct runq_langs *l, const char *name);

/* The table of `runq languages`: NAME, ALIASES (comma-separated, "-" for none), VERSION
 * ("-" when unknown), a header line first, columns aligned. malloc'ed; NULL when out of
 * memory. */
char *runq_lang_table(const struct runq_langs *l);

#endif
