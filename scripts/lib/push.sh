# Python's `cryptography` (from PyPI) in a virtualenv of its own under
# $TODO_CACHE, for the fake push service of the end-to-end tests
# (tests/e2e/push/fake_push_service.py). Sets and exports TODO_PUSH_PYTHON.
CRYPTOGRAPHY_VERSION=50.0.2

ensure_push_fake() {
  local venv=$TODO_CACHE/push-fake-cryptography-$CRYPTOGRAPHY_VERSION
  if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import cryptography' 2>/dev/null; then
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
    log "installing Python's cryptography $CRYPTOGRAPHY_VERSION (the fake push service)"
    rm -rf "$venv"
    python3 -m venv "$venv" && "$venv/bin/pip" install -q "cryptography==$CRYPTOGRAPHY_VERSION" \
      || die "installing cryptography failed"
  fi
  export TODO_PUSH_PYTHON=$venv/bin/python
}
