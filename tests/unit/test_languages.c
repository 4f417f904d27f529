/* SPDX-License-Identifier: MIT */
/* Unit tests of common/languages: the shipped languages.yaml gives the expected table, every
 * validation rule fails with its exact file:line: key: message, lookup by alias, argv
 * template expansion. argv[1]: path of config/languages.yaml (default: config/...). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "languages.h"
#include "tap.h"

#define NAME "languages.yaml"

/* A valid language of 4 lines (name, version, file, run); extra lines follow from line 5. */
#define LANG(name, extra)                                                                          \
    name ":\n  version: [x, --version]\n  file: main.x\n  run: [x, \"{file}\", "                   \
         "\"{args}\"]\n" extra

/* True when v (NULL-terminated) holds exactly the n strings of want. */
static int strv_eq(char *const *v, const char *const *want, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (!v || !v[i] || strcmp(v[i], want[i]) != 0)
            return 0;
    }
    return v && v[n] == NULL;
}

static void expect_error(struct tap *t, const char *text, const char *want)
{
    struct languages table = {NULL, 0};
    struct config_error err;
    char got[1024] = "";
    int r = languages_load_string(text, NAME, &table, &err);

    if (r < 0)
        config_error_format(&err, got, sizeof(got));
    else
        languages_free(&table);
    if (!tap_ok(t, r == -EINVAL && strcmp(got, want) == 0, "rejected: %s", want))
        tap_diag("r=%d got \"%s\"", r, got);
}

static void test_shipped(struct tap *t, const char *path)
{
    static const char *const py_alias[] = {"python3", "py"}, *const js_alias[] = {"js", "node",
                                                                                  "nodejs"};
    static const char *const c_compile[] = {"gcc", "-O2", "-std=gnu17", "-fuse-ld=gold", "-o",
                                            "main", "{file}", "-lm"};
    static const char *const cpp_compile[] = {"g++",  "-O2",  "-std=gnu++17", "-fuse-ld=gold",
                                              "-o", "main", "{file}"};
    static const char *const native_run[] = {"./main", "{args}"};
    struct languages tab = {NULL, 0};
    struct config_error err;
    const struct language *py, *js, *c, *cpp;
    char msg[1024];
    int r = languages_load(path, &tab, &err);

    if (!tap_ok(t, r == 0 && tab.count == 16, "shipped %s loads 16 languages", path)) {
        tap_diag("%s", r < 0 ? config_error_format(&err, msg, sizeof(msg)) : "wrong count");
        if (r == 0)
            languages_free(&tab);
        return;
    }
    py = &tab.items[0];
    js = &tab.items[1];
    c = &tab.items[2];
    cpp = &tab.items[3];
    tap_ok(t,
           strcmp(py->name, "python") == 0 && strv_eq(py->aliases, py_alias, 2) &&
               strv_eq(py->version, (const char *[]){"python3", "--version"}, 2) &&
               strcmp(py->file, "main.py") == 0 && py->compile == NULL &&
               strv_eq(py->run, (const char *[]){"python3", "{file}", "{args}"}, 3),
           "python entry");
    tap_ok(t, py->limits.memory_kb == 0 && py->compile_limits.cpu_ms == 0, "python sets no limits");
    tap_ok(t,
           strcmp(js->name, "javascript") == 0 && strv_eq(js->aliases, js_alias, 3) &&
               strv_eq(js->version, (const char *[]){"node", "--version"}, 2) &&
               strcmp(js->file, "main.js") == 0 && js->compile == NULL &&
               strv_eq(js->run, (const char *[]){"node", "{file}", "{args}"}, 3),
           "javascript entry");
    tap_ok(t,
           js->limits.memory_kb == 524288 && js->limits.cpu_ms == 0 && js->limits.wall_ms == 0 &&
               js->limits.pids == 0,
           "javascript overrides memory_kb only");
    tap_ok(t,
           strcmp(c->name, "c") == 0 && strv_eq(c->aliases, (const char *[]){"gcc"}, 1) &&
               strcmp(c->file, "main.c") == 0 && strv_eq(c->compile, c_compile, 8) &&
               strv_eq(c->run, native_run, 2),
           "c entry");
    tap_ok(t,
           c->compile_limits.cpu_ms == 10000 && c->compile_limits.wall_ms == 20000 &&
               c->compile_limits.memory_kb == 0 && c->limits.cpu_ms == 0,
           "c compile_limits");
    tap_ok(t,
           strcmp(cpp->name, "cpp") == 0 &&
               strv_eq(cpp->aliases, (const char *[]){"c++", "g++"}, 2) &&
               strv_eq(cpp->version, (const char *[]){"g++", "--version"}, 2) &&
               strcmp(cpp->file, "main.cpp") == 0 && strv_eq(cpp->compile, cpp_compile, 7) &&
               strv_eq(cpp->run, native_run, 2),
           "cpp entry");
    tap_ok(t,
           cpp->compile_limits.cpu_ms == 15000 && cpp->compile_limits.wall_ms == 30000 &&
               cpp->compile_limits.memory_kb == 524288 && cpp->compile_limits.pids == 0,
           "cpp compile_limits");
    tap_ok(t, py->line == 7 && js->line == 13 && cpp->line == 34, "languages remember their line");
    tap_ok(t, strv_eq(c->artifacts, (const char *[]){"main"}, 1) && !py->artifacts,
           "compiled languages name their artifacts, interpreted ones none");

    tap_ok(t, languages_find(&tab, "python") == py, "find by name");
    tap_ok(t, languages_find(&tab, "PY") == py, "find by alias, ignoring case");
    tap_ok(t, languages_find(&tab, "NodeJS") == js, "find nodejs");
    tap_ok(t, languages_find(&tab, "c++") == cpp && languages_find(&tab, "G++") == cpp,
           "find c++ / G++");
    tap_ok(t, languages_find(&tab, "C") == c, "find C");
    tap_ok(t, languages_find(&tab, "cobol") == NULL, "unknown language: NULL");
    tap_ok(t, languages_find(&tab, "") == NULL && languages_find(&tab, NULL) == NULL,
           "empty or NULL name: NULL");
    tap_ok(t, languages_find(&tab, "pyt") == NULL && languages_find(&tab, "python3 ") == NULL,
           "no prefix or padded matches");
    languages_free(&tab);
    tap_ok(t, tab.items == NULL && tab.count == 0, "languages_free empties the table");
}

