/* x32_syscall: x32 getpid (syscall number 0x40000000 | 39).
 * Expected verdict: seccomp kills it -> "security_violation". If it returns (even ENOSYS:
 * the filter let a non-native number through), prints BREACH and exits 42. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
    long r;

    printf("calling x32 getpid\n");
    fflush(stdout);
    r = syscall(0x40000000L | 39);
    printf("BREACH x32 syscall returned %ld (%s)\n", r, r < 0 ? strerror(errno) : "ok");
    return 42;
}
