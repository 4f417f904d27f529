/* SPDX-License-Identifier: MIT */
#include "pg_server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DB_USER "nobody"

/* The newest /usr/lib/postgresql/<v>/bin holding pg_ctl. */
static int find_bin(char *out, size_t len)
{
    DIR *d = opendir("/usr/lib/postgresql");
    struct dirent *e;
    long best = -1;
    char path[256];

    if (!d)
        return -ENOENT;
    while ((e = readdir(d))) {
        long v = strtol(e->d_name, NULL, 10);

        snprintf(path, sizeof(path), "/usr/lib/postgresql/%s/bin/pg_ctl", e->d_name);
        if (v > best && access(path, X_OK) == 0) {
            best = v;
            snprintf(out, len, "/usr/lib/postgresql/%s/bin", e->d_name);
        }
    }
    closedir(d);
    return best < 0 ? -ENOENT : 0;
}

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -EADDRNOTAVAIL;

    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &n) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* Runs bin/prog with args as nobody in s->dir, output appended to dir/commands.log.
 * Returns 0 when it exits 0, else -EIO. */
static int run_as_db_user(struct pg_server *s, const char *prog, const char *const *args)
{
    const char *argv[24] = {"setpriv", "--reuid=" DB_USER, "--regid=nogroup", "--clear-groups",
                            "--"};
    char path[256], logpath[128];
    int argc = 5, status, fd;
    pid_t pid;

    snprintf(path, sizeof(path), "%s/%s", s->bin, prog);
    argv[argc++] = path;
    for (; *args && argc < 23; args++)
        argv[argc++] = *args;
    argv[argc] = NULL;
    snprintf(logpath, sizeof(logpath), "%s/commands.log", s->dir);
    fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    pid = fork();
    if (pid < 0) {
        if (fd >= 0)
            close(fd);
        return -errno;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);

        if (null >= 0)
            dup2(null, 0);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (chdir(s->dir) < 0)
            _exit(126);
        execv("/usr/bin/setpriv", (char *const *)argv);
        _exit(127);
    }
    if (fd >= 0)
        close(fd);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static int ctl_start(struct pg_server *s)
{
    char opts[256];
    int r;

    snprintf(opts, sizeof(opts),
             "-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off "
             "-c synchronous_commit=off -c full_page_writes=off",
             s->port, s->data);
    r = run_as_db_user(s, "pg_ctl",
                       (const char *const[]){"-D", s->data, "-l", s->log, "-w", "-t", "30", "-o",
                                             opts, "start", NULL});
    if (r == 0)
        s->running = 1;
    return r;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void remove_dir(const char *dir)
{
    if (*dir)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int pg_server_start(struct pg_server *s, char *err, size_t errlen)
{
    struct passwd *pw = getpwnam(DB_USER);
    int r;

    memset(s, 0, sizeof(*s));
    if (!pw) {
        snprintf(err, errlen, "no user %s", DB_USER);
        return -ENOENT;
    }
    if ((r = find_bin(s->bin, sizeof(s->bin))) < 0) {
        snprintf(err, errlen, "PostgreSQL is not installed under /usr/lib/postgresql");
        return r;
    }
    snprintf(s->dir, sizeof(s->dir), "/tmp/runq-pg-XXXXXX");
    if (!mkdtemp(s->dir)) {
        r = -errno;
        snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
        s->dir[0] = '\0';
        return r;
    }
    snprintf(s->data, sizeof(s->data), "%s/data", s->dir);
    snprintf(s->log, sizeof(s->log), "%s/server.log", s->data);
    if (chmod(s->dir, 0755) < 0 || mkdir(s->data, 0700) < 0 ||
        chown(s->data, pw->pw_uid, pw->pw_gid) < 0) {
        r = -errno;
        snprintf(err, errlen, "preparing %s: %s", s->dir, strerror(errno));
        goto fail;
    }
    r = run_as_db_user(s, "initdb",
                       (const char *const[]){"-D", s->data, "-U", "runq", "--auth=trust", "-E",
                                             "UTF8", "--locale=C", "-N", NULL});
    if (r < 0) {
        snprintf(err, errlen, "initdb failed (see %s/commands.log)", s->dir);
        goto fail;
    }
    if ((s->port = free_port()) < 0) {
        r = s->port;
        snprintf(err, errlen, "no free port");
        goto fail;
    }
    if ((r = ctl_start(s)) < 0) {
        snprintf(err, errlen, "pg_ctl start failed (see %s)", s->log);
        goto fail;
    }
    pg_server_url(s, "postgres", s->url, sizeof(s->url));
    return 0;
fail:
    remove_dir(s->dir);
    s->dir[0] = '\0';
    return r;
}

int pg_server_stop(struct pg_server *s)
{
    int r = run_as_db_user(s, "pg_ctl",
                           (const char *const[]){"-D", s->data, "-m", "fast", "-w", "stop", NULL});

    if (r == 0)
        s->running = 0;
    return r;
}

int pg_server_resume(struct pg_server *s)
{
    return ctl_start(s);
}

int pg_server_psql(struct pg_server *s, const char *sql)
{
    char port[16];

    snprintf(port, sizeof(port), "%d", s->port);
    return run_as_db_user(s, "psql",
                          (const char *const[]){"-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                                                "127.0.0.1", "-p", port, "-U", "runq", "-d",
                                                "postgres", "-c", sql, NULL});
}

int pg_server_url(const struct pg_server *s, const char *dbname, char *buf, size_t len)
{
    int n = snprintf(buf, len, "postgresql://runq@127.0.0.1:%d/%s", s->port, dbname);

    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

void pg_server_destroy(struct pg_server *s)
{
    if (s->running)
        pg_server_stop(s);
    remove_dir(s->dir);
    s->dir[0] = '\0';
}
