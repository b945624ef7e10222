# The tools that check the deployment files (k8s/spinkube, .github/workflows):
# helm and actionlint built with Go from the module proxy, ShellCheck from
# Debian (actionlint runs it on every workflow step's script), and a Python
# virtualenv with kubernetes-validate (it carries the Kubernetes schemas),
# jsonschema and PyYAML. All under $TODO_CACHE, keyed by version, built once.
# Sets and exports TODO_HELM, TODO_ACTIONLINT and TODO_DEPLOY_PYTHON.
HELM_VERSION=3.22.0
ACTIONLINT_VERSION=1.7.12
KUBERNETES_VALIDATE_VERSION=1.34.1

go_tool() { # name version package: builds package@version into $TODO_CACHE/name-version
  local dir=$TODO_CACHE/$1-$2
  if [[ ! -x $dir/$1 ]]; then
    command -v go >/dev/null || die "Go is needed to build $1 (https://go.dev/dl)"
    log "building $1 $2 with Go (once)"
    GOBIN=$dir CGO_ENABLED=0 go install "$3@v$2" || die "building $1 $2 failed"
  fi
  printf '%s/%s' "$dir" "$1"
}

ensure_deploy_tools() {
  TODO_HELM=$(go_tool helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm) || exit 1
  TODO_ACTIONLINT=$(go_tool actionlint "$ACTIONLINT_VERSION" github.com/rhysd/actionlint/cmd/actionlint) || exit 1
  command -v shellcheck >/dev/null || apt_install shellcheck
  local venv=$TODO_CACHE/deploy-checks-$KUBERNETES_VALIDATE_VERSION
  if [[ ! -x $venv/bin/kubernetes-validate ]]; then
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
    log "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION"
    rm -rf "$venv"
    python3 -m venv "$venv" && "$venv/bin/pip" install -q "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" jsonschema pyyaml \
      || die "installing kubernetes-validate failed"
  fi
  export TODO_HELM TODO_ACTIONLINT TODO_DEPLOY_PYTHON=$venv/bin/python
}
