# runq/postgres: Debian's postgresql-15, for compose.yaml where no registry (and so no official
# postgres image) can be reached. Configured like the official image: POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB on first start (postgres-entrypoint.sh), data in PGDATA.
#
#   docker build --network host --build-arg BASE=runq/debian:bookworm \
#       -f dockerfiles/postgres.Dockerfile -t runq/postgres .
ARG BASE=debian:bookworm-slim
FROM ${BASE}
# No "main" cluster from the package's postinst: the entrypoint makes one in PGDATA.
RUN mkdir -p /etc/postgresql-common/createcluster.d \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/runq.conf \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data \
 && install -d -o postgres -g postgres -m 2775 /var/run/postgresql
COPY dockerfiles/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
VOLUME /var/lib/postgresql/data
EXPOSE 5432
# Through sh: the script works whether or not a checkout kept its executable bit.
ENTRYPOINT ["/bin/sh", "/usr/local/bin/postgres-entrypoint"]
CMD ["postgres"]
LABEL org.runq.component=postgres
