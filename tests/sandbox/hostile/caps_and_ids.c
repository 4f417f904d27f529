/* caps_and_ids: uid, euid, gid, egid and supplementary groups are not 0; CapInh, CapPrm,
 * CapEff, CapBnd and CapAmb in /proc/self/status are all zero; NoNewPrivs is 1; Seccomp
 * is 2 (filter mode). Expected verdict: status "ok", DEFENDED. */
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int check_status(void)
{
    static const char *const zero[] = {"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"};
    FILE *f = fopen("/proc/self/status", "r");
    char line[256], val[64];
    int bad = f == NULL, nnp = 0, sec = 0;

    while (f && fgets(line, sizeof line, f)) {
        for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
            if (strncmp(line, zero[i], strlen(zero[i])) == 0 &&
                (sscanf(line + strlen(zero[i]), "%63s", val) != 1 ||
                 strspn(val, "0") != strlen(val))) {
                printf("nonzero %s", line);
                bad = 1;
            }
        sscanf(line, "NoNewPrivs: %d", &nnp);
        sscanf(line, "Seccomp: %d", &sec);
    }
    if (f)
        fclose(f);
    printf("NoNewPrivs=%d Seccomp=%d\n", nnp, sec);
    return bad || nnp != 1 || sec != 2;
}

int main(void)
{
    gid_t groups[64];
    int n = getgroups(64, groups), bad = check_status();

    printf("uid=%d euid=%d gid=%d egid=%d\n", (int)getuid(), (int)geteuid(), (int)getgid(),
           (int)getegid());
    bad |= getuid() == 0 || geteuid() == 0 || getgid() == 0 || getegid() == 0;
    for (int i = 0; i < n; i++)
        if (groups[i] == 0) {
            printf("supplementary group 0\n");
            bad = 1;
        }
    printf(bad ? "BREACH privileges left\n" : "DEFENDED unprivileged\n");
    return bad ? 42 : 0;
}
