/* sec_open_by_handle_at: open_by_handle_at(2) with a handle for inode 2, the classic
 * "shocker" container escape.
 * Expected verdict: seccomp kills it with SIGSYS -> status "security_violation".
 * If the call returns, it prints BREACH and exits 42 on success, NOT_KILLED and exits 3
 * on failure (a defense, but the wrong verdict). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>

int main(void)
{
    long r;
    struct {
        unsigned int bytes;
        int type;
        unsigned char h[8];
    } fh = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};

    printf("calling\n");
    fflush(stdout);
    r = syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY);
    if (r >= 0) {
        printf("BREACH call returned %ld\n", r);
        return 42;
    }
    printf("NOT_KILLED call failed: %s\n", strerror(errno));
    return 3;
}
