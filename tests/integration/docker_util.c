/* SPDX-License-Identifier: MIT */
#include "docker_util.h"

#include <string.h>

#include "docker_api.h"
#include "docker_spec.h"

struct listing {
    int done;
    long count;
};

static void on_listed(int status, long http, json_t *body, const char *raw, const char *error,
                      void *data)
{
    struct listing *ls = data;

    (void)raw;
    (void)error;
    ls->done = 1;
    ls->count = status == 0 && http == 200 ? (long)json_array_size(body) : -1;
}

static void on_closed(void *data)
{
    (*(int *)data)++;
}

long du_count_owned(uv_loop_t *loop, const char *owner)
{
    struct docker_api *api = NULL;
    struct listing ls = {0, -1};
    char path[400] = "/containers/json?all=1&";
    int closed = 0;

    if (docker_spec_owner_filter(owner, path + strlen(path), sizeof(path) - strlen(path)) < 0 ||
        docker_api_open(loop, DU_SOCKET, &api) < 0)
        return -1;
    if (docker_api_request(api, "GET", path, NULL, 0, on_listed, &ls, NULL) == 0)
        while (!ls.done)
            uv_run(loop, UV_RUN_ONCE);
    docker_api_close(api, on_closed, &closed);
    while (!closed)
        uv_run(loop, UV_RUN_ONCE);
    return ls.count;
}
