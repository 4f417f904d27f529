/* sec_perf_event: perf_event_open(2) on a software CPU clock for itself.
 * Expected verdict: seccomp kills it with SIGSYS -> status "security_violation".
 * If the call returns, it prints BREACH and exits 42 on success, NOT_KILLED and exits 3
 * on failure (a defense, but the wrong verdict). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/perf_event.h>

int main(void)
{
    long r;
    struct perf_event_attr attr = {0};

    attr.type = PERF_TYPE_SOFTWARE;
    attr.size = sizeof attr;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.exclude_kernel = 1;

    printf("calling\n");
    fflush(stdout);
    r = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0UL);
    if (r >= 0) {
        printf("BREACH call returned %ld\n", r);
        return 42;
    }
    printf("NOT_KILLED call failed: %s\n", strerror(errno));
    return 3;
}
