# The seed's own stack (../shared/peer: FastAPI + SQLModel + PostgreSQL), as a
# yardstick for bench/compare, in a virtualenv of its own under $TODO_CACHE;
# and wrk, the load generator its compare.sh drives. Sets PEER_VENV.
PEER_PACKAGES=(fastapi==0.165.0 "uvicorn[standard]==0.54.0" sqlmodel==0.0.50 "psycopg[binary]==3.3.9")

ensure_peer() {
  PEER_VENV=$TODO_CACHE/peer-$(printf '%s\n' "${PEER_PACKAGES[@]}" | sha256sum | cut -c1-12)
  if [[ ! -x $PEER_VENV/bin/uvicorn ]]; then
    log "installing the peer's packages (${PEER_PACKAGES[*]})"
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
    rm -rf "$PEER_VENV"
    python3 -m venv "$PEER_VENV" && "$PEER_VENV/bin/pip" install -q "${PEER_PACKAGES[@]}" \
      || die "installing the peer's packages failed"
  fi
  command -v wrk >/dev/null || apt_install wrk
}
