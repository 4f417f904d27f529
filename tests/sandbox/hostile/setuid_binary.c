/* setuid_binary: execs argv[1], a setuid-root copy of suid_euid that the harness bound
 * read-only (nosuid) into the sandbox with --bind.
 * Expected verdict: status "ok"; suid_euid prints "euid=N" with N != 0 and DEFENDED.
 * If exec itself fails this prints EXEC_FAILED and exits 3 (the test is then void). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        printf("usage: setuid_binary PATH\n");
        return 3;
    }
    printf("before exec: uid=%d euid=%d\n", (int)getuid(), (int)geteuid());
    fflush(stdout);
    execv(argv[1], argv + 1);
    printf("EXEC_FAILED %s: %s\n", argv[1], strerror(errno));
    return 3;
}
