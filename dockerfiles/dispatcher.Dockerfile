# runq/dispatcher: runq-dispatcher (and the runq CLI, for checks from inside) built from this
# repository, on a runtime image with the shared libraries they link and nothing to build with.
#
#   docker build --network host -f dockerfiles/dispatcher.Dockerfile -t runq/dispatcher .
#   docker build --network host --build-arg BASE=runq/debian:bookworm \
#       -f dockerfiles/dispatcher.Dockerfile -t runq/dispatcher .
#
# (the first from debian:bookworm-slim, the second from the base cli/runq-docker imports)
#
# The build stage is the same, line for line, as worker.Dockerfile's, so whichever image is
# built second takes all of it from the layer cache.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
# build_pkgs of cli/install-deps
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev \
      meson ninja-build pkg-config libjansson-dev libseccomp-dev libuv1-dev libhiredis-dev \
      libpq-dev libyaml-dev libhttp-parser-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# What meson needs, no more: a change to docs/ or dockerfiles/ keeps the build cached.
COPY meson.build meson_options.txt ./
COPY common common
COPY worker worker
COPY dispatcher dispatcher
COPY cli cli
COPY bench bench
COPY tests tests
COPY config config
# The project's own build type (debugoptimized, -Werror); only the fleet's binaries are
# compiled, not the tests, and they are installed stripped.
RUN meson setup /build -Dintegration_tests=false >/dev/null \
 && ninja -C /build worker/runq-worker worker/sandbox/runq-sandbox dispatcher/runq-dispatcher \
      cli/runq \
 && install -D -s -m 0755 -t /out/usr/local/bin /build/worker/runq-worker \
      /build/worker/sandbox/runq-sandbox /build/dispatcher/runq-dispatcher /build/cli/runq \
 && install -D -m 0644 -t /out/etc/runq config/runq.yaml config/languages.yaml

FROM ${BASE}
# The libraries that the fleet's binaries link (libcurl4 and ca-certificates: webhooks), one
# list in worker.Dockerfile and dispatcher.Dockerfile, so that this layer is shared too.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libuv1 libpq5 \
      libhiredis0.14 libcurl4 libjansson4 libyaml-0-2 libseccomp2 libhttp-parser2.9 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/usr/local/bin/runq-dispatcher /out/usr/local/bin/runq /usr/local/bin/
COPY --from=build /out/etc/runq /etc/runq
# Fails the build if a library is missing from the list above.
RUN ! ldd /usr/local/bin/runq-dispatcher /usr/local/bin/runq | grep 'not found'
# Any unprivileged uid will do: the dispatcher only reads its config and talks TCP.
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["runq-dispatcher", "-c", "/etc/runq/runq.yaml", "-l", "/etc/runq/languages.yaml"]
LABEL org.runq.component=dispatcher
