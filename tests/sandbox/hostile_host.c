/* SPDX-License-Identifier: MIT */
/* hostile_host: fixtures and host-clean checks for test_hostile (see hostile_host.h). */
#include "hostile_host.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SECRET_TEXT "RUNQ-HOSTILE-TOP-SECRET\n"

static int copy_file(const char *from, const char *to)
{
    char buf[65536];
    int in = open(from, O_RDONLY | O_CLOEXEC), out, rc = 0;
    ssize_t n;

    if (in < 0)
        return -1;
    out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    if (out < 0) {
        close(in);
        return -1;
    }
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            rc = -1;
    if (n < 0)
        rc = -1;
    close(in);
    return close(out) < 0 ? -1 : rc;
}

static int make_secret(struct fixtures *fx)
{
    int fd;

    snprintf(fx->secret_dir, sizeof fx->secret_dir, "/tmp/runq-hostile-XXXXXX");
    if (!mkdtemp(fx->secret_dir) || chmod(fx->secret_dir, 0700) < 0)
        return -1;
    snprintf(fx->secret_path, sizeof fx->secret_path, "%s/secret.txt", fx->secret_dir);
    fd = open(fx->secret_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (write(fd, SECRET_TEXT, strlen(SECRET_TEXT)) != (ssize_t)strlen(SECRET_TEXT)) {
        close(fd);
        return -1;
    }
    close(fd);
    /* Deliberately without O_CLOEXEC: the launcher must not pass it on. */
    fx->bait_fd = open(fx->secret_path, O_RDONLY);
    return fx->bait_fd < 0 ? -1 : 0;
}

static int make_suid(struct fixtures *fx, const char *hostile_dir)
{
    char src[4096];

    snprintf(fx->suid_dir, sizeof fx->suid_dir, "/var/tmp/runq-hostile-suid-XXXXXX");
    if (!mkdtemp(fx->suid_dir) || chmod(fx->suid_dir, 0755) < 0)
        return -1;
    snprintf(fx->suid_path, sizeof fx->suid_path, "%s/suid_euid", fx->suid_dir);
    snprintf(src, sizeof src, "%s/suid_euid", hostile_dir);
    if (copy_file(src, fx->suid_path) < 0 || chown(fx->suid_path, 0, 0) < 0)
        return -1;
    return chmod(fx->suid_path, 04755); /* after chown, which clears the bit */
}

static int make_listeners(struct fixtures *fx)
{
    struct sockaddr_in in = {.sin_family = AF_INET};
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    socklen_t len = sizeof in;
    size_t n;

    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fx->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fx->listen_fd < 0 || bind(fx->listen_fd, (struct sockaddr *)&in, sizeof in) < 0 ||
        listen(fx->listen_fd, 16) < 0 ||
        getsockname(fx->listen_fd, (struct sockaddr *)&in, &len) < 0)
        return -1;
    snprintf(fx->port, sizeof fx->port, "%u", (unsigned)ntohs(in.sin_port));
    snprintf(fx->unix_name, sizeof fx->unix_name, "runq-hostile-%ld", (long)getpid());
    n = strlen(fx->unix_name);
    memcpy(un.sun_path + 1, fx->unix_name, n);
    fx->unix_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fx->unix_fd < 0 ||
        bind(fx->unix_fd, (struct sockaddr *)&un,
             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) < 0 ||
        listen(fx->unix_fd, 16) < 0)
        return -1;
    return 0;
}

int fixtures_setup(struct fixtures *fx, const char *hostile_dir)
{
    memset(fx, 0, sizeof *fx);
    fx->listen_fd = fx->unix_fd = fx->bait_fd = -1;
    if (make_secret(fx) < 0) {
        tap_diag("fixture: secret file in %s: %s", fx->secret_dir, strerror(errno));
        return -1;
    }
    if (make_suid(fx, hostile_dir) < 0) {
        tap_diag("fixture: setuid copy %s: %s", fx->suid_path, strerror(errno));
        return -1;
    }
    if (make_listeners(fx) < 0) {
        tap_diag("fixture: loopback listeners: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void fixtures_teardown(const struct fixtures *fx)
{
    if (fx->listen_fd >= 0)
        close(fx->listen_fd);
    if (fx->unix_fd >= 0)
        close(fx->unix_fd);
    if (fx->bait_fd >= 0)
        close(fx->bait_fd);
    if (fx->secret_path[0])
        unlink(fx->secret_path);
    if (fx->secret_dir[0])
        rmdir(fx->secret_dir);
    if (fx->suid_path[0])
        unlink(fx->suid_path);
    if (fx->suid_dir[0])
        rmdir(fx->suid_dir);
}

/* Two test_hostile processes on one slot would see (and kill) each other's runs as leftovers:
 * serialize whole harness runs. The lock is O_CLOEXEC so no sandboxed process can hold it. */
void host_lock_slot(unsigned slot)
{
    char path[64];
    int fd;

    snprintf(path, sizeof path, "/tmp/runq-test-hostile-slot%u.lock", slot);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
        tap_diag("another test_hostile uses slot %u; waiting for it", slot);
        flock(fd, LOCK_EX);
    }
}

/* Mounts of the host's own, not counting the Docker engine's: containers come and go on
 * the same machine (the Docker backend's tests, image builds), and their overlay and shm
 * mounts under /var/lib/docker and /run/docker are none of the sandbox's doing. */
int host_mountinfo_lines(void)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char line[4096];
    int n = 0, at_start = 1;

    if (!f)
        return -1;
    /* The mount point is early in a line: a long line's later pieces are not lines. */
    while (fgets(line, sizeof(line), f)) {
        if (at_start)
            n += !strstr(line, " /var/lib/docker/") && !strstr(line, " /run/docker/");
        at_start = strchr(line, '\n') != NULL;
    }
    fclose(f);
    return n;
}

/* Reads Name, State and the real/effective uid of /proc/<pid>/status. */
static int proc_ids(const char *pid, char *name, size_t nlen, char *state, uid_t ids[2])
{
    char path[300], line[256];
    unsigned r, e;
    FILE *f;
    int found = 0;

    snprintf(path, sizeof path, "/proc/%s/status", pid);
    f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "Name:", 5) == 0)
            snprintf(name, nlen, "%.*s", (int)strcspn(line + 6, "\n"), line + 6);
        else if (strncmp(line, "State:", 6) == 0)
            *state = line[7];
        else if (sscanf(line, "Uid: %u %u", &r, &e) == 2) {
            ids[0] = r;
            ids[1] = e;
            found = 1;
        }
    }
    fclose(f);
    return found ? 0 : -1;
}