static void test_expand(struct tap *t)
{
    /* Templates are char *const * (what the table holds); literals need the cast. */
    char *const *run = (char *const *)(const char *[]){"python3", "{file}", "{args}", NULL};
    char *const *embedded =
        (char *const *)(const char *[]){"gcc", "-DSRC={file}", "{file}.{file}", "-o", "main", NULL};
    char *const *twice = (char *const *)(const char *[]){"x", "{args}", "--", "{args}", NULL};
    const char *args[] = {"a", "b c", "{file}"};
    char **out = NULL;
    int r;

    r = languages_expand(run, "main.py", NULL, 0, &out);
    tap_ok(t, r == 0 && strv_eq(out, (const char *[]){"python3", "main.py"}, 2),
           "{args} with 0 args vanishes");
    free(out);
    r = languages_expand(run, "main.py", args, 3, &out);
    tap_ok(t,
           r == 0 && strv_eq(out, (const char *[]){"python3", "main.py", "a", "b c", "{file}"}, 5),
           "{args} with 3 args, which are copied verbatim (never expanded)");
    free(out);
    r = languages_expand(embedded, "main.c", args, 3, &out);
    tap_ok(
        t,
        r == 0 &&
            strv_eq(out, (const char *[]){"gcc", "-DSRC=main.c", "main.c.main.c", "-o", "main"}, 5),
        "{file} inside longer elements, twice in one");
    free(out);
    r = languages_expand(twice, NULL, args, 2, &out);
    tap_ok(t, r == 0 && strv_eq(out, (const char *[]){"x", "a", "b c", "--", "a", "b c"}, 6),
           "{args} twice, no file needed without {file}");
    free(out);
    out = NULL;
    tap_ok(t, languages_expand(run, NULL, NULL, 0, &out) == -EINVAL && out == NULL,
           "{file} without a file: -EINVAL");
    tap_ok(t, languages_expand(NULL, "f", NULL, 0, &out) == -EINVAL, "NULL template: -EINVAL");
    tap_ok(t, languages_expand(run, "f", NULL, 2, &out) == -EINVAL,
           "args NULL with nargs: -EINVAL");
}

static void test_limits(struct tap *t)
{
    struct config_limits base = {1, 2, 3, 4, 5, 6}, over = {0, 20, 0, 0, 50, 0}, out;

    languages_limits(&base, &over, &out);
    tap_ok(t,
           out.cpu_ms == 1 && out.wall_ms == 20 && out.memory_kb == 3 && out.pids == 4 &&
               out.output_kb == 50 && out.file_size_kb == 6,
           "languages_limits replaces only the fields set");
}

