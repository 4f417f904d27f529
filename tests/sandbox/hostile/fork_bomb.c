/* fork_bomb: forks forever, every child too, ignoring every error.
 * Expected verdict: status "time_limit" (cpu or wall; harness: -p 16 -t 1 -w 3); the pids
 * cgroup caps the tree and the harness asserts nothing of the slot uid survives.
 * Safety net for a broken sandbox: refuses to run as root and sets RLIMIT_NPROC to 2048
 * (per real uid, so it never interferes with a --processes limit as small as 16). */
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

int main(void)
{
    struct rlimit rl = {2048, 2048};

    if (getuid() == 0 || geteuid() == 0) {
        printf("BREACH running as root, not bombing\n");
        return 42;
    }
    setrlimit(RLIMIT_NPROC, &rl);
    printf("bombing\n");
    fflush(stdout);
    for (;;)
        (void)fork();
}
