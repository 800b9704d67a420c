#!/bin/sh
# Builds the Rust object that Xen links in place of guest_{2,3,4}.o.
#
# Called by Xen's make (arch/x86/mm/shadow/Makefile, added by patches/) as
#   xen-object.sh <output .o>
# with XEN_SRCTREE, XEN_OBJTREE, XEN_SHADOW_CFLAGS and XEN_SHADOW_HEADER in
# the environment.  It
#   1. runs cargo for the root package with Xen's codegen (build-std core: no
#      GOT; retpoline and return thunks; IBT; no SSE; no jump tables),
#   2. links our crate's object and what it needs from the archive (C helpers,
#      compiler_builtins) into one relocatable object,
#   3. refuses the object unless it is fit for Xen: only the relocation types
#      Xen's own objects use, no GOT, no SSE/x87/AVX instruction, no section
#      Xen's linker script would misplace, and every symbol common.c needs,
#   4. replaces the output only when it changed, so make relinks only then.
set -eu

out=${1:?usage: xen-object.sh <output.o>}
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
here=$(cd "$(dirname "$0")/.." && pwd)
: "${XEN_OBJTREE:?}" "${XEN_SRCTREE:?}" "${XEN_SHADOW_CFLAGS:?}" "${XEN_SHADOW_HEADER:?}"

target_dir="$XEN_OBJTREE/.xen-shadow-rs"
mkdir -p "$target_dir"

RUSTFLAGS="-C code-model=small -C relocation-model=pic -Z plt=yes"
RUSTFLAGS="$RUSTFLAGS -Z direct-access-external-data=yes -C jump-tables=no"
RUSTFLAGS="$RUSTFLAGS -Z retpoline-external-thunk -Z function-return=thunk-extern"
RUSTFLAGS="$RUSTFLAGS -Z cf-protection=branch -C no-redzone=yes -C force-frame-pointers=no"
RUSTFLAGS="$RUSTFLAGS -Z emit-stack-sizes"
# Legacy mangling keeps local symbol names short: Xen's symbol table code
# copies names into KSYM_NAME_LEN (127) byte buffers without a bound, and a
# v0-mangled generic instance plus its file prefix overflowed it while Xen
# printed a call trace (seen: #GP in vprintk_common after a BUG()).
RUSTFLAGS="$RUSTFLAGS -Z unstable-options -C symbol-mangling-version=legacy"
export RUSTFLAGS
export RUSTC_BOOTSTRAP=1
export XEN_OBJTREE XEN_SRCTREE XEN_SHADOW_CFLAGS XEN_SHADOW_HEADER

# XEN_SHADOW_RS_FEATURES: cargo features of the root package, set only by
# `cargo xtask migrate rust --break logdirty` for its demonstration build
# (its own build directory, so its own target directory); empty otherwise.
features=${XEN_SHADOW_RS_FEATURES:-}
cd "$here"
cargo build --quiet --release --package xen-shadow \
    ${features:+--features "$features"} \
    --target x86_64-unknown-none \
    -Z build-std=core,compiler_builtins -Z build-std-features= \
    --target-dir "$target_dir"

lib="$target_dir/x86_64-unknown-none/release/libxen_shadow.a"
work="$target_dir/link"
rm -rf "$work"
mkdir -p "$work"
# The archive holds our crate (one object: LTO, one codegen unit), the C
# helpers and compiler_builtins.  Xen provides memcpy/memset/memcmp itself,
# and compiler_builtins is one large object (libm, soft-float, a probestack
# without return thunk, unwind tables), so it is left out: should Rust code
# ever need one of its routines, the Xen link names the missing symbol.
members=$(ar t "$lib" | grep -v '^compiler_builtins-')
main=$(printf '%s\n' "$members" | grep -E '^xen_shadow-[0-9a-f]+\.xen_shadow\..*\.o$' || true)
[ "$(printf '%s\n' "$main" | grep -c .)" = 1 ] || {
    echo "xen-object.sh: expected one xen_shadow object in $lib, got: $main" >&2
    exit 1
}
(cd "$work" && ar x "$lib" $members)
# .stack_sizes (from -Z emit-stack-sizes) is read by `cargo xtask stack`
# from this copy; it must not reach Xen's linker script.
ld -melf_x86_64 -r -o "$work/rust_multi_full.o" $(for m in $members; do printf '%s/%s ' "$work" "$m"; done)
# The FILE symbol prefixes every local symbol in Xen's symbol table; give it
# the object's own short name, as Xen's build does for C objects.
file_sym=$(readelf -sW "$work/$main" | awk '$4 == "FILE" {print $8; exit}')
# Xen copies "<file>#<symbol>" of local symbols into KSYM_NAME_LEN (127)
# byte buffers without bounds checks; mangled Rust names of generic trait
# impls easily exceed that.  Shorten every local name that would: keep a
# readable prefix and add a hash of the full name so names stay unique.
prefix_len=$(printf 'shadow/rust_multi.o#' | wc -c)
readelf -sW "$work/rust_multi_full.o" |
    awk -v max=$((127 - prefix_len)) '$5 == "LOCAL" && ($4 == "FUNC" || $4 == "OBJECT") && length($8) > max {print $8}' |
    sort -u |
    while read -r name; do
        printf '%s %.80s_%s\n' "$name" "$name" "$(printf '%s' "$name" | md5sum | cut -c1-16)"
    done >"$work/short-names"
objcopy --remove-section=.stack_sizes --remove-section=.llvm_addrsig \
    ${file_sym:+--redefine-sym "$file_sym=shadow/rust_multi.o"} \
    --redefine-syms="$work/short-names" \
    "$work/rust_multi_full.o" "$work/rust_multi.o"

sh "$here/ffi/check-object.sh" "$work/rust_multi.o"

if ! cmp -s "$work/rust_multi.o" "$out"; then
    cp "$work/rust_multi.o" "$out.tmp"
    mv -f "$out.tmp" "$out"
fi
