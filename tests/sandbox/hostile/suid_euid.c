/* suid_euid: helper for setuid_binary; the harness installs a root-owned 04755 copy.
 * Prints "euid=N"; euid 0, a working setuid(0) or a writable binary (the --bind must be
 * read-only) prints BREACH and exits 42, otherwise DEFENDED and exit 0. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int euid = (int)geteuid();

    printf("euid=%d uid=%d\n", euid, (int)getuid());
    if (argc > 0 && open(argv[0], O_WRONLY) >= 0) {
        printf("BREACH the bound binary is writable\n");
        return 42;
    }
    if (euid == 0 || setuid(0) == 0) {
        printf("BREACH setuid-root binary gave root\n");
        return 42;
    }
    printf("DEFENDED setuid bit ignored\n");
    return 0;
}
