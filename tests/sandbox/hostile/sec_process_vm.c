/* sec_process_vm: process_vm_readv(2) of its own memory.
 * Expected verdict: seccomp kills it with SIGSYS -> status "security_violation".
 * If the call returns, it prints BREACH and exits 42 on success, NOT_KILLED and exits 3
 * on failure (a defense, but the wrong verdict). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/uio.h>
static char src[16] = "secret", dst[16];

int main(void)
{
    long r;
    struct iovec local = {dst, sizeof dst}, remote = {src, sizeof src};

    printf("calling\n");
    fflush(stdout);
    r = syscall(SYS_process_vm_readv, getpid(), &local, 1UL, &remote, 1UL, 0UL);
    if (r >= 0) {
        printf("BREACH call returned %ld\n", r);
        return 42;
    }
    printf("NOT_KILLED call failed: %s\n", strerror(errno));
    return 3;
}
