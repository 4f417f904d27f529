/* kill_all: kill(-1, SIGKILL) after starting a child. Inside the sandbox this reaches only
 * the run's own processes (never the caller, never init, never the host).
 * Expected verdict: status "ok", DEFENDED (the caller survives and exits 0; the harness
 * asserts the host is unaffected). Safety net: refuses to run as uid/euid 0 (BREACH). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    pid_t child;
    int st = 0, r, e;

    if (getuid() == 0 || geteuid() == 0) {
        printf("BREACH running as root, not calling kill(-1)\n");
        return 42;
    }
    child = fork();
    if (child == 0)
        for (;;)
            pause();
    usleep(50000);
    r = kill(-1, SIGKILL);
    e = errno;
    waitpid(child, &st, 0);
    printf("DEFENDED kill(-1)=%d (%s), child %s %d\n", r, r ? strerror(e) : "ok",
           WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    return 0;
}
