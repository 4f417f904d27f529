/* sec_clone_newuser: raw clone(2) syscall with CLONE_NEWUSER (fork-like, no new stack).
 * Expected verdict: seccomp kills it with SIGSYS -> status "security_violation".
 * A child in a new user namespace prints BREACH (exit 42); a plain failure prints
 * NOT_KILLED and exits 3. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    long r;

    printf("calling\n");
    fflush(stdout);
    r = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, 0UL);
    if (r == 0) {
        printf("BREACH child in a new user namespace, uid %d\n", (int)getuid());
        fflush(stdout);
        _exit(42);
    }
    if (r > 0) {
        waitpid((pid_t)r, NULL, 0);
        printf("BREACH clone(CLONE_NEWUSER) returned %ld\n", r);
        return 42;
    }
    printf("NOT_KILLED clone failed: %s\n", strerror(errno));
    return 3;
}
