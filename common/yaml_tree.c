/* SPDX-License-Identifier: MIT */
#include "yaml_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

struct builder {
    yaml_parser_t parser;
    struct yaml_tree_error *err;
};

static void set_error(struct yaml_tree_error *err, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(struct yaml_tree_error *err, int line, const char *fmt, ...)
{
    va_list ap;

    err->line = line;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

static int event_line(const yaml_event_t *ev)
{
    return (int)ev->start_mark.line + 1;
}

/* Fetches the next event; on failure turns libyaml's problem into *err. */
static int next_event(struct builder *b, yaml_event_t *ev)
{
    const yaml_parser_t *p = &b->parser;

    if (yaml_parser_parse(&b->parser, ev))
        return 0;
    if (p->error == YAML_MEMORY_ERROR) {
        set_error(b->err, 0, "out of memory");
        return -ENOMEM;
    }
    if (p->context)
        set_error(b->err, (int)p->problem_mark.line + 1, "%s (%s)",
                  p->problem ? p->problem : "syntax error", p->context);
    else
        set_error(b->err, (int)p->problem_mark.line + 1, "%s",
                  p->problem ? p->problem : "syntax error");
    return -EINVAL;
}

static struct yaml_tree_node *node_new(enum yaml_tree_kind kind, int line)
{
    struct yaml_tree_node *n = calloc(1, sizeof(*n));

    if (n) {
        n->kind = kind;
        n->line = line;
    }
    return n;
}

/* Anchors, aliases and explicit tags are refused: config files have no use for them and
 * refusing keeps a value's meaning readable at the place it is written. */
static int check_plain_node(struct builder *b, const yaml_event_t *ev)
{
    const yaml_char_t *anchor = NULL, *tag = NULL;

    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        set_error(b->err, event_line(ev), "aliases are not supported");
        return -EINVAL;
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        break;
    default:
        set_error(b->err, event_line(ev), "unexpected YAML event");
        return -EINVAL;
    }
    if (anchor) {
        set_error(b->err, event_line(ev), "anchors are not supported");
        return -EINVAL;
    }
    if (tag) {
        set_error(b->err, event_line(ev), "tags are not supported");
        return -EINVAL;
    }
    return 0;
}

static int scalar_text(struct builder *b, const yaml_event_t *ev, char **out)
{
    size_t len = ev->data.scalar.length;
    char *s;

    if (memchr(ev->data.scalar.value, '\0', len)) {
        set_error(b->err, event_line(ev), "NUL character in a value");
        return -EINVAL;
    }
    s = malloc(len + 1);
    if (!s) {
        set_error(b->err, 0, "out of memory");
        return -ENOMEM;
    }
    memcpy(s, ev->data.scalar.value, len);
    s[len] = '\0';
    *out = s;
    return 0;
}

static int build_node(struct builder *b, yaml_event_t *ev, int depth, struct yaml_tree_node **out);

static int build_sequence(struct builder *b, struct yaml_tree_node *n, int depth)
{
    size_t cap = 0;
    yaml_event_t ev;
    int r;

    for (;;) {
        struct yaml_tree_node *item = NULL;

        if ((r = next_event(b, &ev)) < 0)
            return r;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        if (n->count == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct yaml_tree_node **items = realloc(n->items, ncap * sizeof(*items));
            if (!items) {
                yaml_event_delete(&ev);
                set_error(b->err, 0, "out of memory");
                return -ENOMEM;
            }
            n->items = items;
            cap = ncap;
        }
        r = build_node(b, &ev, depth + 1, &item);
        if (r < 0)
            return r;
        n->items[n->count++] = item;
    }
}

static int build_mapping(struct builder *b, struct yaml_tree_node *n, int depth)
{
    size_t cap = 0, i;
    yaml_event_t ev;
    int r;

    for (;;) {
        struct yaml_tree_pair *pair;

        if ((r = next_event(b, &ev)) < 0)
            return r;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        if (ev.type != YAML_SCALAR_EVENT) {
            set_error(b->err, event_line(&ev), "mapping keys must be scalars");
            yaml_event_delete(&ev);
            return -EINVAL;
        }
        if ((r = check_plain_node(b, &ev)) < 0) {
            yaml_event_delete(&ev);
            return r;
        }
        if (n->count == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct yaml_tree_pair *pairs = realloc(n->pairs, ncap * sizeof(*pairs));
            if (!pairs) {
                yaml_event_delete(&ev);
                set_error(b->err, 0, "out of memory");
                return -ENOMEM;
            }
            n->pairs = pairs;
            cap = ncap;
        }
        pair = &n->pairs[n->count];
        pair->value = NULL;
        pair->key_line = event_line(&ev);
        r = scalar_text(b, &ev, &pair->key);
        yaml_event_delete(&ev);
        if (r < 0)
            return r;
        n->count++; /* owned from here on, so freed on every later failure */
        for (i = 0; i + 1 < n->count; i++) {
            if (strcmp(n->pairs[i].key, pair->key) == 0) {
                set_error(b->err, pair->key_line, "duplicate key \"%s\" (first on line %d)",
                          pair->key, n->pairs[i].key_line);
                return -EINVAL;
            }
        }
        if ((r = next_event(b, &ev)) < 0)
            return r;
        if ((r = build_node(b, &ev, depth + 1, &pair->value)) < 0)
            return r;
    }
}

/* Builds the node starting with *ev (consumed here) and, for collections, its children. */
static int build_node(struct builder *b, yaml_event_t *ev, int depth, struct yaml_tree_node **out)
{
    struct yaml_tree_node *n = NULL;
    int r = check_plain_node(b, ev);

    if (r == 0 && depth > YAML_TREE_MAX_DEPTH) {
        set_error(b->err, event_line(ev), "nesting deeper than %d levels", YAML_TREE_MAX_DEPTH);
        r = -EINVAL;
    }
    if (r == 0) {
        static const enum yaml_tree_kind kinds[] = {
            [YAML_SCALAR_EVENT] = YAML_TREE_SCALAR,
            [YAML_SEQUENCE_START_EVENT] = YAML_TREE_SEQUENCE,
            [YAML_MAPPING_START_EVENT] = YAML_TREE_MAPPING,
        };
        n = node_new(kinds[ev->type], event_line(ev));
        if (!n) {
            set_error(b->err, 0, "out of memory");
            r = -ENOMEM;
        }
    }
    if (r == 0 && n->kind == YAML_TREE_SCALAR) {
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        r = scalar_text(b, ev, &n->value);
    }
    yaml_event_delete(ev);
    if (r == 0 && n->kind == YAML_TREE_SEQUENCE)
        r = build_sequence(b, n, depth);
    else if (r == 0 && n->kind == YAML_TREE_MAPPING)
        r = build_mapping(b, n, depth);
    if (r < 0) {
        yaml_tree_free(n);
        return r;
    }
    *out = n;
    return 0;
}

/* Expects one event of the given type and drops it. */
static int expect_event(struct builder *b, yaml_event_type_t type, yaml_event_t *ev)
{
    int r = next_event(b, ev);

    if (r < 0)
        return r;
    if (ev->type != type) {
        set_error(b->err, event_line(ev),
                  ev->type == YAML_DOCUMENT_START_EVENT ? "only one YAML document is allowed"
                                                        : "unexpected YAML event");
        yaml_event_delete(ev);
        return -EINVAL;
    }
    yaml_event_delete(ev);
    return 0;
}

static int build_stream(struct builder *b, struct yaml_tree_node **out)
{
    struct yaml_tree_node *root = NULL;
    yaml_event_t ev;
    int r;

    if ((r = expect_event(b, YAML_STREAM_START_EVENT, &ev)) < 0)
        return r;
    if ((r = next_event(b, &ev)) < 0)
        return r;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        *out = NULL;
        return 0;
    }
    yaml_event_delete(&ev); /* DOCUMENT_START: libyaml emits nothing else here */
    if ((r = next_event(b, &ev)) < 0)
        return r;
    if ((r = build_node(b, &ev, 1, &root)) < 0)
        return r;
    if ((r = expect_event(b, YAML_DOCUMENT_END_EVENT, &ev)) < 0 ||
        (r = expect_event(b, YAML_STREAM_END_EVENT, &ev)) < 0) {
        yaml_tree_free(root);
        return r;
    }
    *out = root;
    return 0;
}

