/* list_host_procs: /proc must show only this run's processes: itself and its child, plus
 * PID 1 only if init runs as the sandbox uid (a visible root-owned init means hidepid is
 * not in force). Its own PID must be small (a fresh pid namespace).
 * Expected verdict: status "ok", DEFENDED. */
#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int init_uid(void)
{
    FILE *f = fopen("/proc/1/status", "r");
    char line[256];
    int uid = -1;

    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Uid: %d", &uid) == 1)
            break;
    if (f)
        fclose(f);
    return uid;
}

int main(void)
{
    pid_t self = getpid(), child = fork();
    DIR *d = opendir("/proc");
    struct dirent *e;
    int bad = self > 10;

    if (child == 0)
        for (;;)
            pause();
    printf("self=%d child=%d\n", (int)self, (int)child);
    while (d && (e = readdir(d))) {
        int pid = isdigit((unsigned char)e->d_name[0]) ? atoi(e->d_name) : 0;

        if (pid == 0 || pid == self || pid == child)
            continue;
        if (pid == 1) {
            printf("NOTE /proc/1 visible, uid %d\n", init_uid());
            bad |= init_uid() == 0;
            continue;
        }
        printf("foreign pid %d visible\n", pid);
        bad = 1;
    }
    kill(child, SIGKILL);
    printf(bad ? "BREACH foreign processes visible\n" : "DEFENDED only own processes\n");
    return bad ? 42 : 0;
}
