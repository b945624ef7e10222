# A private PostgreSQL cluster from Debian's packages, on loopback and a
# port of its own; it never touches a system cluster.

ensure_postgres() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [[ -z $PG_BIN || ! -x $PG_BIN/pg_ctl ]]; then
    apt_install postgresql
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  command -v psql >/dev/null || apt_install postgresql-client
  # PostgreSQL refuses to run as root; root runs it as the postgres user.
  PG_AS=()
  [[ $(id -u) == 0 ]] && PG_AS=(runuser -u postgres --)
  return 0
}

# start_postgres DIR: initialises DIR/pgdata once, then starts it on a free
# port. Sets PG_PORT. Data in DIR survives a stop.
start_postgres() {
  local dir=$1
  ensure_postgres
  mkdir -p "$dir"
  [[ ${#PG_AS[@]} == 0 ]] || chown postgres "$dir"
  if [[ ! -f $dir/pgdata/PG_VERSION ]]; then
    "${PG_AS[@]}" "$PG_BIN/initdb" -D "$dir/pgdata" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
      || die "initdb failed; see $dir/initdb.log"
  fi
  PG_PORT=$(free_port)
  # Room for several apps at once (a test binary runs a few stacks side by
  # side), each pooling up to 64 connections as Spin does.
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$dir/pgdata" -l "$dir/postgres.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $dir -c fsync=on -c max_connections=400" start >/dev/null \
    || die "PostgreSQL did not start; see $dir/postgres.log"
  # How to restart it at once, as a crash would (bench/run soak).
  TODO_PG_RESTART="${PG_AS[*]} $PG_BIN/pg_ctl -D $dir/pgdata -l $dir/postgres.log -w -t 60 -m immediate restart"
  export PG_PORT TODO_PG_RESTART
}

stop_postgres() {
  local dir=$1
  [[ -f $dir/pgdata/postmaster.pid ]] || return 0
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$dir/pgdata" -m fast -w stop >/dev/null 2>&1 || true
}
