# daprd and the Dapr scheduler: reused from PATH or ~/.dapr/bin when there,
# otherwise built once from the Go module proxy into $TODO_CACHE/dapr-<version>.
# Sets DAPRD and DAPR_SCHEDULER.

ensure_dapr() {
  local dir=$TODO_CACHE/dapr-$DAPR_VERSION
  DAPRD=$(command -v daprd || true)
  [[ -n $DAPRD ]] || { [[ -x $HOME/.dapr/bin/daprd ]] && DAPRD=$HOME/.dapr/bin/daprd; } || true
  DAPR_SCHEDULER=$(command -v scheduler || true)
  [[ -n $DAPR_SCHEDULER ]] || { [[ -x $HOME/.dapr/bin/scheduler ]] && DAPR_SCHEDULER=$HOME/.dapr/bin/scheduler; } || true
  if [[ -z $DAPRD || -z $DAPR_SCHEDULER ]]; then
    if [[ ! -x $dir/daprd || ! -x $dir/scheduler ]]; then
      command -v go >/dev/null || die "Go is needed to build daprd (https://go.dev/dl)"
      log "building daprd and scheduler $DAPR_VERSION with Go (once; about 7 minutes on 2 cores)"
      mkdir -p "$dir.tmp"
      (cd "$TODO_ROOT/tools/dapr" && CGO_ENABLED=0 go build -mod=readonly -tags stablecomponents \
        -ldflags "-X github.com/dapr/dapr/pkg/buildinfo.version=$DAPR_VERSION" \
        -o "$dir.tmp/" github.com/dapr/dapr/cmd/daprd github.com/dapr/dapr/cmd/scheduler) \
        || die "building Dapr failed"
      rm -rf "$dir" && mv "$dir.tmp" "$dir"
    fi
    [[ -n $DAPRD ]] || DAPRD=$dir/daprd
    [[ -n $DAPR_SCHEDULER ]] || DAPR_SCHEDULER=$dir/scheduler
  fi
  export DAPRD DAPR_SCHEDULER
}

# start_scheduler DIR: a standalone scheduler with its embedded etcd in DIR
# (scripts/lib/run-scheduler), every port free and on loopback. Sets
# SCHEDULER_PORT and SCHEDULER_PID.
start_scheduler() {
  local dir=$1 health
  SCHEDULER_PORT=$(free_port)
  mkdir -p "$dir"
  "$TODO_ROOT/scripts/lib/run-scheduler" "$dir" "$SCHEDULER_PORT" >"$dir/scheduler.log" 2>&1 &
  SCHEDULER_PID=$!
  wait_for_file "$dir/ports" 10 || die "the scheduler did not start; see $dir/scheduler.log"
  read -r _ _ health _ <"$dir/ports"
  wait_for_http "http://127.0.0.1:$health/healthz" 60 || die "the scheduler did not start; see $dir/scheduler.log"
}

# start_daprd PROFILE DATA_DIR LOG_DIR APP_PORT: daprd for app id "todo" with
# the profile's resources (scripts/lib/run-daprd), its HTTP API on
# DAPR_HTTP_PORT (a free port unless already set). Sets DAPRD_PID.
start_daprd() {
  local profile=$1 data=$2 logs=$3 app_port=$4
  DAPR_HTTP_PORT=${DAPR_HTTP_PORT:-$(free_port)}
  TODO_SCHEDULER_ADDRESS=127.0.0.1:$SCHEDULER_PORT \
    "$TODO_ROOT/scripts/lib/run-daprd" "$profile" "$data" "$app_port" "$DAPR_HTTP_PORT" >"$logs/daprd.log" 2>&1 &
  DAPRD_PID=$!
  wait_for_http "http://127.0.0.1:$DAPR_HTTP_PORT/v1.0/healthz" 60 \
    || die "daprd did not start; see $logs/daprd.log"
}

# app_environment PROFILE: exports what the app and its sidecar share beside
# the profile's resources: the token daprd presents on its calls to the app
# (APP_API_TOKEN for daprd, SPIN_VARIABLE_APP_API_TOKEN for the app) and the
# one the app presents on its calls to daprd (DAPR_API_TOKEN,
# SPIN_VARIABLE_DAPR_API_TOKEN), new random ones unless set, and the Spin
# variables of deploy/dapr/PROFILE/app.env.
app_environment() {
  local profile=$1 line
  APP_API_TOKEN=${APP_API_TOKEN:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')}
  DAPR_API_TOKEN=${DAPR_API_TOKEN:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')}
  export APP_API_TOKEN SPIN_VARIABLE_APP_API_TOKEN=$APP_API_TOKEN
  export DAPR_API_TOKEN SPIN_VARIABLE_DAPR_API_TOKEN=$DAPR_API_TOKEN
  if [[ -f $TODO_ROOT/deploy/dapr/$profile/app.env ]]; then
    while IFS= read -r line; do
      [[ -z $line || $line == \#* ]] || export "${line?}"
    done <"$TODO_ROOT/deploy/dapr/$profile/app.env"
  fi
}
