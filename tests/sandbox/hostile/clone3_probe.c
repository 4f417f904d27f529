/* clone3_probe: clone3(2) (here with CLONE_NEWUSER, which clone3's pointer argument would
 * hide from seccomp) must fail with ENOSYS so libcs fall back to clone(2).
 * Expected verdict: status "ok", DEFENDED. A child prints BREACH (42); another errno prints
 * WRONG and exits 3. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    /* struct clone_args: flags, pidfd, child_tid, parent_tid, exit_signal, stack,
     * stack_size, tls, set_tid, set_tid_size, cgroup */
    uint64_t args[11] = {0};
    long r;

    args[0] = CLONE_NEWUSER;
    args[4] = SIGCHLD;
    r = syscall(SYS_clone3, args, sizeof args);
    if (r == 0)
        _exit(42);
    if (r > 0) {
        waitpid((pid_t)r, NULL, 0);
        printf("BREACH clone3 created pid %ld\n", r);
        return 42;
    }
    if (errno != ENOSYS) {
        printf("WRONG clone3 failed with %s, not ENOSYS\n", strerror(errno));
        return 3;
    }
    printf("DEFENDED clone3: ENOSYS\n");
    return 0;
}
