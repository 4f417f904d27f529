/* device_nodes: host devices (/dev/sda, /dev/vda, /dev/nvme0n1, /dev/mem, /dev/kmem,
 * /dev/port, /dev/kmsg, /dev/tty0, /dev/console) must not open; mknod of a block and a char
 * device must fail; /dev/null, /dev/zero, /dev/full, /dev/urandom must work.
 * Expected verdict: status "ok", DEFENDED (BROKEN + exit 3 if a standard device fails). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int rw(const char *path, int wr, ssize_t want)
{
    char buf[16] = {0};
    int fd = open(path, wr ? O_WRONLY : O_RDONLY);
    ssize_t n;

    if (fd < 0)
        return 0;
    n = wr ? write(fd, buf, sizeof buf) : read(fd, buf, sizeof buf);
    close(fd);
    return want == -1 ? (n == -1 && errno == ENOSPC) : n == want;
}

int main(void)
{
    static const char *const bad_devs[] = {"/dev/sda", "/dev/vda", "/dev/nvme0n1", "/dev/mem",
        "/dev/kmem", "/dev/port", "/dev/kmsg", "/dev/tty0", "/dev/console"};
    int bad = 0;

    for (size_t i = 0; i < sizeof bad_devs / sizeof bad_devs[0]; i++) {
        int fd = open(bad_devs[i], O_RDONLY);

        if (fd >= 0) {
            printf("opened %s\n", bad_devs[i]);
            close(fd);
            bad = 1;
        }
    }
    if (mknod("/box/sda", S_IFBLK | 0600, makedev(8, 0)) == 0 ||
        mknod("/tmp/mem", S_IFCHR | 0600, makedev(1, 1)) == 0) {
        printf("mknod succeeded\n");
        bad = 1;
    }
    if (!rw("/dev/null", 1, 16) || !rw("/dev/zero", 0, 16) || !rw("/dev/full", 1, -1) ||
        !rw("/dev/urandom", 0, 16)) {
        printf("BROKEN a standard device does not work\n");
        return bad ? 42 : 3;
    }
    printf(bad ? "BREACH host devices reachable\n" : "DEFENDED devices are safe\n");
    return bad ? 42 : 0;
}
