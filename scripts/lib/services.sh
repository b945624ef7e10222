# The services that the end-to-end tests and the benchmarks share: a Dapr
# scheduler and a private PostgreSQL cluster in a temporary folder, stopped
# and removed when the calling script exits. Exports what tests/e2e reads.

start_shared_services() {
  build_app
  ensure_dapr
  ensure_postgres
  RUN=$(mktemp -d "${TMPDIR:-/tmp}/todo-run.XXXXXX")
  [[ ${#PG_AS[@]} == 0 ]] || chmod 755 "$RUN"
  service_pids=()
  trap stop_shared_services EXIT INT TERM
  log "starting the Dapr scheduler and PostgreSQL in $RUN"
  start_scheduler "$RUN/scheduler"
  service_pids+=("$SCHEDULER_PID")
  start_postgres "$RUN/pg"
  export TODO_HOST_BIN DAPRD
  export TODO_SCHEDULER_ADDRESS=127.0.0.1:$SCHEDULER_PORT
  export TODO_PG_PORT=$PG_PORT
  export TODO_TEST_DIR=$RUN/e2e
  mkdir -p "$TODO_TEST_DIR"
}

stop_shared_services() {
  trap - EXIT INT TERM
  local pid
  for pid in "${service_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${service_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  stop_postgres "$RUN/pg"
  rm -rf "$RUN"
}
