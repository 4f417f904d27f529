/* int80_syscall: the 32-bit (i386) getpid via `int $0x80` from a 64-bit process.
 * Expected verdict: seccomp kills non-native architectures -> "security_violation".
 * If it returns, prints BREACH and exits 42. */
#include <stdio.h>

int main(void)
{
    long ret;

    printf("calling int $0x80\n");
    fflush(stdout);
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "cc", "r8", "r9", "r10", "r11");
    printf("BREACH i386 getpid returned %ld\n", ret);
    return 42;
}
