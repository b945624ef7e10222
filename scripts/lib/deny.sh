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

# check_dependencies: licenses, bans and sources always; advisories against
# RustSec's database: fetched on GitHub Actions, used as it is where a copy
# is already in ~/.cargo/advisory-dbs, and otherwise skipped, saying so (the
# database comes from GitHub, which the project's own machines do not reach).
check_dependencies() {
  ensure_deny
  (cd "$TODO_ROOT" && "$TODO_CARGO_DENY" --log-level error check licenses bans sources) \
    || die "cargo deny found problems in the dependencies (deny.toml)"
  local fetch=()
  if [[ ${GITHUB_ACTIONS:-} != true ]]; then
    if ! compgen -G "$HOME/.cargo/advisory-dbs/advisory-db-*/.git" >/dev/null; then
      log "cargo deny: licenses, bans and sources clean; advisories SKIPPED: no copy of RustSec's database here, and it cannot be fetched from this machine"
      return 0
    fi
    fetch=(--disable-fetch)
  fi
  (cd "$TODO_ROOT" && "$TODO_CARGO_DENY" --log-level error check "${fetch[@]}" advisories) \
    || die "cargo deny found advisories in the dependencies"
  log "cargo deny: licenses, bans, sources and advisories clean"
}
