/* SPDX-License-Identifier: MIT */
#include "docker_spec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* runq-box's own needs on top of the program's: its binary and buffers, and the descriptors
 * it holds while the program runs. */
#define BOX_MEMORY_BYTES (4ULL << 20)
#define BOX_FDS 16
#define BOX_PIDS 1

static json_t *ulimit(const char *name, uint64_t value)
{
    return json_pack("{s:s, s:I, s:I}", "Name", name, "Soft", (json_int_t)value, "Hard",
                     (json_int_t)value);
}

/* A tmpfs's mount options: exec (compiled programs run from /box and /tmp), never suid or
 * devices, a size, and an owner for /box so the run's uid can write there. */
static json_t *tmpfs_options(uint64_t size, uint32_t uid, int owned)
{
    char text[160];

    if (owned)
        snprintf(text, sizeof(text), "rw,exec,nosuid,nodev,size=%" PRIu64 ",uid=%" PRIu32
                 ",gid=%" PRIu32 ",mode=0755", size, uid, uid);
    else
        snprintf(text, sizeof(text), "rw,exec,nosuid,nodev,size=%" PRIu64 ",mode=1777", size);
    return json_string(text);
}

/* The biggest single write runq-box makes itself (a file or the stdin memfd): RLIMIT_FSIZE
 * of the container must let it through; runq-box then sets the program's own. */
static uint64_t largest_input(const struct sbx_run_spec *s)
{
    uint64_t n = s->stdin_data ? s->stdin_len : 0;
    size_t i;

    for (i = 0; i < s->nfiles; i++)
        if (s->files[i].len > n)
            n = s->files[i].len;
    return n;
}

static json_t *host_config(const struct sbx_run_spec *s, const struct docker_spec_options *o)
{
    const struct sbx_limits *l = &s->limits;
    /* The stdin memfd lives in the container's memory cgroup; the sandbox keeps it outside
     * the program's. Adding it keeps the program's own allowance the same in both. */
    uint64_t memory = l->memory_bytes + BOX_MEMORY_BYTES + (s->stdin_data ? s->stdin_len : 0);
    uint64_t fsize = l->file_bytes > largest_input(s) ? l->file_bytes : largest_input(s);

    return json_pack(
        "{s:s, s:I, s:I, s:I, s:I, s:b, s:{s:o, s:o}, s:I, s:[s], s:[s], s:b, s:b,"
        " s:[o, o, o], s:{s:s, s:{}}, s:s, s:b}",
        "NetworkMode", "none",
        "Memory", (json_int_t)memory,
        "MemorySwap", (json_int_t)memory, /* the same: no swap at all */
        "NanoCpus", (json_int_t)o->cpus * 1000000000,
        "PidsLimit", (json_int_t)(l->processes + BOX_PIDS),
        "ReadonlyRootfs", 1,
        "Tmpfs",
            "/tmp", tmpfs_options(l->tmp_bytes, o->uid, 0),
            "/box", tmpfs_options(l->box_bytes, o->uid, 1),
        "ShmSize", (json_int_t)l->tmp_bytes,
        "CapDrop", "ALL",
        "SecurityOpt", "no-new-privileges",
        "Privileged", 0,
        "Init", 0, /* runq-box is PID 1 */
        "Ulimits",
            ulimit("core", 0),
            ulimit("nofile", l->open_files + BOX_FDS),
            ulimit("fsize", fsize),
        "LogConfig", "Type", "none", "Config", /* output goes through the attach stream only */
        "IpcMode", "private",
        "AutoRemove", 0); /* removed by the worker, after it read the state (OOMKilled) */
}

json_t *docker_spec_create(const struct sbx_run_spec *spec, const struct docker_spec_options *o)
{
    char user[32], slot[16];
    json_t *hc;

    if (o->uid == 0 || !o->image || !o->owner)
        return NULL;
    if (!(hc = host_config(spec, o)))
        return NULL;
    snprintf(user, sizeof(user), "%" PRIu32 ":%" PRIu32, o->uid, o->uid);
    snprintf(slot, sizeof(slot), "%u", o->slot);
    /* The program's argv and environment travel to runq-box in its input, not here: what
     * the engine records (docker inspect) stays free of job data. */
    return json_pack("{s:s, s:[s], s:[s], s:s, s:s, s:[], s:b, s:b, s:b, s:b, s:b, s:b, s:b,"
                     " s:{s:s, s:s}, s:o}",
                     "Image", o->image,
                     "Entrypoint", DOCKER_SPEC_BOX_PATH,
                     "Cmd", "--cgroup-stats",
                     "User", user,
                     "WorkingDir", "/box",
                     "Env",
                     "AttachStdin", 1, "AttachStdout", 1, "AttachStderr", 1,
                     "OpenStdin", 1, "StdinOnce", 1, "Tty", 0,
                     "NetworkDisabled", 1,
                     "Labels", DOCKER_SPEC_LABEL_OWNER, o->owner, DOCKER_SPEC_LABEL_SLOT, slot,
                     "HostConfig", hc);
}

int docker_spec_owner_filter(const char *owner, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    char json[256];
    size_t i, n = 0;
    int len = snprintf(json, sizeof(json), "{\"label\":[\"%s=%s\"]}", DOCKER_SPEC_LABEL_OWNER,
                       owner);

    if (len < 0 || (size_t)len >= sizeof(json) || size < 9)
        return -ENAMETOOLONG;
    memcpy(out, "filters=", 8);
    n = 8;
    for (i = 0; i < (size_t)len; i++) {
        unsigned char c = (unsigned char)json[i];
        int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~';
        if (n + (plain ? 1 : 3) >= size)
            return -ENAMETOOLONG;
        if (plain) {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = '\0';
    return 0;
}
