#!/usr/bin/env bash
# Make the local base image (BASE_IMAGE) from Debian's packages, once: no registry is needed.
#   infra/compose/base.sh [image]   (default localhost/bookworm-base:latest)
# Builds trust what the host trusts: its extra CAs (a TLS-inspecting proxy's, say) go in.
set -euo pipefail
image="${1:-localhost/bookworm-base:latest}"
if podman image exists "$image"; then
  echo "base: $image already present"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "base: mmdebstrap bookworm -> $image"
mmdebstrap --quiet --variant=minbase --include=ca-certificates \
  --customize-hook='copy-in /usr/local/share/ca-certificates /usr/local/share' \
  --customize-hook='chroot "$1" update-ca-certificates --fresh >/dev/null' \
  --customize-hook='chroot "$1" sh -c "apt-get clean && rm -rf /var/lib/apt/lists/*"' \
  bookworm "$work/base.tar"
podman import --change 'CMD ["/bin/bash"]' "$work/base.tar" "$image" >/dev/null
echo "base: $image ready"
