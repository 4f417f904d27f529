/* thread_bomb: creates sleeping threads forever, ignoring errors (the main thread then
 * spins on failing pthread_create).
 * Expected verdict: status "time_limit" (cpu or wall; harness: -p 16 -t 1 -w 3).
 * Safety net for a broken sandbox: refuses to run as root, RLIMIT_NPROC 2048. */
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        sleep(60);
    return NULL;
}

int main(void)
{
    struct rlimit rl = {2048, 2048};
    pthread_attr_t attr;
    pthread_t th;

    if (getuid() == 0 || geteuid() == 0) {
        printf("BREACH running as root, not bombing\n");
        return 42;
    }
    setrlimit(RLIMIT_NPROC, &rl);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    printf("bombing\n");
    fflush(stdout);
    for (;;)
        (void)pthread_create(&th, &attr, sleeper, NULL);
}
