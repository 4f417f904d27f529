/* SPDX-License-Identifier: MIT */
/* docker_attach: a container's stdin, stdout and stderr as one hijacked stream on a uv_pipe_t
 * connected to the engine's socket (libcurl cannot hand a hijacked connection over, so this
 * speaks its few lines of HTTP/1.1 itself).
 * The exchange, as the docker CLI makes it (moby client/hijack.go) and Docker 20.10 answers:
 *   POST /v1.41/containers/ID/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1
 *   Host: docker / Content-Length: 0 / Connection: Upgrade / Upgrade: tcp
 * answered "HTTP/1.1 101 UPGRADED" (200 OK from an engine asked without Upgrade), then raw
 * bytes both ways. The engine hooks the stream to the container before it answers, so a
 * container started after on_ready loses no output. With Tty false the output is
 * multiplexed: frames of an 8-byte header [stream (1 stdout, 2 stderr), 0, 0, 0, size as a
 * big-endian uint32] and size bytes. Errors before the upgrade come as a plain HTTP answer
 * (404 "No such container: ID", 409 for a paused container) whose body ends at EOF.
 * Does: connect, ask, check the answer (headers bounded to 16 KiB), demultiplex frames split
 * anywhere across reads and pass payloads through in pieces as they arrive (frames up to
 * 16 MiB, never buffered whole), queue stdin writes in order, half-close stdin, report the
 * end once. Must not: block the loop, apply a timeout (the caller's wall clock does: kill the
 * container and the stream ends), attach to a container with Tty true (its output is not
 * multiplexed), or write to the engine before its answer (bytes sent early may be lost: the
 * engine's HTTP server can read them ahead and drop them when it hijacks).
 * Requires: SIGPIPE ignored in the process (signal(SIGPIPE, SIG_IGN) in main): libuv writes
 * to the socket with write(2), and a write to a stream the engine closed (the container
 * exited without reading its stdin) must be an EPIPE, not the worker's death.
 * Stdin and StdinOnce, measured on Docker 20.10: with StdinOnce true, a half-close
 * (docker_attach_close_stdin) closes the container's stdin (the program reads EOF) and the
 * output keeps coming until the container exits. With StdinOnce false the same half-close
 * detaches stdout and stderr at once (the stream ends, the container runs on with stdin
 * open): create job containers with OpenStdin and StdinOnce true. Either way the stream ends
 * once the container exits, whether or not stdin was closed. */
#ifndef RUNQ_WORKER_DOCKER_ATTACH_H
#define RUNQ_WORKER_DOCKER_ATTACH_H

#include <stddef.h>
#include <uv.h>

#define DOCKER_ATTACH_HEADER_MAX (16u << 10)
#define DOCKER_ATTACH_FRAME_MAX (16u << 20)

struct docker_attach;

/* Callbacks run from the loop, never inside docker_attach_open() or docker_attach_write().
 * Each may call docker_attach_write, docker_attach_close_stdin or docker_attach_close. */
struct docker_attach_cbs {
    /* The engine answered 101/200: the container can be started, stdin written. */
    void (*on_ready)(void *data);
    /* Output: stream 1 stdout, 2 stderr (the engine's stream 0 is passed on as 1, as the
     * docker CLI does). A frame's payload may come in several pieces; bytes are borrowed,
     * valid during the call. */
    void (*on_data)(int stream, const char *bytes, size_t len, void *data);
    /* The last callback. status 0: the engine closed the stream at a frame boundary (the
     * container's stdout and stderr closed: it exited, or was killed). -errno on failure,
     * with a text: -ENOENT (no socket at the path, or HTTP 404: no such container),
     * -ECONNREFUSED (no engine listens), -EBUSY (HTTP 409: paused or restarting), -EINVAL
     * (another 4xx), -EIO (a 5xx or other status; the stream cut inside a frame; an error
     * frame from the engine), -EPROTO (an answer that is not HTTP, or not a multiplexed
     * stream), -EMSGSIZE (headers past DOCKER_ATTACH_HEADER_MAX), -ECONNRESET (closed before
     * answering), or what reading the socket failed with. HTTP errors read "HTTP 404 Not
     * Found: No such container: ID" (the engine's message). error is borrowed, NULL when
     * status is 0. A unix socket closed by the engine with stdin bytes of ours unread reads
     * ECONNRESET instead of EOF: that is the same end (status 0 at a frame boundary). */
    void (*on_end)(int status, const char *error, void *data);
};

/* Connects to socket_path and asks to attach to container_id (an id or a name: letters,
 * digits, '_', '.', '-'); strings are copied, cbs too. Returns 0 with *out set (every
 * outcome, a connect failure included, then comes through the callbacks), -EINVAL (no
 * callbacks, a bad id, a path too long for a unix socket), -ENOMEM. */
int docker_attach_open(uv_loop_t *loop, const char *socket_path, const char *container_id,
                       const struct docker_attach_cbs *cbs, void *data, struct docker_attach **out);

/* Queues bytes for the container's stdin, written in order; takes ownership of bytes
 * (malloc'ed; freed once written, and on every error return too). Allowed from on_ready on.
 * Returns 0, -ENOTCONN before on_ready, -EPIPE after the end, after
 * docker_attach_close_stdin or once a write failed (the engine closed the stream: on_end
 * tells how), -ENOMEM. len 0 is a no-op. */
int docker_attach_write(struct docker_attach *a, char *bytes, size_t len);

/* Half-closes the connection once the queued bytes are written (shutdown(SHUT_WR)): with
 * StdinOnce the container's stdin reaches EOF; the output keeps coming. Later writes fail
 * with -EPIPE. Returns 0 (also when already done), -ENOTCONN before on_ready, -EPIPE after
 * the end, or what uv_shutdown returned. */
int docker_attach_close_stdin(struct docker_attach *a);

/* Bytes queued but not yet written to the socket (for backpressure). */
size_t docker_attach_pending(const struct docker_attach *a);

/* Stops reading and closes the connection; no callback runs after this returns; a is freed
 * once libuv is done with the handle (queued stdin bytes are dropped). Safe from inside any
 * callback, and needed after on_end too. NULL is a no-op; a second call is not allowed. */
void docker_attach_close(struct docker_attach *a);

#endif
