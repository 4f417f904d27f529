/* binary_output: writes every byte value 0..255, a truncated UTF-8 sequence, an overlong
 * encoding and a lone surrogate to stdout and stderr, then a DEFENDED line.
 * Expected verdict: status "ok"; the JSON must still be valid (jansson parses it) and the
 * invalid bytes come back as U+FFFD; DEFENDED is in stdout. */
#include <stdio.h>
#include <unistd.h>

static int spew(int fd)
{
    static const unsigned char bad[] = {0xe2, 0x82, '\n', 0xc0, 0xaf, '\n', 0xed, 0xa0, 0x80,
                                        '\n', 0xff, 0xfe, '\n'};
    unsigned char all[256];

    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    return write(fd, all, sizeof all) != (ssize_t)sizeof all ||
           write(fd, bad, sizeof bad) != (ssize_t)sizeof bad;
}

int main(void)
{
    if (spew(1) || spew(2))
        return 3;
    printf("\nDEFENDED binary output written\n");
    return 0;
}
