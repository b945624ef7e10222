# The official MCP Python SDK (`mcp` from PyPI) in a virtualenv of its own
# under $TODO_CACHE, as the client of the MCP end-to-end test. Sets and
# exports TODO_MCP_PYTHON.
MCP_VERSION=2.3.0

ensure_mcp() {
  local venv=$TODO_CACHE/mcp-$MCP_VERSION
  ensure_venv "$venv" "mcp==$MCP_VERSION" mcp "the MCP Python SDK $MCP_VERSION"
  export TODO_MCP_PYTHON=$venv/bin/python
}
