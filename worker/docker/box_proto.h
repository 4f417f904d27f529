/* SPDX-License-Identifier: MIT */
/* box_proto: the byte protocol between the worker and runq-box, the supervisor that is PID 1
 * of every job container of the Docker backend (docs/DOCKER.md).
 * The worker writes records to the container's stdin (the attach stream); runq-box answers
 * with records on its stdout. Every record is one type byte, a 4-byte big-endian payload
 * length, then the payload. This header is shared by both sides and is all they share: plain
 * constants, no code, nothing from outside libc (runq-box is built alone, statically, inside
 * an image). Must not: grow behaviour; the codecs live in runq-box (runq_box.c and its box_*
 * modules) and docker_box.c. */
#ifndef RUNQ_BOX_PROTO_H
#define RUNQ_BOX_PROTO_H

#define BOX_PROTO_VERSION 1
#define BOX_HEADER_SIZE 5
/* Bigger payloads are a protocol error on either side. */
#define BOX_PAYLOAD_MAX (64u << 20)

/* Worker -> runq-box, in this order: KEY, then ARG+ ENV* LIMIT* FILE* COLLECT* STDIN*, then
 * GO. Nothing runs before GO; runq-box reads all of its input first, so once the program
 * runs nothing is left on the container's stdin for it to steal. */
enum box_in_type {
    BOX_IN_KEY = 'k',     /* a per-run secret (16..64 bytes); the RESULT record repeats it */
    BOX_IN_ARG = 'a',     /* one argv element, argv[0] first (searched in the PATH of ENV) */
    BOX_IN_ENV = 'e',     /* one "NAME=value" of the program's environment */
    BOX_IN_LIMIT = 'l',   /* "name=decimal", names below */
    BOX_IN_FILE = 'f',    /* u8 executable (0/1), the name, NUL, the bytes: a file in /box */
    BOX_IN_COLLECT = 'c', /* a /box name whose content comes back after the run */
    BOX_IN_STDIN = 'i',   /* a piece of the program's stdin (several allowed) */
    BOX_IN_GO = 'g',      /* empty: the input is complete, run */
};

/* LIMIT names. Memory, processes and the CPU share are the container's (HostConfig). */
#define BOX_LIMIT_CPU_MS "cpu_ms"             /* the whole tree's CPU time, from its cgroup */
/* From the program's start; past it the tree is killed (killed_for=wall) and the run reports
 * as usual. The worker kills the whole container a little later, as a backstop. */
#define BOX_LIMIT_WALL_MS "wall_ms"
#define BOX_LIMIT_OUTPUT_BYTES "output_bytes" /* per stream; past it the tree is killed */
#define BOX_LIMIT_FILE_BYTES "file_bytes"     /* RLIMIT_FSIZE */
#define BOX_LIMIT_OPEN_FILES "open_files"     /* RLIMIT_NOFILE */
#define BOX_LIMIT_STACK_BYTES "stack_bytes"   /* RLIMIT_STACK */
#define BOX_LIMIT_ADDRESS_SPACE "address_space" /* RLIMIT_AS, 0 = none */
#define BOX_LIMIT_COLLECT_BYTES "collect_bytes" /* largest file COLLECT returns */

/* runq-box -> worker. Any number of STDOUT/STDERR while the program runs, then one FILE or
 * FILE_ERROR per COLLECT, then RESULT, last; runq-box exits 0 after it. */
enum box_out_type {
    BOX_OUT_STDOUT = 'o',     /* program output, never more than output_bytes in all */
    BOX_OUT_STDERR = 'e',
    BOX_OUT_FILE = 'f',       /* the name, NUL, the bytes */
    BOX_OUT_FILE_ERROR = 'x', /* the name, NUL, why (missing, not a regular file, ...) */
    BOX_OUT_RESULT = 'r',     /* "name=value\n" lines, names below */
};

/* FILE_ERROR reasons, the built-in sandbox's own texts (worker/sandbox/sbx_box.c): the
 * worker shows one of these, never other bytes from the container. */
#define BOX_COLLECT_MISSING "missing"
#define BOX_COLLECT_SYMLINK "symbolic link"
#define BOX_COLLECT_CANNOT_OPEN "cannot open"
#define BOX_COLLECT_NOT_REGULAR "not a regular file"
#define BOX_COLLECT_HARD_LINKED "hard-linked"
#define BOX_COLLECT_TOO_LARGE "too large"

/* RESULT lines. Numbers are decimal. "key" must equal the KEY record's bytes as sent (hex
 * is fine: the worker sends text): a RESULT without it is forged, and the run fails. */
#define BOX_RESULT_KEY "key"
#define BOX_RESULT_EXITED "exited"           /* 1: wait_status holds the program's status */
#define BOX_RESULT_WAIT_STATUS "wait_status" /* as from waitpid() */
#define BOX_RESULT_KILLED_FOR "killed_for"   /* none | cpu | wall | output */
#define BOX_RESULT_CPU_US "cpu_us"           /* the tree's CPU time */
#define BOX_RESULT_MEMORY_KB "memory_peak_kb"
#define BOX_RESULT_OOM_KILLS "oom_kills"     /* OOM kills seen in the container's cgroup */
#define BOX_RESULT_ORPHAN_SIGSYS "orphan_sigsys" /* a reaped descendant died of SIGSYS */
#define BOX_RESULT_EXEC_ERRNO "exec_errno"   /* execve of argv[0] failed with this errno */
#define BOX_RESULT_STDOUT_TRUNCATED "stdout_truncated"
#define BOX_RESULT_STDERR_TRUNCATED "stderr_truncated"
#define BOX_RESULT_INTERNAL_ERROR "internal_error" /* runq-box failed: why, as text */

#endif
