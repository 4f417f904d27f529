/* io_uring_probe: io_uring_setup, io_uring_enter and io_uring_register must all fail with
 * ENOSYS (so runtimes fall back to plain I/O).
 * Expected verdict: status "ok", DEFENDED. A working ring prints BREACH (42); another errno
 * prints WRONG and exits 3. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int check(const char *name, long r)
{
    if (r >= 0) {
        printf("BREACH %s returned %ld\n", name, r);
        return 42;
    }
    if (errno != ENOSYS) {
        printf("WRONG %s failed with %s, not ENOSYS\n", name, strerror(errno));
        return 3;
    }
    printf("%s: ENOSYS\n", name);
    return 0;
}

int main(void)
{
    static char params[256];
    int rc = check("io_uring_setup", syscall(SYS_io_uring_setup, 4U, params));

    if (!rc)
        rc = check("io_uring_enter", syscall(SYS_io_uring_enter, -1, 0U, 0U, 0U, NULL, 0UL));
    if (!rc)
        rc = check("io_uring_register", syscall(SYS_io_uring_register, -1, 0U, NULL, 0U));
    if (!rc)
        printf("DEFENDED io_uring unavailable\n");
    return rc;
}
