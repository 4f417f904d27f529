/* SPDX-License-Identifier: MIT */
/* sbx_io: small, careful file helpers for the launcher.
 * Does: whole-file reads with a size cap, writes of short strings (cgroupfs, procfs), loops
 * over short reads/writes and EINTR.
 * Must not: be used on paths inside a sandbox-writable tree (sbx_box has its own rules). */
#ifndef RUNQ_SBX_IO_H
#define RUNQ_SBX_IO_H

#include <stddef.h>
#include <sys/types.h>

/* Reads at most max bytes of path into a malloc'ed NUL-terminated buffer. 0 or -errno. */
int sbx_read_path(const char *path, size_t max, char **out, size_t *len);

/* Reads name under dirfd into buf (NUL-terminated, truncated to size-1). 0 or -errno. */
int sbx_read_at(int dirfd, const char *name, char *buf, size_t size);

/* Writes the string to name under dirfd / to path (O_TRUNC). 0 or -errno. */
int sbx_write_at(int dirfd, const char *name, const char *text);
int sbx_write_path(const char *path, const char *text);

/* write(2)/read(2) until done; 0 or -errno (-EPIPE/-EIO on a short stream). */
int sbx_write_all(int fd, const void *buf, size_t len);
ssize_t sbx_read_full(int fd, void *buf, size_t len);

/* Monotonic clock in microseconds. */
unsigned long long sbx_now_us(void);

#endif