/* Reports and kills every process whose real or effective uid is `uid`. */
static int slot_processes(uid_t uid)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    char name[64] = "", state = '?';
    uid_t ids[2];
    int n = 0;

    while (d && (e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]) ||
            proc_ids(e->d_name, name, sizeof name, &state, ids) < 0)
            continue;
        if (ids[0] != uid && ids[1] != uid)
            continue;
        tap_diag("leftover pid %s (%s) state %c uid %u euid %u; killing it", e->d_name, name,
                 state, (unsigned)ids[0], (unsigned)ids[1]);
        kill((pid_t)atoi(e->d_name), SIGKILL);
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

/* Counts <mount point>/runq/slot-<slot> directories over every cgroup hierarchy. */
static int slot_cgroups(unsigned slot)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char line[4096], mp[2048], type[64], path[2200];
    struct stat st;
    int n = 0;

    while (f && fgets(line, sizeof line, f)) {
        const char *sep = strstr(line, " - ");

        if (!sep || sscanf(sep + 3, "%63s", type) != 1 ||
            (strcmp(type, "cgroup") != 0 && strcmp(type, "cgroup2") != 0) ||
            sscanf(line, "%*s %*s %*s %*s %2047s", mp) != 1)
            continue;
        snprintf(path, sizeof path, "%s/runq/slot-%u", mp, slot);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            tap_diag("leftover cgroup %s", path);
            n++;
        }
    }
    if (f)
        fclose(f);
    return n;
}

/* Counts entries of `dir` other than `only`, and -100 if `only` itself is gone. */
static int dir_extras(const char *dir, const char *only)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = -100;

    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (!strcmp(e->d_name, only)) {
            n += 100;
            continue;
        }
        tap_diag("unexpected file %s/%s", dir, e->d_name);
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

/* Counts connections that reached the host listeners (and closes them). */
static int host_connections(const struct fixtures *fx)
{
    int fds[2] = {fx->listen_fd, fx->unix_fd}, n = 0;

    for (int i = 0; i < 2; i++) {
        int c;

        while ((c = accept4(fds[i], NULL, NULL, SOCK_CLOEXEC)) >= 0) {
            tap_diag("a connection reached host listener %d", i);
            close(c);
            n++;
        }
    }
    return n;
}

/* Counts (and removes) sysv_ipc's objects found in the host IPC namespace. */
static int host_ipc_objects(void)
{
    int id, n = 0;

    if ((id = shmget(HOSTILE_IPC_KEY, 0, 0)) >= 0 && ++n)
        shmctl(id, IPC_RMID, NULL);
    if ((id = msgget(HOSTILE_IPC_KEY, 0)) >= 0 && ++n)
        msgctl(id, IPC_RMID, NULL);
    if ((id = semget(HOSTILE_IPC_KEY, 0, 0)) >= 0 && ++n)
        semctl(id, 0, IPC_RMID);
    if ((id = (int)mq_open(HOSTILE_MQ_NAME, O_RDONLY)) >= 0 && ++n) {
        mq_close((mqd_t)id);
        mq_unlink(HOSTILE_MQ_NAME);
    }
    if (n)
        tap_diag("%d IPC object(s) of sysv_ipc in the host namespace", n);
    return n;
}

void host_assert_clean(struct tap *t, const char *name, int mountinfo_before,
                       const struct fixtures *fx, unsigned slot, uid_t uid)
{
    int mi = host_mountinfo_lines();

    tap_ok(t, slot_processes(uid) == 0, "%s: host: no process of uid %u left", name,
           (unsigned)uid);
    tap_ok(t, slot_cgroups(slot) == 0, "%s: host: no runq/slot-%u cgroup left", name, slot);
    if (!tap_ok(t, mi == mountinfo_before, "%s: host: mountinfo has %d lines as before", name,
                mountinfo_before))
        tap_diag("mountinfo now has %d lines", mi);
    tap_ok(t, dir_extras(fx->secret_dir, "secret.txt") == 0 &&
                  dir_extras(fx->suid_dir, "suid_euid") == 0,
           "%s: host: fixture dirs hold only what the harness made", name);
    tap_ok(t, host_connections(fx) == 0 && host_ipc_objects() == 0,
           "%s: host: no connection to host listeners, no IPC objects", name);
}
