# schemathesis (from PyPI) in a virtualenv of its own under $TODO_CACHE, for
# the contract test. Sets and exports TODO_SCHEMATHESIS.
SCHEMATHESIS_VERSION=4.32.5

ensure_schemathesis() {
  local venv=$TODO_CACHE/schemathesis-$SCHEMATHESIS_VERSION python="" candidate
  if [[ ! -x $venv/bin/schemathesis ]]; then
    # Hypothesis trips over a CPython 3.11 bug ("AST constructor recursion depth
    # mismatch") while describing strategies: prefer 3.12 or newer.
    for candidate in python3.13 python3.12 "$(pyenv root 2>/dev/null)"/versions/3.1[23]*/bin/python3 python3; do
      if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
        python=$candidate
        break
      fi
    done
    if [[ -z $python ]]; then
      log "no Python 3.12 or newer found; using python3 for schemathesis"
      python=python3
      "$python" -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
    fi
    log "installing schemathesis $SCHEMATHESIS_VERSION with $python"
    rm -rf "$venv"
    "$python" -m venv "$venv" && "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION" \
      || die "installing schemathesis failed"
  fi
  export TODO_SCHEMATHESIS=$venv/bin/schemathesis
}
