# runq/box: runq-box, PID 1 of every job container of the Docker backend
# (worker/docker/runq_box.c, its parts box_input.c, box_run.c, box_out.c with their headers and
# box.h, and its protocol header box_proto.h), built once as a static binary so that any
# language image can take it with a COPY, whatever libc that image has.
# The final image holds that file alone.
#
#   docker build --network host -f dockerfiles/box.Dockerfile -t runq/box .
#   docker build --network host --build-arg BASE=runq/debian:bookworm \
#       -f dockerfiles/box.Dockerfile -t runq/box .
# (from the repository's root; cli/runq-docker sends a context of the two sources alone)
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY worker/docker/runq_box.c worker/docker/box.h worker/docker/box_proto.h \
     worker/docker/box_input.c worker/docker/box_input.h \
     worker/docker/box_run.c worker/docker/box_run.h \
     worker/docker/box_out.c worker/docker/box_out.h ./
RUN gcc -O2 -static -o /runq-box runq_box.c box_input.c box_run.c box_out.c

FROM scratch
COPY --from=build /runq-box /runq-box
LABEL org.runq.box=1
