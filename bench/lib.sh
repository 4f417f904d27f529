# Shared by the fleet benchmarks (sourced, not run): a Redis and a PostgreSQL of their own
# (cli/runq-services) in a temporary directory, a dispatcher and a worker on them, cleanup.
# The caller sets: build, state, http (host:port), and optionally servers_cpu / worker_cpu
# (taskset prefixes) before calling bench_start; bench_worker starts the worker. SLOTS: the
# worker's slots (default 2).
#   bench_start LANGUAGES_YAML   services, runq.yaml, the dispatcher; waits for it
#   bench_worker FIRST_SLOT      a worker in the background (its pid in $state/worker.pid)
#   sql "QUERY"                  psql on the benchmark's database, unaligned, tuples only

servers_cpu=${servers_cpu:-}
worker_cpu=${worker_cpu:-}

bench_cleanup() {
    for p in dispatcher worker; do
        [ -f "$state/$p.pid" ] && kill "$(cat "$state/$p.pid")" 2>/dev/null || true
    done
    sleep 0.5
    cli/runq-services stop "$state" >/dev/null 2>&1 || true
    rm -rf "$state"
}

bench_start() {
    eval "$($servers_cpu cli/runq-services start "$state")"
    cat > "$state/runq.yaml" <<YAML
dispatcher:
  listen: $http
redis:
  url: $REDIS_URL
postgres:
  url: $POSTGRES_URL
queues:
  default: 100000000
worker:
  slots: ${SLOTS:-2}
YAML
    cp "$1" "$state/languages.yaml"
    $servers_cpu "$build/dispatcher/runq-dispatcher" -c "$state/runq.yaml" \
        -l "$state/languages.yaml" 2>"$state/dispatcher.log" &
    echo $! > "$state/dispatcher.pid"
    until curl -sf "http://$http/healthz" >/dev/null; do sleep 0.1; done
}

bench_worker() {
    $worker_cpu "$build/worker/runq-worker" -c "$state/runq.yaml" -l "$state/languages.yaml" \
        --first-slot "$1" 2>"$state/worker.log" &
    echo $! > "$state/worker.pid"
}

sql() { psql -X -qtA -h 127.0.0.1 -p "$RUNQ_LOCAL_PG_PORT" -U runq -d runq -c "$1"; }
now() { date +%s.%N; }
