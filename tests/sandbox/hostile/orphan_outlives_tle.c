/* orphan_outlives_tle: leaves two setsid() orphans (one spinning, one sleeping, ignoring
 * SIGTERM/SIGHUP/SIGXCPU) and sleeps forever itself; the orphan's CPU must count.
 * Expected verdict: status "time_limit", time_limit "cpu" (harness: -t 1 -w 3), and the
 * harness asserts no process of the slot uid survives the kill. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static void orphan(int spin)
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
    signal(SIGXCPU, SIG_IGN);
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
    orphan(1);
    orphan(0);
    printf("orphans started, parent sleeps\n");
    fflush(stdout);
    for (;;)
        sleep(60);
}