int yaml_tree_load_string(const char *text, size_t len, const char *name,
                          struct yaml_tree_node **out, struct yaml_tree_error *err)
{
    struct builder b = {.err = err};
    int r;

    memset(err, 0, sizeof(*err));
    snprintf(err->file, sizeof(err->file), "%s", name ? name : "");
    if (!yaml_parser_initialize(&b.parser)) {
        set_error(err, 0, "out of memory");
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
    r = build_stream(&b, out);
    yaml_parser_delete(&b.parser);
    return r;
}

/* Reads the whole file; at most YAML_TREE_MAX_FILE bytes. */
static int read_file(const char *path, char **out, size_t *out_len, struct yaml_tree_error *err)
{
    size_t len = 0, cap = 4096;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

    if (fd < 0) {
        r = errno ? -errno : -EIO;
        set_error(err, 0, "cannot open: %s", strerror(-r));
        return r;
    }
    for (;;) {
        ssize_t n;

        if (!buf || len == cap) {
            char *nbuf;
            if (buf)
                cap *= 2;
            nbuf = realloc(buf, cap + 1);
            if (!nbuf) {
                set_error(err, 0, "out of memory");
                r = -ENOMEM;
                break;
            }
            buf = nbuf;
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = errno ? -errno : -EIO;
            set_error(err, 0, "cannot read: %s", strerror(-r));
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > YAML_TREE_MAX_FILE) {
            set_error(err, 0, "file larger than %d bytes", YAML_TREE_MAX_FILE);
            r = -EFBIG;
            break;
        }
    }
    close(fd);
    if (r < 0) {
        free(buf);
        return r;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

int yaml_tree_load_file(const char *path, struct yaml_tree_node **out, struct yaml_tree_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int r;

    memset(err, 0, sizeof(*err));
    snprintf(err->file, sizeof(err->file), "%s", path);
    if ((r = read_file(path, &text, &len, err)) < 0)
        return r;
    r = yaml_tree_load_string(text, len, path, out, err);
    free(text);
    return r;
}

void yaml_tree_free(struct yaml_tree_node *node)
{
    size_t i;

    if (!node)
        return;
    if (node->kind == YAML_TREE_SEQUENCE) {
        for (i = 0; i < node->count; i++)
            yaml_tree_free(node->items[i]);
    } else if (node->kind == YAML_TREE_MAPPING) {
        for (i = 0; i < node->count; i++) {
            free(node->pairs[i].key);
            yaml_tree_free(node->pairs[i].value);
        }
    }
    free(node->items);
    free(node->pairs);
    free(node->value);
    free(node);
}

int yaml_tree_is_null(const struct yaml_tree_node *node)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    size_t i;

    if (!node || node->kind != YAML_TREE_SCALAR || !node->plain)
        return 0;
    for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
        if (strcmp(node->value, nulls[i]) == 0)
            return 1;
    }
    return 0;
}

const char *yaml_tree_scalar_problem(const struct yaml_tree_node *node)
{
    if (node->kind == YAML_TREE_SEQUENCE)
        return "expected a scalar, found a sequence";
    if (node->kind == YAML_TREE_MAPPING)
        return "expected a scalar, found a mapping";
    return yaml_tree_is_null(node) ? "expected a value" : NULL;
}

const struct yaml_tree_pair *yaml_tree_get(const struct yaml_tree_node *map, const char *key)
{
    size_t i;

    if (!map || map->kind != YAML_TREE_MAPPING)
        return NULL;
    for (i = 0; i < map->count; i++) {
        if (strcmp(map->pairs[i].key, key) == 0)
            return &map->pairs[i];
    }
    return NULL;
}

const char *yaml_tree_kind_name(enum yaml_tree_kind kind)
{
    switch (kind) {
    case YAML_TREE_SCALAR:
        return "scalar";
    case YAML_TREE_SEQUENCE:
        return "sequence";
    case YAML_TREE_MAPPING:
        return "mapping";
    }
    return "node";
}
