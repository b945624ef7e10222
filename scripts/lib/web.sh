# What the browser tests (tests/web) need: Debian's Chromium, and
# playwright-core and axe-core from npm, installed once per package-lock
# under $TODO_CACHE and linked into tests/web/node_modules. Sets and exports
# TODO_CHROMIUM and TODO_NODE.

ensure_web() {
  command -v chromium >/dev/null || apt_install chromium
  command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
  local web=$TODO_ROOT/tests/web
  local key
  key=$(cat "$web/package.json" "$web/package-lock.json" | sha256sum | cut -c1-16)
  local modules=$TODO_CACHE/web-tests-$key
  if [[ ! -d $modules/node_modules/playwright-core || ! -d $modules/node_modules/axe-core ]]; then
    log "installing the browser tests' packages (playwright-core, axe-core) from npm"
    rm -rf "$modules" && mkdir -p "$modules"
    cp "$web/package.json" "$web/package-lock.json" "$modules/"
    (cd "$modules" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
      || die "installing the browser tests' packages failed"
  fi
  if [[ ! -L $web/node_modules || $(readlink "$web/node_modules") != "$modules/node_modules" ]]; then
    rm -rf "$web/node_modules"
    ln -s "$modules/node_modules" "$web/node_modules"
  fi
  TODO_CHROMIUM=$(command -v chromium)
  TODO_NODE=$(command -v node)
  export TODO_CHROMIUM TODO_NODE
}
