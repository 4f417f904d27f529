/* file_size_limit: writes a 4 MiB file in /box, past RLIMIT_FSIZE.
 * Expected verdict: status "output_limit" (harness: -f 1M): SIGXFSZ kills the program.
 * Finishing the write prints BREACH. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    static char buf[1024 * 1024];
    int fd = open("big", O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0) {
        printf("cannot create big: %s\n", strerror(errno));
        return 3;
    }
    memset(buf, 'x', sizeof buf);
    for (int i = 0; i < 4; i++) {
        ssize_t n = write(fd, buf, sizeof buf);

        if (n < (ssize_t)sizeof buf) {
            printf("short write %zd: %s (SIGXFSZ not delivered)\n", n, strerror(errno));
            return 3;
        }
    }
    printf("BREACH wrote 4 MiB past RLIMIT_FSIZE\n");
    return 42;
}