/* backend and image: unset by default (runq.yaml decides), or the language's own. */
static void test_backend(struct tap *t)
{
    struct languages tab = {NULL, 0};
    struct config_error err;
    const struct language *a, *b;
    char image[64];

    if (!tap_ok(t, languages_load_string(LANG("a", "  backend: docker\n  image: x/y:1\n")
                                             LANG("b", ""),
                                         "languages.yaml", &tab, &err) == 0,
                "backend and image load"))
        return;
    a = languages_find(&tab, "a");
    b = languages_find(&tab, "b");
    tap_ok(t, a->docker == 1 && strcmp(a->image, "x/y:1") == 0, "a: docker, its own image");
    tap_ok(t, b->docker == -1 && b->image == NULL, "b: whatever runq.yaml says, no image");
    tap_ok(t, languages_uses_docker(a, "sandbox") && !languages_uses_docker(b, "sandbox") &&
                  languages_uses_docker(b, "docker"),
           "a language's own backend wins over runq.yaml's");
    tap_ok(t, languages_image(a, "runq/lang-", "latest", image, sizeof(image)) == 0 &&
                  strcmp(image, "x/y:1") == 0 &&
                  languages_image(b, "runq/lang-", "latest", image, sizeof(image)) == 0 &&
                  strcmp(image, "runq/lang-b:latest") == 0 &&
                  languages_image(b, "runq/lang-", "latest", image, 10) == -ENAMETOOLONG,
           "images: the language's own, or prefix + name + tag; too long is an error");
    languages_free(&tab);
}

static void test_validation(struct tap *t)
{
    expect_error(t, LANG("a", "  aliases: [aa]\n") LANG("b", "  aliases: [bb, AA]\n"),
                 "languages.yaml:10: b.aliases[1]: \"AA\" is already an alias of a");
    expect_error(t, LANG("a", "") LANG("b", "  aliases: [A]\n"),
                 "languages.yaml:9: b.aliases[0]: \"A\" is already the name of a language");
    expect_error(t, LANG("a", "  aliases: [bee]\n") LANG("Bee", ""),
                 "languages.yaml:6: Bee: \"Bee\" is already an alias of a");
    expect_error(t, LANG("a", "") LANG("A", ""),
                 "languages.yaml:5: A: \"A\" is already the name of a language");
    expect_error(t, LANG("a", "  aliases: [b, b]\n"),
                 "languages.yaml:5: a.aliases[1]: \"b\" is already an alias of a");
    expect_error(t, LANG("a", "  aliases: [a]\n"),
                 "languages.yaml:5: a.aliases[0]: \"a\" repeats the language's name");
    expect_error(t, LANG("a", "  aliases: [\"c sharp\"]\n"),
                 "languages.yaml:5: a.aliases[0]: aliases must match [A-Za-z0-9_.+#-]{1,64}");
    expect_error(t, "a/b:\n  run: [x]\n",
                 "languages.yaml:1: a/b: language names must match [A-Za-z0-9_.+#-]{1,64}");
    expect_error(t, "a:\n  version: [x]\n  file: src/main.x\n  run: [x]\n",
                 "languages.yaml:3: a.file: expected a plain file name (no '/', not \".\" or "
                 "\"..\")");
    expect_error(t, "a:\n  version: [x]\n  file: ..\n  run: [x]\n",
                 "languages.yaml:3: a.file: expected a plain file name (no '/', not \".\" or "
                 "\"..\")");
    expect_error(t, "a:\n  version: [x]\n  file: \".\"\n  run: [x]\n",
                 "languages.yaml:3: a.file: expected a plain file name (no '/', not \".\" or "
                 "\"..\")");
    expect_error(t, "a:\n  version: [x]\n  file: -rf\n  run: [x]\n",
                 "languages.yaml:3: a.file: a file name must not start with '-' (it would read "
                 "as an option)");
    expect_error(t, "a:\n  version: [x]\n  file: [main.x]\n  run: [x]\n",
                 "languages.yaml:3: a.file: expected a scalar, found a sequence");
    expect_error(t, "a:\n  version: [x]\n  file: main.x\n",
                 "languages.yaml:1: a.run: required key is missing");
    expect_error(t, "a:\n  file: main.x\n  run: [x]\n",
                 "languages.yaml:1: a.version: required key is missing");
    expect_error(t, "\n\na:\n  version: [x]\n  run: [x]\n",
                 "languages.yaml:3: a.file: required key is missing");
    expect_error(t, LANG("a", "  compile: [cc, \"\", \"{file}\"]\n"),
                 "languages.yaml:5: a.compile[1]: expected a non-empty string");
    expect_error(t, LANG("a", "  compile:\n    - cc\n    - {o: main}\n"),
                 "languages.yaml:7: a.compile[1]: expected a scalar, found a mapping");
    expect_error(t, LANG("a", "  compile: [cc, \"{file}\"]\n"),
                 "languages.yaml:1: a.artifacts: a compiled language must name its artifacts");
    expect_error(t, LANG("a", "  artifacts: [main]\n"),
                 "languages.yaml:5: a.artifacts: set without compile");
    expect_error(t, LANG("a", "  compile: [cc, \"{file}\"]\n  artifacts: [main, ../x]\n"),
                 "languages.yaml:6: a.artifacts[1]: expected a plain file name (no '/', not "
                 "\".\" or \"..\")");
    expect_error(t, LANG("a", "  compile: []\n"),
                 "languages.yaml:5: a.compile: expected at least the program");
    expect_error(t, LANG("a", "  compile: cc main.x\n"),
                 "languages.yaml:5: a.compile: expected a list");
    expect_error(t, LANG("a", "  compile: [cc, \"{args}\"]\n"),
                 "languages.yaml:5: a.compile[1]: {args} is only available in run");
    expect_error(t, "a:\n  version: [x]\n  file: main.x\n  run: [\"{args}\"]\n",
                 "languages.yaml:4: a.run[0]: {args} cannot be the program");
    expect_error(t, "a:\n  version: [x]\n  file: main.x\n  run: [x, \"--a={args}\"]\n",
                 "languages.yaml:4: a.run[1]: {args} must be a whole element");
    expect_error(t, "a:\n  version: [x, \"{file}\"]\n  file: main.x\n  run: [x]\n",
                 "languages.yaml:2: a.version[1]: {file} is not available in version");
    expect_error(t, LANG("a", "  limits:\n    cpu_ms: 100\n    memory: 5\n"),
                 "languages.yaml:7: a.limits.memory: unknown key");
    expect_error(t, LANG("a", "  limits:\n    pids: 0\n"),
                 "languages.yaml:6: a.limits.pids: must be between 1 and 1099511627776");
    expect_error(t, LANG("a", "  limits:\n    pids: many\n"),
                 "languages.yaml:6: a.limits.pids: expected a non-negative integer");
    expect_error(t, LANG("a", "  limits: [1]\n"),
                 "languages.yaml:5: a.limits: expected a mapping of limits");
    expect_error(t, LANG("a", "  compile_limits: {cpu_ms: 1}\n"),
                 "languages.yaml:5: a.compile_limits: set without compile");
    expect_error(t, LANG("a", "  env: [X=1]\n"), "languages.yaml:5: a.env: unknown key");
    expect_error(t, LANG("a", "  backend: vm\n"),
                 "languages.yaml:5: a.backend: expected sandbox or docker");
    expect_error(t, LANG("a", "  image: \"my image\"\n"),
                 "languages.yaml:5: a.image: expected an image name: printable ASCII without "
                 "spaces");
    expect_error(t, "a: python3\n", "languages.yaml:1: a: expected a mapping");
    expect_error(t, "- a\n", "languages.yaml:1: expected a mapping of language names");
    expect_error(t, "# nothing\n", "languages.yaml: no languages defined");
    expect_error(t, "{}\n", "languages.yaml: no languages defined");
    expect_error(t, LANG("a", "") LANG("a", ""),
                 "languages.yaml:5: duplicate key \"a\" (first on line 1)");
    expect_error(t, "a:\n  run: *x\n", "languages.yaml:2: aliases are not supported");
    expect_error(t, "a:\n  run: [x\n",
                 "languages.yaml:3: did not find expected ',' or ']' (while "
                 "parsing a flow sequence)");
}

