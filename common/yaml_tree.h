/* SPDX-License-Identifier: MIT */
/* yaml_tree: YAML text (libyaml) -> a small owned tree of mappings, sequences and scalars,
 * each node carrying its 1-based line, so that callers can name "file:line" in errors.
 * Does: one document per stream, scalars kept as text (no typing), duplicate keys rejected.
 * Must not: interpret values, accept anchors, aliases, tags or non-scalar keys, or keep any
 * state between calls. Only yaml_tree_load_file() does I/O (it reads the whole file). */
#ifndef RUNQ_COMMON_YAML_TREE_H
#define RUNQ_COMMON_YAML_TREE_H

#include <stddef.h>

#define YAML_TREE_MAX_DEPTH 32
#define YAML_TREE_MAX_FILE (1024 * 1024)

enum yaml_tree_kind {
    YAML_TREE_SCALAR,
    YAML_TREE_SEQUENCE,
    YAML_TREE_MAPPING,
};

struct yaml_tree_pair;

struct yaml_tree_node {
    enum yaml_tree_kind kind;
    int line;                      /* 1-based line where the node starts */
    char *value;                   /* SCALAR: NUL-terminated text (never contains NUL) */
    int plain;                     /* SCALAR: written unquoted (only plain scalars are null) */
    size_t count;                  /* SEQUENCE: items; MAPPING: pairs */
    struct yaml_tree_node **items; /* SEQUENCE */
    struct yaml_tree_pair *pairs;  /* MAPPING, in document order */
};

struct yaml_tree_pair {
    char *key;
    int key_line;
    struct yaml_tree_node *value;
};

/* Where and why loading failed. line is 0 when no line applies (e.g. file unreadable). */
struct yaml_tree_error {
    char file[256];
    int line;
    char message[256];
};

/* Parses text[0..len). name is used only in *err. *out is the document's root, or NULL when
 * the stream holds no document (empty or comments only); free it with yaml_tree_free().
 * Returns 0, -EINVAL (syntax or unsupported construct) or -ENOMEM, filling *err. */
int yaml_tree_load_string(const char *text, size_t len, const char *name,
                          struct yaml_tree_node **out, struct yaml_tree_error *err);

/* Reads path (at most YAML_TREE_MAX_FILE bytes) and parses it as above; errors name path.
 * Returns 0, a negative errno from open/read, -EFBIG, -EINVAL or -ENOMEM. */
int yaml_tree_load_file(const char *path, struct yaml_tree_node **out, struct yaml_tree_error *err);

/* Frees a node and everything below it. NULL is accepted. */
void yaml_tree_free(struct yaml_tree_node *node);

/* True for a plain empty scalar, "~", "null", "Null" or "NULL": a key left without value. */
int yaml_tree_is_null(const struct yaml_tree_node *node);

/* Why node is not a scalar with a value ("expected a scalar, found a mapping", "expected a
 * value" for a null), or NULL when it is one. */
const char *yaml_tree_scalar_problem(const struct yaml_tree_node *node);

/* The value of key in a mapping, or NULL (also when node is not a mapping). */
const struct yaml_tree_pair *yaml_tree_get(const struct yaml_tree_node *map, const char *key);

/* "scalar", "sequence" or "mapping", for messages. */
const char *yaml_tree_kind_name(enum yaml_tree_kind kind);

#endif
