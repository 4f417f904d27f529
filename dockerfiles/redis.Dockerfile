# runq/redis: Debian's redis-server (7.0), for compose.yaml where no registry (and so no
# official redis image) can be reached. Data in /data, appendonly with fsync always, as
# cli/runq-services runs it: an acknowledged enqueue must survive a crash.
#
#   docker build --network host --build-arg BASE=runq/debian:bookworm \
#       -f dockerfiles/redis.Dockerfile -t runq/redis .
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o redis -g redis -m 0750 /data
USER redis
WORKDIR /data
VOLUME /data
EXPOSE 6379
# No password: the port is reachable only on the fleet's own network (compose.yaml does not
# publish it). protected-mode would refuse those clients, so it is off.
CMD ["redis-server", "--bind", "0.0.0.0", "--port", "6379", "--protected-mode", "no", \
     "--dir", "/data", "--save", "", "--appendonly", "yes", "--appendfsync", "always"]
LABEL org.runq.component=redis
