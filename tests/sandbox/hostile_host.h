/* SPDX-License-Identifier: MIT */
/* hostile_host: host-side fixtures and "is the host still clean" checks for test_hostile.
 * Does: make the secret file, the setuid-root copy, the loopback listeners and the inherited
 * bait descriptor; after every case, check that nothing of the slot survives on the host.
 * Must not: touch processes, cgroups or files that the test did not (indirectly) create. */
#ifndef RUNQ_TESTS_HOSTILE_HOST_H
#define RUNQ_TESTS_HOSTILE_HOST_H

#include <sys/types.h>

#include "tap.h"

/* The SysV key and POSIX queue sysv_ipc creates; never to be seen in the host's IPC namespace. */
#define HOSTILE_IPC_KEY 0x52554e51
#define HOSTILE_MQ_NAME "/runq-hostile"

struct fixtures {
    char secret_dir[64];  /* /tmp/runq-hostile-XXXXXX, root 0700 */
    char secret_path[96]; /* secret_dir/secret.txt */
    char suid_dir[64];    /* /var/tmp/runq-hostile-suid-XXXXXX, root 0755 */
    char suid_path[96];   /* suid_dir/suid_euid, root 04755 */
    int listen_fd;        /* TCP on 127.0.0.1:port, inherited (no O_CLOEXEC) */
    char port[16];
    int unix_fd;          /* abstract unix socket "@unix_name" */
    char unix_name[64];
    int bait_fd;          /* the secret, opened without O_CLOEXEC: every launcher inherits it */
};

/* Returns 0, or -1 after a tap_diag saying what failed. */
int fixtures_setup(struct fixtures *fx, const char *hostile_dir);
void fixtures_teardown(const struct fixtures *fx);

/* Blocks until no other test_hostile uses `slot` (a flock held until exit). */
void host_lock_slot(unsigned slot);

/* Number of lines in the host's /proc/self/mountinfo, the Docker engine's mounts aside. */
int host_mountinfo_lines(void);

/* One TAP line per kind of damage the case `name` could have left on the host. Leftover
 * processes of the slot uid are killed (by pid) and leftover IPC objects removed after being
 * reported, so one failure does not cascade into the following cases. */
void host_assert_clean(struct tap *t, const char *name, int mountinfo_before,
                       const struct fixtures *fx, unsigned slot, uid_t uid);

#endif
