/* busy_threads: 8 pthreads plus the main thread spin at once, so the tree burns CPU
 * several times faster than the wall clock.
 * Expected verdict: status "time_limit", time_limit "cpu" (harness: -t 1 -w 3); the harness
 * also asserts cpu_ms >= 1000 (the whole tree's CPU is accounted, not one thread's). */
#include <pthread.h>
#include <stdio.h>

#define NTHREADS 8

static void *spin(void *arg)
{
    volatile unsigned long n = 0;

    (void)arg;
    for (;;)
        n++;
    return NULL;
}

int main(void)
{
    pthread_t th[NTHREADS];
    volatile unsigned long n = 0;

    for (int i = 0; i < NTHREADS; i++)
        if (pthread_create(&th[i], NULL, spin, NULL) != 0)
            printf("pthread_create %d failed\n", i);
    printf("spinning with %d threads\n", NTHREADS);
    fflush(stdout);
    for (;;)
        n++;
}
