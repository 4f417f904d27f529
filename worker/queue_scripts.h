/* SPDX-License-Identifier: MIT */
/* queue_scripts: the Lua scripts of the Redis queue (text only; rq sends them).
 * Each script touches the keys of one queue only (all hash-tagged {Q}); job hashes are named
 * from ARGV's job prefix + id inside the script, which stays in the queue's slot.
 * Does: hold the script sources and their names.
 * Must not: do I/O, know about hiredis, or hold key names (common/keys builds them); it
 * allocates only the text it returns. */
#ifndef RUNQ_WORKER_QUEUE_SCRIPTS_H
#define RUNQ_WORKER_QUEUE_SCRIPTS_H

enum queue_script {
    QUEUE_SCRIPT_ENQUEUE,
    QUEUE_SCRIPT_START,
    QUEUE_SCRIPT_TAKE,
    QUEUE_SCRIPT_RETRY,
    QUEUE_SCRIPT_NOTE,
    QUEUE_SCRIPT_BATCH_ENQUEUE,
    QUEUE_SCRIPT_BATCH_CANCEL,
    QUEUE_SCRIPT_BATCH_GET,
    QUEUE_SCRIPT_FINISH,
    QUEUE_SCRIPT_RECOVER,
    QUEUE_SCRIPT_CANCEL,
    QUEUE_SCRIPT_ADOPT,
    QUEUE_SCRIPT_DEPTH,
    QUEUE_SCRIPT_RELEASE,
    QUEUE_SCRIPT_DELETE,
    QUEUE_SCRIPT_COUNT
};

/* The Lua source of script s, malloc'ed (the caller frees it), or NULL when s is out of
 * range or out of memory. */
char *queue_script_text(enum queue_script s);

#endif
