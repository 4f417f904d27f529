/* SPDX-License-Identifier: MIT */
#include "sbx_box.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sbx_io.h"

int sbx_box_create(uint64_t size_bytes, uid_t uid, gid_t gid)
{
    char v[32];
    int fs, mnt = -1, r = 0;

    fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0)
        return -errno;
    snprintf(v, sizeof(v), "%" PRIu64, size_bytes);
    if (fsconfig(fs, FSCONFIG_SET_STRING, "size", v, 0) < 0)
        r = -errno;
    /* Each inode costs kernel memory that the size option does not count. */
    snprintf(v, sizeof(v), "%" PRIu64, size_bytes / 4096 + 64);
    if (!r && fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", v, 0) < 0)
        r = -errno;
    if (!r && fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0)
        r = -errno;
    snprintf(v, sizeof(v), "%u", (unsigned)uid);
    if (!r && fsconfig(fs, FSCONFIG_SET_STRING, "uid", v, 0) < 0)
        r = -errno;
    snprintf(v, sizeof(v), "%u", (unsigned)gid);
    if (!r && fsconfig(fs, FSCONFIG_SET_STRING, "gid", v, 0) < 0)
        r = -errno;
    if (!r && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        r = -errno;
    if (!r) {
        mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
        if (mnt < 0)
            r = -errno;
    }
    close(fs);
    return r < 0 ? r : mnt;
}

/* Opens (creating if needed) each directory of name's parent, never following links. */
static int open_parent(int box, const char *name, uid_t uid, gid_t gid, const char **base)
{
    char comp[NAME_MAX + 1];
    const char *p = name, *slash;
    int dir = fcntl(box, F_DUPFD_CLOEXEC, 3);

    while (dir >= 0 && (slash = strchr(p, '/')) != NULL) {
        size_t n = (size_t)(slash - p);
        int next;
        if (n > NAME_MAX) {
            close(dir);
            return -ENAMETOOLONG;
        }
        memcpy(comp, p, n);
        comp[n] = '\0';
        if (mkdirat(dir, comp, 0755) == 0) {
            next = openat(dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (next >= 0 && fchown(next, uid, gid) < 0) {
                close(next);
                next = -1;
            }
        } else {
            next = errno == EEXIST
                       ? openat(dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                       : -1;
        }
        close(dir);
        dir = next;
        p = slash + 1;
    }
    *base = p;
    return dir < 0 ? -errno : dir;
}

int sbx_box_put(int box, const struct sbx_file *f, uid_t uid, gid_t gid)
{
    const char *base;
    mode_t mode = f->executable ? 0755 : 0644;
    int dir, fd, r;

    if (!sbx_box_name_valid(f->name))
        return -EINVAL;
    dir = open_parent(box, f->name, uid, gid, &base);
    if (dir < 0)
        return dir;
    fd = openat(dir, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    r = fd < 0 ? -errno : 0;
    close(dir);
    if (r < 0)
        return r;
    r = sbx_write_all(fd, f->data, f->len);
    if (!r && (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0))
        r = -errno;
    close(fd);
    return r;
}

static int collect_error(struct sbx_collected *out, const char *error)
{
    out->error = error;
    return 0;
}

int sbx_box_collect(int box, const char *name, uint64_t max, struct sbx_collected *out)
{
    struct open_how how = {
        .flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                   RESOLVE_NO_XDEV,
    };
    struct stat st = {0};
    ssize_t n;
    int fd;

    memset(out, 0, sizeof(*out));
    out->name = strdup(name);
    if (!out->name)
        return -ENOMEM;
    if (!sbx_box_name_valid(name))
        return collect_error(out, "invalid name");
    fd = (int)syscall(SYS_openat2, box, name, &how, sizeof(how));
    if (fd < 0)
        return collect_error(out, errno == ENOENT ? "missing"
                                  : errno == ELOOP ? "symbolic link"
                                                   : "cannot open");
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
        (uint64_t)st.st_size > max) {
        int regular = S_ISREG(st.st_mode);
        close(fd);
        return collect_error(out, !regular           ? "not a regular file"
                                  : st.st_nlink != 1 ? "hard-linked"
                                                     : "too large");
    }
    out->data = malloc((size_t)st.st_size + 1);
    if (!out->data) {
        close(fd);
        return -ENOMEM;
    }
    n = sbx_read_full(fd, out->data, (size_t)st.st_size);
    close(fd);
    if (n != st.st_size) {
        free(out->data);
        out->data = NULL;
        return collect_error(out, "short read");
    }
    out->len = (size_t)n;
    return 0;
}
