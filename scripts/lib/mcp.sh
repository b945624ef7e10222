# The official MCP Python SDK (`mcp` from PyPI) in a virtualenv of its own
# under $TODO_CACHE, as the client of the MCP end-to-end test. Sets and
# exports TODO_MCP_PYTHON.
MCP_VERSION=2.3.0

ensure_mcp() {
  local venv=$TODO_CACHE/mcp-$MCP_VERSION
  if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import mcp' 2>/dev/null; then
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
    log "installing the MCP Python SDK $MCP_VERSION"
    rm -rf "$venv"
    python3 -m venv "$venv" && "$venv/bin/pip" install -q "mcp==$MCP_VERSION" \
      || die "installing the MCP Python SDK failed"
  fi
  export TODO_MCP_PYTHON=$venv/bin/python
}
