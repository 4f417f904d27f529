/* memory_touch: mallocs 1 GiB and writes every page.
 * Expected verdict: status "memory_limit" (harness: -m 64M); the harness also asserts
 * memory_peak_kb <= 65536. Printing BREACH means 1 GiB was resident in a 64M sandbox. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIB (1024UL * 1024 * 1024)
#define CHUNK (4UL * 1024 * 1024)

int main(void)
{
    char *p = malloc(GIB);

    if (!p) {
        printf("malloc failed (no overcommit?)\n");
        return 3;
    }
    for (size_t off = 0; off < GIB; off += CHUNK) {
        memset(p + off, 0x5a, CHUNK);
        __asm__ volatile("" : : "r"(p) : "memory");
    }
    printf("BREACH touched 1 GiB\n");
    return 42;
}
