/* stop_self: stops its whole process group (itself and a child) with SIGSTOP and never
 * resumes. A launcher that waits for an exit without a deadline, or kills with a signal a
 * stopped task does not act on, hangs.
 * Expected verdict: status "time_limit", time_limit "wall" (harness: -t 1 -w 2). */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    pid_t child = fork();

    if (child == 0) {
        for (;;)
            pause();
    }
    printf("stopping\n");
    fflush(stdout);
    kill(0, SIGSTOP);
    printf("BREACH resumed\n");
    return 42;
}
