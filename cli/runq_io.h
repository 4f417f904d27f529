/* SPDX-License-Identifier: MIT */
/* runq_io: the local files `runq` reads and writes: a source, stdin, a directory's file
 * names, a report.
 * Does: whole-file reads with a size cap, "-" as standard input, regular files of a
 * directory (symlinks to files count), report writes that replace the file only once the
 * whole text is written; every failure as a message naming the path and the reason.
 * Must not: print, exit, or follow anything but the paths it is given. */
#ifndef RUNQ_CLI_IO_H
#define RUNQ_CLI_IO_H

#include <stddef.h>

#define RUNQ_IO_MAX ((size_t)64 << 20) /* bytes of one input file read at most */

/* Reads path ("-": standard input) whole into a malloc'ed, NUL-terminated *data (which may
 * hold NUL bytes), its size in *len. Returns 0, or -errno with err "PATH: reason" (-EFBIG
 * above RUNQ_IO_MAX, -EISDIR for a directory). */
int runq_io_read(const char *path, char **data, size_t *len, char *err, size_t errlen);

/* The names (not paths) of the regular files in dir, in no order, malloc'ed. Returns 0 with
 * *names and *n, or -errno with err. */
int runq_io_list(const char *dir, char ***names, size_t *n, char *err, size_t errlen);

void runq_io_free_list(char **names, size_t n);

/* dir + "/" + name, malloc'ed; NULL when out of memory. */
char *runq_io_join(const char *dir, const char *name);

/* Writes text to path through a temporary file beside it renamed over it, so a reader never
 * sees half a report. Returns 0 or -errno with err. */
int runq_io_write(const char *path, const char *text, char *err, size_t errlen);

#endif
