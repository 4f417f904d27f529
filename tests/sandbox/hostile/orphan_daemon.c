/* orphan_daemon: double-forks two setsid() daemons (one spinning, one sleeping, both
 * ignoring SIGHUP/SIGTERM and keeping stdout open) and exits 0 at once.
 * Expected verdict: status "ok" with DEFENDED in stdout (harness: -t 1 -w 3): the launcher
 * must neither wait for the daemons (that would end in time_limit) nor leave them behind;
 * the harness asserts no process of the slot uid survives the run. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static void daemonize(int spin)
{
    volatile unsigned long n = 0;
    pid_t p = fork();

    if (p != 0) {
        if (p > 0)
            waitpid(p, NULL, 0);
        return;
    }
    setsid();
    signal(SIGHUP, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    if (fork() != 0)
        _exit(0);
    for (;;) {
        if (spin)
            n++;
        else
            sleep(60);
    }
}

int main(void)
{
    daemonize(0);
    daemonize(1);
    printf("DEFENDED parent exits 0, two orphan daemons left for the sandbox to reap\n");
    return 0;
}