static void test_files(struct tap *t)
{
    char path[] = "/tmp/runq-test-languages-XXXXXX", want[256], got[1024] = "";
    struct languages tab = {NULL, 0};
    struct config_error err;
    int fd = mkstemp(path), r;
    static const char text[] = LANG("a", "  compile: [cc, \"{args}\"]\n");

    tap_ok(t, fd >= 0 && write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1,
           "temporary file written");
    if (fd >= 0)
        close(fd);
    r = languages_load(path, &tab, &err);
    snprintf(want, sizeof(want), "%s:5: a.compile[1]: {args} is only available in run", path);
    config_error_format(&err, got, sizeof(got));
    if (!tap_ok(t, r == -EINVAL && strcmp(got, want) == 0 && tab.count == 0,
                "file errors name the path; nothing left to free"))
        tap_diag("got \"%s\"", got);
    unlink(path);
    r = languages_load(path, &tab, &err);
    snprintf(want, sizeof(want), "%s: cannot open: %s", path, strerror(ENOENT));
    config_error_format(&err, got, sizeof(got));
    if (!tap_ok(t, r == -ENOENT && strcmp(got, want) == 0, "missing file: -ENOENT"))
        tap_diag("r=%d got \"%s\"", r, got);
}

int main(int argc, char **argv)
{
    struct tap t = {0};

    test_shipped(&t, argc > 1 ? argv[1] : "config/languages.yaml");
    test_expand(&t);
    test_limits(&t);
    test_backend(&t);
    test_validation(&t);
    test_files(&t);
    return tap_done(&t);
}
