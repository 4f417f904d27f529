/* memory_untouched: mallocs 1 GiB and touches one page only.
 * Expected verdicts: with -m 64M the allocation succeeds, nothing is charged, status "ok"
 * and DEFENDED. With argv[1] "expect-fail" (harness: --address-space 64M) malloc must fail
 * under RLIMIT_AS: DEFENDED, status "ok"; a successful malloc there prints BREACH. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIB (1024UL * 1024 * 1024)

int main(int argc, char **argv)
{
    int expect_fail = argc > 1 && strcmp(argv[1], "expect-fail") == 0;
    volatile char *p = malloc(GIB);

    if (expect_fail) {
        if (p) {
            printf("BREACH malloc(1 GiB) succeeded under --address-space\n");
            return 42;
        }
        printf("DEFENDED malloc(1 GiB) failed under RLIMIT_AS\n");
        return 0;
    }
    if (!p) {
        printf("UNEXPECTED malloc(1 GiB) failed without RLIMIT_AS\n");
        return 3;
    }
    p[0] = 1;
    printf("DEFENDED 1 GiB reserved, one page touched, not charged\n");
    return 0;
}
