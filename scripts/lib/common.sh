# Shared settings of the project's scripts. Source it; it changes nothing.

# The development JWT secret used when SPIN_VARIABLE_AUTH_JWT_SECRET is unset.
# Never use it anywhere but on your own machine.
TODO_DEV_JWT_SECRET=local-development-secret-not-for-production

TODO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Everything built or downloaded lives outside the clone, keyed by version,
# so a fresh clone reuses it.
TODO_CACHE=${TODO_CACHE:-$HOME/.cache/todo-chatbot}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$TODO_CACHE/target}

# The Dapr release the project pins (tools/dapr/go.mod requires the same).
DAPR_VERSION=1.18.2

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A TCP port on 127.0.0.1 that is free right now, below the kernel's range
# for outgoing connections (32768 and up), where no client socket takes it
# before its server binds it.
free_port() {
  python3 -c '
import random, socket
for port in random.sample(range(20000, 32000), 12000):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break'
}

# Waits until URL answers (any HTTP status below 500), or fails after SECONDS.
wait_for_http() {
  local url=$1 seconds=${2:-60} i
  for ((i = 0; i < seconds * 10; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url" 2>/dev/null) || code=000
    [[ $code != 000 && $code -lt 500 ]] && return 0
    sleep 0.1
  done
  return 1
}

# Waits until FILE exists and is not empty, or fails after SECONDS.
wait_for_file() {
  local file=$1 seconds=${2:-10} i
  for ((i = 0; i < seconds * 10; i++)); do
    [[ -s $file ]] && return 0
    sleep 0.1
  done
  return 1
}

# Installs Debian packages that are missing (as root, or through sudo).
apt_install() {
  local sudo=""
  [[ $(id -u) == 0 ]] || sudo=sudo
  log "installing $* from Debian's packages"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# A virtualenv at DIR with PyPI's REQUIREMENTS (such as "mcp==2.3.0", several
# separated by spaces) in it, made unless MODULE imports there already; WHAT
# names it in the log.
ensure_venv() {
  local venv=$1 requirements module=$3 what=$4
  read -ra requirements <<<"$2"
  if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c "import $module" 2>/dev/null; then
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
    log "installing $what"
    rm -rf "$venv"
    python3 -m venv "$venv" && "$venv/bin/pip" install -q "${requirements[@]}" || die "installing $what failed"
  fi
}

# The Rust toolchain's Wasm targets: the components' and the page's
# language engine's (crates/language-web).
ensure_rust() {
  command -v cargo >/dev/null || die "cargo is not installed; install Rust with rustup"
  local target
  for target in wasm32-wasip2 wasm32-wasip1; do
    rustup target list --installed 2>/dev/null | grep -qx "$target" || rustup target add "$target"
  done
  command -v curl >/dev/null || apt_install curl
  command -v openssl >/dev/null || apt_install openssl
}

# Builds the host and every component (release), and points ./target at
# CARGO_TARGET_DIR so that spin.toml's `source` paths resolve.
build_app() {
  ensure_rust
  log "building the components (wasm32-wasip2) and the host"
  local packages=() dir
  for dir in "$TODO_ROOT"/components/*/ "$TODO_ROOT"/tests/probe-component/; do
    packages+=(-p "$(basename "$dir")")
  done
  (cd "$TODO_ROOT" && cargo build --release --target wasm32-wasip2 "${packages[@]}" \
    && cargo build --release -p todo-host) || die "build failed"
  if [[ ! -e $TODO_ROOT/target || -L $TODO_ROOT/target ]]; then
    ln -sfn "$CARGO_TARGET_DIR" "$TODO_ROOT/target"
  fi
  TODO_HOST_BIN=$CARGO_TARGET_DIR/release/todo-host
}
