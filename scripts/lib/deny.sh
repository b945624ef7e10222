# cargo-deny from crates.io, built once under $TODO_CACHE by version, for
# the dependency checks of scripts/test (deny.toml). Sets TODO_CARGO_DENY.
CARGO_DENY_VERSION=0.18.9

ensure_deny() {
  local root=$TODO_CACHE/cargo-deny-$CARGO_DENY_VERSION
  if [[ ! -x $root/bin/cargo-deny ]]; then
    log "building cargo-deny $CARGO_DENY_VERSION (once)"
    CARGO_TARGET_DIR=$TODO_CACHE/cargo-deny-build cargo install --quiet --locked \
      --version "$CARGO_DENY_VERSION" --root "$root" cargo-deny || die "building cargo-deny failed"
    rm -rf "$TODO_CACHE/cargo-deny-build"
  fi
  TODO_CARGO_DENY=$root/bin/cargo-deny
}

# The dated snapshot of RustSec's database beside the repository
# (../shared/advisory-db), made into the git repository cargo-deny opens
# with fetching disabled (where cargo-deny 0.18.9 keeps the database of
# RustSec's URL), once per snapshot. Sets ADVISORY_SNAPSHOT (its commit and
# date) when it is there.
use_advisory_snapshot() {
  local snapshot=$TODO_ROOT/../shared/advisory-db note commit day db
  note=$snapshot/SNAPSHOT.md
  [[ -f $note ]] || return 1
  commit=$(sed -n 's/.*commit \([0-9a-f]\{40\}\).*/\1/p' "$note")
  day=$(sed -n 's/.* of \([0-9]\{4\}-[0-9]\{2\}-[0-9]\{2\}\).*/\1/p' "$note")
  [[ -n $commit && -n $day ]] || return 1
  db=$HOME/.cargo/advisory-dbs/advisory-db-3157b0e258782691
  if [[ $(cat "$db/.git/todo-snapshot" 2>/dev/null) != "$commit" ]]; then
    rm -rf "$db" && mkdir -p "$db"
    cp -R "$snapshot/." "$db/"
    chmod -R u+w "$db"
    (cd "$db" && git init -q && git add -A \
      && GIT_AUTHOR_DATE="${day}T00:00:00Z" GIT_COMMITTER_DATE="${day}T00:00:00Z" \
        git -c user.name=snapshot -c user.email=snapshot@localhost commit -qm "RustSec advisory-db $commit") \
      || die "could not make a database of the advisory snapshot"
    echo "$commit" >"$db/.git/todo-snapshot"
  fi
  ADVISORY_SNAPSHOT="the snapshot of RustSec's database of $day (commit ${commit:0:12}, $(( ($(date +%s) - $(date -d "$day" +%s)) / 86400 )) days old)"
}

# check_dependencies: licenses, bans and sources always; advisories against
# RustSec's database: fetched on GitHub Actions; elsewhere against the
# dated snapshot beside the repository (saying which and how old), or a
# copy already in ~/.cargo/advisory-dbs, and otherwise skipped, saying so
# (the database comes from GitHub, which the project's own machines do not
# reach).
check_dependencies() {
  ensure_deny
  (cd "$TODO_ROOT" && "$TODO_CARGO_DENY" --log-level error check licenses bans sources) \
    || die "cargo deny found problems in the dependencies (deny.toml)"
  local fetch=() against="RustSec's database"
  if [[ ${GITHUB_ACTIONS:-} != true ]]; then
    if use_advisory_snapshot; then
      against=$ADVISORY_SNAPSHOT
    elif ! compgen -G "$HOME/.cargo/advisory-dbs/advisory-db-*/.git" >/dev/null; then
      log "cargo deny: licenses, bans and sources clean; advisories SKIPPED: no copy of RustSec's database here, and it cannot be fetched from this machine"
      return 0
    fi
    fetch=(--disable-fetch)
  fi
  log "cargo deny: advisories against $against"
  (cd "$TODO_ROOT" && "$TODO_CARGO_DENY" --log-level error check "${fetch[@]}" advisories) \
    || die "cargo deny found advisories in the dependencies"
  log "cargo deny: licenses, bans, sources and advisories clean"
}
