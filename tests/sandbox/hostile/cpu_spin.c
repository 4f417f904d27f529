/* cpu_spin: burns CPU in an endless loop.
 * Expected verdict: status "time_limit", time_limit "cpu" (harness: -t 1 -w 3),
 * and cpu_ms >= 1000. */
#include <stdio.h>

int main(void)
{
    volatile unsigned long n = 0;

    printf("spinning\n");
    fflush(stdout);
    for (;;)
        n++;
}
