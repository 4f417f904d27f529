/* SPDX-License-Identifier: MIT */
/* languages: languages.yaml (config/languages.yaml) -> a table saying how each language is
 * compiled and run, plus the pure helpers the worker needs: lookup by name or alias, argv
 * templates expanded with the job's file and args, limits overrides on top of defaults.
 * Does: strict validation with errors naming file:line and the key (struct config_error).
 * Must not: run anything, look at PATH or the filesystem beyond reading the one file, or
 * ever let job args (data) become the program or be expanded themselves. */
#ifndef RUNQ_COMMON_LANGUAGES_H
#define RUNQ_COMMON_LANGUAGES_H

#include <stddef.h>

#include "config.h"

#define LANGUAGES_NAME_MAX 64 /* names and aliases: [A-Za-z0-9_.+#-]{1,64} */
#define LANGUAGES_ARGV_MAX 64 /* elements in one argv template */

/* Every string and array below is owned by the table (languages_free()). argv templates
 * are NULL-terminated, non-empty, of non-empty strings; "{file}" may appear inside any
 * element of compile and run, "{args}" only as a whole element of run after the program. */
struct language {
    char *name;
    char **aliases; /* NULL-terminated, possibly empty */
    char **version; /* e.g. {"python3", "--version", NULL} */
    char *file;     /* plain file name the source is written to: no '/', not "." or ".." */
    char **compile; /* NULL for interpreted languages */
    char **run;
    char **artifacts; /* what compile leaves in /box for run (plain names); NULL without compile */
    struct config_limits limits;         /* overrides of limits.default; 0 = not set */
    struct config_limits compile_limits; /* for the compile step; 0 = not set */
    int line;                            /* where the language's key is in the file */
    int docker;  /* backend: -1 unset (runq.yaml's worker.backend), 0 sandbox, 1 docker */
    char *image; /* the Docker image, or NULL: docker.image_prefix + name + ":" + tag */
};

struct languages {
    struct language *items; /* in file order */
    size_t count;
};

/* Loads the file into *table (which the caller frees with languages_free() on success; on
 * failure nothing is left to free). Returns 0, -EINVAL, -ENOMEM or an errno from reading. */
int languages_load(const char *path, struct languages *table, struct config_error *err);

/* The same from text; name stands for the file name in *err. */
int languages_load_string(const char *text, const char *name, struct languages *table,
                          struct config_error *err);

void languages_free(struct languages *table);

/* Whether l runs in the Docker backend: its own "backend", else default_backend (runq.yaml's
 * worker.backend, "sandbox" or "docker"). */
int languages_uses_docker(const struct language *l, const char *default_backend);

/* l's Docker image: its own "image", else prefix + name + ":" + tag. 0 or -ENAMETOOLONG. */
int languages_image(const struct language *l, const char *prefix, const char *tag, char *out,
                    size_t size);

/* The language whose name or one of whose aliases equals name ignoring ASCII case, or NULL. */
const struct language *languages_find(const struct languages *table, const char *name);

/* Expands an argv template: "{file}" anywhere in an element becomes file, an element that is
 * exactly "{args}" becomes the nargs args (zero or more elements, copied verbatim: args are
 * never expanded). *out_argv is one malloc'ed block (pointers and strings) released with a
 * single free(). Returns 0, -EINVAL (NULL template, or "{file}" with file NULL) or -ENOMEM. */
int languages_expand(char *const *template_argv, const char *file, const char *const *args,
                     size_t nargs, char ***out_argv);

/* *out = *base with every field that over sets (nonzero) replaced. */
void languages_limits(const struct config_limits *base, const struct config_limits *over,
                      struct config_limits *out);

#endif
