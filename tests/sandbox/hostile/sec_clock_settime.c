/* sec_clock_settime: clock_settime(CLOCK_REALTIME) with an invalid (harmless) timespec.
 * Expected verdict: seccomp kills it with SIGSYS -> status "security_violation".
 * If the call returns, it prints BREACH and exits 42 on success, NOT_KILLED and exits 3
 * on failure (a defense, but the wrong verdict). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>

int main(void)
{
    long r;
    struct timespec ts = {0, 2000000000L};

    printf("calling\n");
    fflush(stdout);
    r = syscall(SYS_clock_settime, CLOCK_REALTIME, &ts);
    if (r >= 0) {
        printf("BREACH call returned %ld\n", r);
        return 42;
    }
    printf("NOT_KILLED call failed: %s\n", strerror(errno));
    return 3;
}
