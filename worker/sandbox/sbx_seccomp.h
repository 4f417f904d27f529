/* SPDX-License-Identifier: MIT */
/* sbx_seccomp: the system-call filter every sandboxed program runs under.
 * Does: build the filter once with libseccomp and keep it as a compiled BPF program, so each
 * run installs it with one seccomp(2) call instead of recompiling.
 * Must not: be installed before no_new_privs is set (the kernel refuses), or allow a
 * non-native architecture. The rule list is in sbx_seccomp.c and docs/SANDBOX.md. */
#ifndef RUNQ_SBX_SECCOMP_H
#define RUNQ_SBX_SECCOMP_H

#include <linux/filter.h>

struct sbx_seccomp {
    struct sock_fprog prog;
};

/* Returns 0 or -errno. */
int sbx_seccomp_build(struct sbx_seccomp *f);
void sbx_seccomp_free(struct sbx_seccomp *f);

/* Installs the filter on the calling thread (after PR_SET_NO_NEW_PRIVS). 0 or -errno.
 * Async-signal-safe: meant for a freshly forked child. */
int sbx_seccomp_install(const struct sbx_seccomp *f);

#endif
