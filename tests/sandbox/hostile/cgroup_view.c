/* cgroup_view: with a cgroup namespace every line of /proc/self/cgroup ends in ":/" (the
 * host path runq/slot-N stays hidden), /sys/fs/cgroup is absent, and no cgroup file can be
 * opened for writing to escape or raise a limit.
 * Expected verdict: status "ok", DEFENDED. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    char line[512];
    int bad = f == NULL, fd;

    while (f && fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\n");

        if (n < 2 || strncmp(line + n - 2, ":/", 2) != 0) {
            printf("host cgroup path visible: %s", line);
            bad = 1;
        }
    }
    if (access("/sys/fs/cgroup", F_OK) == 0) {
        printf("/sys/fs/cgroup exists\n");
        bad = 1;
    }
    fd = open("/sys/fs/cgroup/memory/memory.limit_in_bytes", O_WRONLY);
    if (fd >= 0) {
        printf("cgroup memory limit writable\n");
        close(fd);
        bad = 1;
    }
    printf(bad ? "BREACH cgroups exposed\n" : "DEFENDED cgroups hidden\n");
    return bad ? 42 : 0;
}
