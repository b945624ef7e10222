# Shared settings of the project's scripts. Source it; it changes nothing.

# The development JWT secret used when SPIN_VARIABLE_AUTH_JWT_SECRET is unset.
# Never use it anywhere but on your own machine.
TODO_DEV_JWT_SECRET=local-development-secret-not-for-production

TODO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Everything built or downloaded lives outside the clone, keyed by version,
# so a fresh clone reuses it.
TODO_CACHE=${TODO_CACHE:-$HOME/.cache/todo-chatbot}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$TODO_CACHE/target}
