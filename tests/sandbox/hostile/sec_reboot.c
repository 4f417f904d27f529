/* sec_reboot: reboot(2) with a wrong magic number (harmless even if it got through).
 * Expected verdict: seccomp kills it with SIGSYS -> status "security_violation".
 * If the call returns, it prints BREACH and exits 42 on success, NOT_KILLED and exits 3
 * on failure (a defense, but the wrong verdict). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
    long r;

    printf("calling\n");
    fflush(stdout);
    r = syscall(SYS_reboot, 0xfee1deadUL, 0x12345678UL, 0x4321fedcUL, NULL);
    if (r >= 0) {
        printf("BREACH call returned %ld\n", r);
        return 42;
    }
    printf("NOT_KILLED call failed: %s\n", strerror(errno));
    return 3;
}
