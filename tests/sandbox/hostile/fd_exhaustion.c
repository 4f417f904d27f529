/* fd_exhaustion: raises RLIMIT_NOFILE's soft limit to the hard limit, then opens /dev/null
 * until open fails.
 * Expected verdict: status "ok", "DEFENDED opened=N maxfd=M errno=..." (harness: -n 32);
 * the harness asserts M <= 31. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

int main(void)
{
    struct rlimit rl;
    int opened = 0, maxfd = 2, fd;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        printf("nofile soft=%llu hard=%llu\n", (unsigned long long)rl.rlim_cur,
               (unsigned long long)rl.rlim_max);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    while (opened < 1000000 && (fd = open("/dev/null", O_RDONLY)) >= 0) {
        opened++;
        if (fd > maxfd)
            maxfd = fd;
    }
    printf("DEFENDED opened=%d maxfd=%d errno=%s\n", opened, maxfd, strerror(errno));
    return 0;
}
