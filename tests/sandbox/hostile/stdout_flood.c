/* stdout_flood: writes 'A' to stdout forever.
 * Expected verdict: status "output_limit" (harness: -o 64K -t 1 -w 3), stdout_truncated
 * true and exactly 65536 bytes captured; stderr_truncated false. */
#include <string.h>
#include <unistd.h>

int main(void)
{
    static char buf[65536];

    memset(buf, 'A', sizeof buf);
    for (;;)
        if (write(1, buf, sizeof buf) < 0)
            continue;
}
