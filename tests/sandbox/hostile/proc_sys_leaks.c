/* proc_sys_leaks: /sys must be absent or empty; /proc/sys/kernel/hostname and
 * /proc/sysrq-trigger must not open for writing (nothing is ever written); /proc/kcore must
 * not open; /proc/self/mountinfo must not name host paths (/work, /root); the hostname must
 * be "runq". Expected verdict: status "ok", DEFENDED. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static int opens(const char *path, int flags)
{
    int fd = open(path, flags);

    if (fd < 0)
        return 0;
    close(fd);
    printf("opened %s (flags %d)\n", path, flags);
    return 1;
}

int main(void)
{
    DIR *d = opendir("/sys");
    struct dirent *e;
    struct utsname u;
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[1024];
    int bad = 0;

    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            printf("/sys has %s\n", e->d_name);
            bad = 1;
        }
    bad |= opens("/proc/sys/kernel/hostname", O_WRONLY);
    bad |= opens("/proc/sysrq-trigger", O_WRONLY);
    bad |= opens("/proc/kcore", O_RDONLY);
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "/work") || strstr(line, "/root")) {
            printf("mountinfo leaks: %s", line);
            bad = 1;
        }
    if (uname(&u) == 0 && strcmp(u.nodename, "runq") != 0) {
        printf("hostname is %s\n", u.nodename);
        bad = 1;
    }
    printf(bad ? "BREACH host information leaks\n" : "DEFENDED proc and sys are clean\n");
    return bad ? 42 : 0;
}
