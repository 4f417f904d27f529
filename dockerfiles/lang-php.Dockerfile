# runq/lang-php: PHP 8.2 (php-cli, with /etc/php as Debian configures it).
# The worker's Docker backend runs each job step here: a non-root uid of its choice, HOME=/box,
# /box a fresh writable tmpfs, the rest read-only, no network. Every command that
# config/languages.yaml gives for this language works under those conditions.
#
# Build runq/box (box.Dockerfile) first; then, from the repository's root (BASE defaults to
# debian:bookworm-slim; cli/runq-docker passes runq/debian:bookworm):
#   docker build --network host -t runq/lang-php \
#       -f dockerfiles/lang-php.Dockerfile dockerfiles
ARG BASE=debian:bookworm-slim
ARG BOX=runq/box:latest
FROM ${BOX} AS box

FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends php-cli \
 && rm -rf /var/lib/apt/lists/*
COPY --from=box /runq-box /usr/local/bin/runq-box
# The worker mounts a fresh tmpfs on /box per container; Docker gives that tmpfs this
# directory's mode, and 1777 lets whatever uid the job runs as write there. No set-user-ID
# or set-group-ID file is left (su, mount, passwd...): a job never needs one, and
# no-new-privileges is then not the only thing between a job and them.
RUN install -d -m 1777 /box \
 && find / -xdev -type f -perm /6000 -exec chmod ug-s {} +
# The environment the built-in sandbox gives every command (worker/sandbox/sbx_spec.c), as
# defaults; the worker passes its own.
ENV PATH=/usr/local/bin:/usr/bin:/bin HOME=/box TMPDIR=/tmp LANG=C.UTF-8
WORKDIR /box
LABEL org.runq.language=php
