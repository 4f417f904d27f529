/* write_ro_root: tries to create files in /, /usr, /etc, /bin, /usr/bin, /lib, a
 * directory in /, and to open /etc/passwd and /usr/bin/env for writing.
 * Expected verdict: status "ok", DEFENDED (all fail). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int try_create(const char *dir)
{
    char path[256];
    int fd;

    snprintf(path, sizeof path, "%s/runq-pwned", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return 0;
    close(fd);
    unlink(path);
    printf("created %s\n", path);
    return 1;
}

static int try_write(const char *path)
{
    int fd = open(path, O_WRONLY);

    if (fd < 0)
        return 0;
    close(fd);
    printf("opened %s for writing\n", path);
    return 1;
}

int main(void)
{
    static const char *const dirs[] = {"/", "/usr", "/etc", "/bin", "/usr/bin", "/lib"};
    int bad = 0;

    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        bad |= try_create(dirs[i]);
    if (mkdir("/runq-pwned-dir", 0755) == 0) {
        rmdir("/runq-pwned-dir");
        printf("created /runq-pwned-dir\n");
        bad = 1;
    }
    bad |= try_write("/etc/passwd") | try_write("/usr/bin/env");
    printf(bad ? "BREACH root is writable\n" : "DEFENDED root is read-only\n");
    return bad ? 42 : 0;
}
