/* kill_init: sends SIGSTOP, SIGTERM, SIGINT, SIGHUP and SIGKILL to PID 1 (runq's init).
 * They must fail (EPERM) or be ignored: if init died the whole run would be killed, and a
 * stopped init would hang the run into a wall time limit.
 * Expected verdict: status "ok", DEFENDED. Safety net: refuses to run as uid/euid 0. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    static const int sigs[] = {SIGSTOP, SIGTERM, SIGINT, SIGHUP, SIGKILL};

    if (getuid() == 0 || geteuid() == 0) {
        printf("BREACH running as root, not signalling PID 1\n");
        return 42;
    }
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        int r = kill(1, sigs[i]);

        printf("kill(1, %s) = %d %s\n", strsignal(sigs[i]), r, r ? strerror(errno) : "");
    }
    fflush(stdout);
    usleep(200000);
    printf("DEFENDED still alive after signalling init\n");
    return 0;
}
