/* sec_keyctl: keyctl(KEYCTL_GET_KEYRING_ID, session, create) then add_key(2).
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
    /* KEYCTL_GET_KEYRING_ID (0) of the session keyring (-3), creating it (1) */
    r = syscall(SYS_keyctl, 0, -3, 1);
    if (r >= 0) /* add a key to the process keyring (-2) */
        r = syscall(SYS_add_key, "user", "runq-hostile", "x", 1UL, -2);
    if (r >= 0) {
        printf("BREACH call returned %ld\n", r);
        return 42;
    }
    printf("NOT_KILLED call failed: %s\n", strerror(errno));
    return 3;
}
