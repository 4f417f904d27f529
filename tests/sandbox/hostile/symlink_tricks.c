/* symlink_tricks: booby-traps the --collect targets: "link" -> /etc/passwd, "shadow" ->
 * /etc/shadow, "procroot" -> /proc/self/root/etc/shadow (the launcher's root if it follows
 * links), "etcdir" -> /etc (for "etcdir/passwd"), "fifo" (a blocking open hangs the
 * launcher), "hard" (hard link), "dir"; "good" is a plain "fine\n"; leaves chmod-000 dirs.
 * Expected: status "ok", DEFENDED; the harness asserts files.X.error per trap, files.good
 * intact, a prompt return. With argv[1] "check" (next run, same slot): /box holds only
 * "prog", /tmp and /dev/shm are empty -> "ok", DEFENDED. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int leftovers(const char *dir, const char *allowed)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, allowed)) {
            printf("leftover %s/%s\n", dir, e->d_name);
            n++;
        }
    return n;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f && fputs(text, f) >= 0)
        fclose(f);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "check") == 0) {
        int n = leftovers("/box", "prog") + leftovers("/tmp", "") + leftovers("/dev/shm", "");

        printf(n ? "BREACH previous run's files survive\n" : "DEFENDED fresh /box\n");
        return n ? 42 : 0;
    }
    if (symlink("/etc/passwd", "link") || symlink("/etc/shadow", "shadow") ||
        symlink("/proc/self/root/etc/shadow", "procroot") || symlink("/etc", "etcdir") ||
        mkfifo("fifo", 0666) || mkdir("dir", 0755) || (put("orig", "hard\n"), link("orig", "hard")))
        perror("trap");
    put("good", "fine\n");
    put("/tmp/leftover", "x");
    put("/dev/shm/leftover", "x");
    if (mkdir("locked", 0755) == 0 && mkdir("locked/deeper", 0755) == 0) {
        put("locked/deeper/file", "x");
        chmod("locked/deeper", 0);
        chmod("locked", 0);
    }
    printf("DEFENDED traps set\n");
    return 0;
}
