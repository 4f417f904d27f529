/* vsock_probe: socket(AF_VSOCK) must fail with EAFNOSUPPORT (no path to the hypervisor).
 * Expected verdict: status "ok", DEFENDED. A socket prints BREACH (42); another errno prints
 * WRONG and exits 3. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int main(void)
{
    int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

    if (fd >= 0) {
        printf("BREACH AF_VSOCK socket %d\n", fd);
        return 42;
    }
    if (errno != EAFNOSUPPORT) {
        printf("WRONG socket(AF_VSOCK) failed with %s\n", strerror(errno));
        return 3;
    }
    printf("DEFENDED AF_VSOCK: EAFNOSUPPORT\n");
    return 0;
}
