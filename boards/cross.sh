#!/usr/bin/env bash
# Cross-build edgegan (runtime + CLI, no trainer) for a board.
#
#   boards/cross.sh aarch64   # Pi 4, Pi 5, Zero 2 W (64-bit OS)
#   boards/cross.sh armv7     # Pi 3 / 32-bit OS
#   boards/cross.sh armv7 test -p edgegan-runtime --no-run   # any cargo command
#
# Installs what it needs from Debian bookworm (root): Rust 1.96 from
# bookworm-security (rustc-web, with the target's std), the cross gcc, and
# qemu-user 10 from bookworm-backports (it emulates /proc/cpuinfo, so tract
# picks the real boards' kernels). armhf's package index on the mirrors has
# been inconsistent, so armv7's std is fetched as one pinned .deb and used as
# a --sysroot. Builds go to $EDGEGAN_CROSS_DIR (default ~/.cache/edgegan/cross);
# the binary's path is printed last. EDGEGAN_CROSS_PROFILE picks the cargo
# profile (default release; the boards check uses board-check).
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  aarch64) triple=aarch64-unknown-linux-gnu; gcc=aarch64-linux-gnu-gcc; arch=arm64;;
  armv7) triple=armv7-unknown-linux-gnueabihf; gcc=arm-linux-gnueabihf-gcc; arch=armhf;;
  *) echo "usage: $0 aarch64|armv7 [cargo command and arguments]" >&2; exit 2;;
esac
shift

RUST_DEB_VERSION=1.96.0+dfsg1-1~deb12u2
ARMHF_STD_SHA256=b9f9dd1d03a903680f918cb2bba00a2a3d76558545d5e6a8061072ab461bb989
export CARGO_TARGET_DIR="${EDGEGAN_CROSS_DIR:-$HOME/.cache/edgegan/cross}"
sysroot="$CARGO_TARGET_DIR/sysroot-armhf"

have_pkg() { dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null | grep -q "^install ok installed ${2:-}"; }

install_toolchain() {
  local need=()
  have_pkg rustc-web "$RUST_DEB_VERSION" || need+=(rustc-web cargo-web libstd-rust-web-dev)
  if [ "$arch" = arm64 ]; then
    have_pkg libstd-rust-web-dev:arm64 "$RUST_DEB_VERSION" || need+=(libstd-rust-web-dev libstd-rust-web-dev:arm64)
    have_pkg gcc-aarch64-linux-gnu || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
  else
    have_pkg gcc-arm-linux-gnueabihf || need+=(gcc-arm-linux-gnueabihf libc6-dev-armhf-cross)
  fi
  local qemu_ok=0 need_qemu=
  if command -v qemu-aarch64 >/dev/null && qemu-aarch64 --version | grep -q 'version 1[0-9]'; then qemu_ok=1; fi
  if [ ${#need[@]} -eq 0 ] && [ $qemu_ok = 1 ]; then return; fi
  [ $qemu_ok = 1 ] || need_qemu=qemu-user
  echo "== installing the cross toolchain: ${need[*]} ${need_qemu:-}" >&2
  if [ ! -e /etc/apt/sources.list.d/bookworm-backports.sources ]; then
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      > /etc/apt/sources.list.d/bookworm-backports.sources
  fi
  [ "$arch" = arm64 ] && dpkg --add-architecture arm64
  apt-get update -q >/dev/null || true   # a half-synced foreign index must not stop us
  # both std packages in one command: their versions must match
  [ ${#need[@]} -gt 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
  [ $qemu_ok = 1 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -t bookworm-backports qemu-user >/dev/null
}

armhf_sysroot() {
  [ -d "$sysroot/lib/rustlib/$triple/lib" ] && return
  local deb="libstd-rust-web-dev_${RUST_DEB_VERSION}_armhf.deb" tmp
  tmp=$(mktemp -d)
  curl -sSf -o "$tmp/$deb" \
    "http://deb.debian.org/debian-security/pool/updates/main/r/rustc-web/${deb//+/%2B}"
  echo "$ARMHF_STD_SHA256  $tmp/$deb" | sha256sum -c --quiet
  dpkg-deb -x "$tmp/$deb" "$tmp/root"
  mkdir -p "$sysroot/lib"
  mv "$tmp/root/usr/lib/rustlib" "$sysroot/lib/"
  rm -rf "$tmp"
}

install_toolchain
[ "$arch" = armhf ] && armhf_sysroot

# Debian's cargo and rustc (rustup's stay first in PATH and cannot use Debian's std).
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
upper=$(echo "$triple" | tr 'a-z-' 'A-Z_')
export "CARGO_TARGET_${upper}_LINKER=$gcc"
if [ "$arch" = armhf ]; then
  export "CARGO_TARGET_${upper}_RUSTFLAGS=--sysroot=$sysroot"
  export "CARGO_TARGET_${upper}_RUNNER=qemu-arm -cpu cortex-a7 -L /usr/arm-linux-gnueabihf"
  export TRACT_CPU_ARM32_NEON=true
else
  export "CARGO_TARGET_${upper}_RUNNER=qemu-aarch64 -cpu ${EDGEGAN_QEMU_CPU:-cortex-a72}"
fi

if [ $# -gt 0 ]; then
  /usr/bin/cargo "$@" --target "$triple"
else
  profile="${EDGEGAN_CROSS_PROFILE:-release}"
  /usr/bin/cargo build --profile "$profile" --locked --target "$triple" --no-default-features --bin edgegan >&2
  echo "$CARGO_TARGET_DIR/$triple/$profile/edgegan"
fi
