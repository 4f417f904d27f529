/* SPDX-License-Identifier: MIT */
#include "backend.h"

#include <errno.h>

#include "docker_pool.h"

int backend_is_docker(const struct runner_env *env, const struct language *lang)
{
    return languages_uses_docker(lang, env->cfg->worker.backend);
}

int backend_run(struct runner_env *env, const struct language *lang, const char *payload,
                size_t len, slot_run_cb cb, slot_output_cb on_output, void *data,
                struct backend_slot *out)
{
    char image[256];
    int r;

    out->docker = backend_is_docker(env, lang);
    if (!out->docker)
        return env->pool ? slot_pool_run(env->pool, payload, len, cb, on_output, data,
                                         &out->slot)
                         : -ENODEV;
    if (!env->docker)
        return -ENODEV;
    r = languages_image(lang, env->cfg->docker.image_prefix, env->cfg->docker.image_tag, image,
                        sizeof(image));
    if (r < 0)
        return r;
    return docker_pool_run(env->docker, image, payload, len, cb, on_output, data, &out->slot);
}

int backend_cancel(struct runner_env *env, const struct backend_slot *s)
{
    if (s->docker)
        return env->docker ? docker_pool_cancel(env->docker, s->slot) : -EINVAL;
    return env->pool ? slot_pool_cancel(env->pool, s->slot) : -EINVAL;
}

unsigned backend_idle(const struct runner_env *env, const struct language *lang)
{
    /* Without its pool a language's run fails at once (-ENODEV): it must not wait for a
     * slot that never comes. */
    if (backend_is_docker(env, lang))
        return env->docker ? docker_pool_idle(env->docker) : 1;
    return env->pool ? slot_pool_idle(env->pool) : 1;
}
