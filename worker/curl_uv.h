/* SPDX-License-Identifier: MIT */
/* curl_uv: drives a libcurl multi handle from a libuv loop, for the worker's HTTP clients
 * (webhook, docker_api). curl's multi socket API says which sockets to watch (one uv_poll
 * each) and when to call it back (one uv_timer); every byte moves in
 * curl_multi_socket_action from those callbacks, and finished transfers are read with
 * curl_multi_info_read and handed to their callback.
 * Does: add configured easy handles and report each one's end once, from the loop; take
 * unfinished ones out; close every handle it opened before freeing itself.
 * Must not: configure a transfer (the caller sets every option, including CURLOPT_NOSIGNAL),
 * clean up an easy handle (they stay the caller's), call a callback from inside
 * curl_uv_add(), or free memory before its handles' close callbacks have run.
 * Uses CURLOPT_PRIVATE of the handles it holds: keep your own pointer in `data` instead.
 * Requires: curl_global_init() was called once in main() before curl_uv_open(). */
#ifndef RUNQ_WORKER_CURL_UV_H
#define RUNQ_WORKER_CURL_UV_H

#include <curl/curl.h>
#include <uv.h>

struct curl_uv;

/* A transfer's end: result is its CURLcode (CURLE_OK when an answer came, whatever its HTTP
 * status). The handle is already out of the multi handle: cb may curl_easy_getinfo it, then
 * curl_easy_cleanup it, add more transfers, or close cu. */
typedef void (*curl_uv_done_cb)(CURL *easy, CURLcode result, void *data);

/* Returns 0 with *out set, or -ENOMEM. */
int curl_uv_open(uv_loop_t *loop, struct curl_uv **out);

/* Adds a configured easy handle; cb runs once when it is done (from the loop, never inside
 * this call). The easy handle stays the caller's: it calls curl_easy_cleanup after cb or
 * after curl_uv_remove. Returns 0, -EINVAL (no easy or cb), -ESHUTDOWN (closing), -ENOMEM
 * (also when curl refuses the handle, e.g. one added twice). */
int curl_uv_add(struct curl_uv *cu, CURL *easy, curl_uv_done_cb cb, void *data);

/* Takes an unfinished transfer out; its cb never runs. Also callable from another
 * transfer's cb. An easy handle cu does not hold is ignored. */
void curl_uv_remove(struct curl_uv *cu, CURL *easy);

/* Every transfer must have been removed or finished (a forgotten one is taken out without
 * its cb, and stays the caller's to clean up). Cached connections are closed, then every
 * uv handle; cu is freed and cb(data) runs (cb may be NULL) from the loop: keep running it.
 * cu must not be used after this call. Callable from a transfer's cb. */
void curl_uv_close(struct curl_uv *cu, void (*cb)(void *data), void *data);

#endif
