/* env_leak: the harness exports RUNQ_HOSTILE_BAIT=leaked-from-host before starting
 * runq-sandbox; the program's environment must not contain it, nor any variable beyond the
 * sandbox defaults (PATH, HOME, TMPDIR, LANG, LC_*, TERM) since the harness passes no --env.
 * Expected verdict: status "ok", DEFENDED. */
#include <stdio.h>
#include <string.h>

extern char **environ;

static int allowed(const char *kv)
{
    static const char *const names[] = {"PATH=", "HOME=", "TMPDIR=", "LANG=", "LC_", "TERM="};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strncmp(kv, names[i], strlen(names[i])) == 0)
            return 1;
    return 0;
}

int main(void)
{
    int bad = 0, n = 0;

    for (char **e = environ; *e; e++, n++) {
        if (strstr(*e, "RUNQ_HOSTILE_BAIT") || strstr(*e, "leaked-from-host")) {
            printf("host variable leaked: %s\n", *e);
            bad = 1;
        } else if (!allowed(*e)) {
            printf("unexpected variable: %.60s\n", *e);
            bad = 1;
        }
    }
    printf("%d variables\n", n);
    printf(bad ? "BREACH host environment leaks\n" : "DEFENDED clean environment\n");
    return bad ? 42 : 0;
}
