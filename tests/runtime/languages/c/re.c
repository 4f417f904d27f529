#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("before the error\n");
    exit(3);
}
