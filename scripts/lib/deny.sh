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

# check_dependencies: licenses, bans and sources always; advisories when
# RustSec's database can be fetched (it comes from GitHub, which the
# project's own machines do not reach: there the step says it was skipped).
check_dependencies() {
  ensure_deny
  (cd "$TODO_ROOT" && "$TODO_CARGO_DENY" --log-level error check licenses bans sources) \
    || die "cargo deny found problems in the dependencies (deny.toml)"
  local db=$TODO_CACHE/advisory-dbs
  if (cd "$TODO_ROOT" && "$TODO_CARGO_DENY" --log-level error check --db-path "$db" advisories) 2>"$RUN/advisories.log"; then
    log "cargo deny: licenses, bans, sources and advisories clean"
  elif grep -qiE 'fetch|clone|network|resolve|connect' "$RUN/advisories.log"; then
    log "cargo deny: licenses, bans and sources clean; advisories SKIPPED: RustSec's database cannot be fetched here ($(grep -m1 -iE 'fetch|clone|network|resolve|connect' "$RUN/advisories.log" | cut -c1-120))"
  else
    cat "$RUN/advisories.log" >&2
    die "cargo deny found advisories in the dependencies"
  fi
}
