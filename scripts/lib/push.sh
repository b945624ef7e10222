# Python's `cryptography` (from PyPI) in a virtualenv of its own under
# $TODO_CACHE, for the fake push service of the end-to-end tests
# (tests/e2e/push/fake_push_service.py). Sets and exports TODO_PUSH_PYTHON.
CRYPTOGRAPHY_VERSION=50.0.2

ensure_push_fake() {
  local venv=$TODO_CACHE/push-fake-cryptography-$CRYPTOGRAPHY_VERSION
  ensure_venv "$venv" "cryptography==$CRYPTOGRAPHY_VERSION" cryptography \
    "Python's cryptography $CRYPTOGRAPHY_VERSION (the fake push service)"
  export TODO_PUSH_PYTHON=$venv/bin/python
}
