/* sysv_ipc: argv[1] "create" makes a SysV shared memory segment, message queue and
 * semaphore set with the fixed key 0x52554e51 ("RUNQ"), plus the POSIX message queue
 * "/runq-hostile" (if RLIMIT_MSGQUEUE allows), and exits leaving them behind;
 * it must be able to create them (EEXIST means a previous run's objects are visible).
 * argv[1] "check" (the next run in the same slot) must not find them.
 * Expected verdict: status "ok", DEFENDED for both; the harness also asserts the host IPC
 * namespace has no object with that key. */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#define KEY ((key_t)0x52554e51)

int main(int argc, char **argv)
{
    int create = argc > 1 && strcmp(argv[1], "create") == 0;
    int flags = create ? IPC_CREAT | IPC_EXCL | 0600 : 0;
    int ids[4], errs[4], found = 0, exists = 0;

    ids[0] = shmget(KEY, 4096, flags);
    errs[0] = errno;
    ids[1] = msgget(KEY, flags);
    errs[1] = errno;
    ids[2] = semget(KEY, 1, flags);
    errs[2] = errno;
    ids[3] = (int)mq_open("/runq-hostile", create ? O_RDWR | O_CREAT | O_EXCL : O_RDWR, 0600, NULL);
    errs[3] = errno;
    for (int i = 0; i < 4; i++) {
        printf("%s=%d (%s)\n", (const char *[]){"shm", "msg", "sem", "mq"}[i], ids[i],
               ids[i] < 0 ? strerror(errs[i]) : "ok");
        found += ids[i] >= 0;
        exists |= ids[i] < 0 && errs[i] == EEXIST;
    }
    if (create && ids[3] < 0 && errs[3] != EEXIST)
        found++; /* POSIX queues may be disabled (RLIMIT_MSGQUEUE 0): not required */
    if (create && found < 4) {
        printf(exists ? "BREACH objects of an earlier run exist\n" : "cannot create them\n");
        return exists ? 42 : 3;
    }
    if (!create && found) {
        printf("BREACH IPC objects survived into the next run\n");
        return 42;
    }
    printf(create ? "DEFENDED created (must vanish with this run)\n"
                  : "DEFENDED no IPC objects from the earlier run\n");
    return 0;
}
