#include <stdio.h>

int main(void)
{
    long long x, s = 0;

    while (scanf("%lld", &x) == 1)
        s += x;
    printf("%lld\n", s);
    return 0;
}
