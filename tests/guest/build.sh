#!/usr/bin/env bash
# Build the guest test kernels.
#
#   tests/guest/build.sh            # release build of both images
#   PROFILE=dev tests/guest/build.sh
#
# Prints the paths of the built ELF files (one per line, on stdout):
#   <dir>/target/guest64.elf   modes hvm64, pv64       (x86_64-unknown-none)
#   <dir>/target/guest32.elf   modes hvm32, hvm32pse, hvm32pae, pv32pae
#                              (i686-xen-guest.json, core built from rust-src)
#
# Needs: rustup with the x86_64-unknown-none target and the rust-src
# component (`rustup target add x86_64-unknown-none`,
# `rustup component add rust-src`).  The 32-bit image needs unstable cargo
# flags (-Zbuild-std, -Zjson-target-spec); RUSTC_BOOTSTRAP=1 enables them on
# the stable toolchain for that one cargo invocation only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

profile="${PROFILE:-release}"
case "$profile" in
    release) profile_dir=release; profile_flag=(--release) ;;
    dev|debug) profile_dir=debug; profile_flag=() ;;
    *) echo "build.sh: PROFILE must be release or dev" >&2; exit 2 ;;
esac

missing=()
rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-none || missing+=("rustup target add x86_64-unknown-none")
[ -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library/core" ] || missing+=("rustup component add rust-src")
if [ ${#missing[@]} -gt 0 ]; then
    printf 'build.sh: missing toolchain pieces; run:\n' >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 1
fi

# Cargo's progress goes to stderr; stdout carries only the ELF paths.
cargo build "${profile_flag[@]}" --target x86_64-unknown-none >&2

RUSTC_BOOTSTRAP=1 cargo build "${profile_flag[@]}" \
    --target "$here/i686-xen-guest.json" \
    -Zjson-target-spec \
    -Zbuild-std=core,compiler_builtins \
    -Zbuild-std-features=compiler-builtins-mem >&2

cp "target/x86_64-unknown-none/$profile_dir/guest" target/guest64.elf
cp "target/i686-xen-guest/$profile_dir/guest" target/guest32.elf
echo "$here/target/guest64.elf"
echo "$here/target/guest32.elf"
