# The services that the end-to-end tests and the benchmarks share: a Dapr
# scheduler, a private PostgreSQL cluster and a Kafka broker in a temporary
# folder, stopped and removed when the calling script exits. Exports what
# tests/e2e reads.

# Kafka's part lives beside this file; the scripts that source this one need
# not know it.
source "$(dirname "${BASH_SOURCE[0]}")/kafka.sh"

start_shared_services() {
  build_app
  ensure_dapr
  ensure_postgres
  ensure_kafka
  RUN=$(mktemp -d "${TMPDIR:-/tmp}/todo-run.XXXXXX")
  [[ ${#PG_AS[@]} == 0 ]] || chmod 755 "$RUN"
  service_pids=()
  trap stop_shared_services EXIT INT TERM
  log "starting the Dapr scheduler, PostgreSQL and Kafka in $RUN"
  start_scheduler "$RUN/scheduler"
  service_pids+=("$SCHEDULER_PID")
  start_postgres "$RUN/pg"
  start_kafka "$RUN/kafka"
  service_pids+=("$KAFKA_PID")
  export TODO_HOST_BIN DAPRD
  export TODO_SCHEDULER_ADDRESS=127.0.0.1:$SCHEDULER_PORT
  export TODO_PG_PORT=$PG_PORT
  export TODO_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
  # What the broker says it is, for the test that holds the pubsub
  # component's protocol version to it.
  export TODO_KAFKA_VERSION=$KAFKA_RUNNING_VERSION
  export TODO_TEST_DIR=$RUN/e2e
  mkdir -p "$TODO_TEST_DIR"
}

stop_shared_services() {
  trap - EXIT INT TERM
  local pid
  for pid in "${service_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${service_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  stop_postgres "$RUN/pg"
  # TODO_KEEP_RUN=1 keeps the logs and data, to look into a failure.
  if [[ ${TODO_KEEP_RUN:-} == 1 ]]; then log "kept $RUN"; else rm -rf "$RUN"; fi
}
