/* deep_recursion: recurses with 4 KiB frames until the stack overflows.
 * Expected verdict: status "signaled", signal 11 (harness: -s 8M). */
#include <stdio.h>

static volatile int depth_limit = 1 << 30;

static int recurse(int depth)
{
    volatile char pad[4096];

    pad[0] = (char)depth;
    pad[sizeof pad - 1] = pad[0];
    if (depth == depth_limit)
        return 0;
    return recurse(depth + 1) + pad[sizeof pad - 1];
}

int main(void)
{
    printf("recursing\n");
    fflush(stdout);
    printf("BREACH returned %d\n", recurse(0));
    return 42;
}
