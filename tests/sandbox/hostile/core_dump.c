/* core_dump: RLIMIT_CORE must be 0; raises the soft limit to the hard limit, makes itself
 * dumpable and lets a child segfault; no core may be dumped (WCOREDUMP) nor appear in
 * /box. Expected verdict: status "ok", DEFENDED.
 * With argv[1] "self" the program itself segfaults: status "signaled", signal 11. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void segfault(void)
{
    volatile int *volatile p = NULL;

    *p = 1;
}

int main(int argc, char **argv)
{
    struct rlimit rl = {0, 0};
    DIR *d;
    struct dirent *e;
    int st = 0, bad;
    pid_t child;

    if (argc > 1 && strcmp(argv[1], "self") == 0)
        segfault();
    getrlimit(RLIMIT_CORE, &rl);
    printf("core soft=%llu hard=%llu\n", (unsigned long long)rl.rlim_cur,
           (unsigned long long)rl.rlim_max);
    bad = rl.rlim_cur != 0;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_CORE, &rl);
    fflush(stdout);
    child = fork();
    if (child == 0) {
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        segfault();
        _exit(0);
    }
    waitpid(child, &st, 0);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSEGV) {
        printf("UNEXPECTED the child did not die of SIGSEGV\n");
        return 3;
    }
    if (WCOREDUMP(st)) {
        printf("child dumped core\n");
        bad = 1;
    }
    for (d = opendir("/box"); d && (e = readdir(d));)
        if (strncmp(e->d_name, "core", 4) == 0) {
            printf("found /box/%s\n", e->d_name);
            bad = 1;
        }
    printf(bad ? "BREACH core dumps possible\n" : "DEFENDED no core dump\n");
    return bad ? 42 : 0;
}
