/* sec_syslog: syslog(SYSLOG_ACTION_READ_ALL): reads the kernel log when dmesg_restrict is 0.
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
    static char log[4096];

    printf("calling\n");
    fflush(stdout);
    r = syscall(SYS_syslog, 3 /* SYSLOG_ACTION_READ_ALL */, log, (int)sizeof log);
    if (r >= 0) {
        printf("BREACH call returned %ld\n", r);
        return 42;
    }
    printf("NOT_KILLED call failed: %s\n", strerror(errno));
    return 3;
}
