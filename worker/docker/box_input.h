/* SPDX-License-Identifier: MIT */
/* box_input: runq-box's input, the records of box_proto.h on fd 0, read with blocking reads
 * (nothing else happens before GO). The KEY first, then ARG, ENV, LIMIT, FILE, COLLECT, STDIN
 * and GO in that order, each checked: the lists and limits fill a struct job, the FILEs are
 * written beneath the /box fd, the STDINs go into a memfd, sealed at GO.
 * Must not: start anything (nothing runs unless the whole input is valid, which only
 * box_input_records() returning 0 says); copy an input byte into j->why (it goes on a RESULT
 * line); follow a link while it writes /box (it comes from the image); hold a FILE or a STDIN
 * in memory (each may be 64 MiB). */
#ifndef RUNQ_BOX_INPUT_H
#define RUNQ_BOX_INPUT_H

#include "box.h"

/* An empty job: the default limits, no stdin yet. */
void box_input_init(struct job *j);

/* Reads the first record into j->key. NULL, or why the input is refused: without the KEY no
 * RESULT can be trusted, so the caller sends none. */
const char *box_input_key(struct job *j);

/* Everything after KEY through GO; box is the /box fd, beneath which the FILEs go. 0, or -1
 * with j->why. */
int box_input_records(int box, struct job *j);

/* Frees the lists and closes the stdin memfd, valid job or not. */
void box_input_free(struct job *j);

#endif
