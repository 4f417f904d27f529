/* sleep_forever: uses no CPU, just sleeps.
 * Expected verdict: status "time_limit", time_limit "wall" (harness: -t 1 -w 2). */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    printf("sleeping\n");
    fflush(stdout);
    for (;;)
        sleep(60);
}
