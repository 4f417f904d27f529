/* stderr_flood: writes 'E' to stderr forever.
 * Expected verdict: status "output_limit" (harness: -o 64K -t 1 -w 3), stderr_truncated
 * true and exactly 65536 bytes captured; stdout_truncated false. */
#include <string.h>
#include <unistd.h>

int main(void)
{
    static char buf[65536];

    memset(buf, 'E', sizeof buf);
    for (;;)
        if (write(2, buf, sizeof buf) < 0)
            continue;
}
