#!/bin/sh
# Proves that a Rust object is fit to link into Xen (run on every build by
# xen-object.sh; `cargo xtask check` runs it too).  Fails, naming the cause, if
#  - it has a relocation type Xen's own objects do not have (GOT-relative
#    ones in particular: Xen's linker script asserts an empty .got),
#  - it contains an SSE, AVX or x87 instruction (Xen does not save the guest's
#    FPU/vector state around hypervisor code),
#  - it has a section Xen's linker script would not place (thread locals,
#    embedded bitcode, constructors, unwind tables, ...),
#  - an indirect call or return does not go through Xen's thunks.
set -eu
obj=${1:?usage: check-object.sh <object>}
fail=0
err() { echo "check-object: $obj: $*" >&2; fail=1; }

# nm/objdump without the LLVM plugin (it aborts on foreign bitcode).
# Debug sections (CONFIG_DEBUG_INFO, debug builds) legitimately carry
# R_X86_64_32 references into .debug_str etc., as Xen's own -g objects do;
# only relocations in sections that are loaded matter.
relocs=$(readelf -rW "$obj" | awk '/^Relocation section/ {skip = ($3 ~ /^.\.rela\.debug_/)} !skip && /^ *[0-9a-f]+ +[0-9a-f]+ +R_X86_64_/ {print $3}' | sort | uniq -c)
bad=$(printf '%s\n' "$relocs" | awk '$2 !~ /^R_X86_64_(64|PC32|PLT32)$/ && NF == 2')
[ -z "$bad" ] || err "relocation types Xen does not use: $(echo $bad)"

sections=$(readelf -SW "$obj" | sed -n 's/^ *\[ *[0-9]*\] \([^ ]*\).*/\1/p')
for s in $sections; do
    case "$s" in
        .got*|.plt*|.tdata*|.tbss*|.llvmbc|.llvmcmd|.init_array*|.ctors*|.eh_frame*|.gcc_except_table*|.stack_sizes|.data.rel.local.*|.tm_clone_table)
            err "section $s must not reach Xen" ;;
    esac
done

disasm=$(objdump -d --no-show-raw-insn "$obj")
vec=$(printf '%s\n' "$disasm" | grep -E '%[xyz]mm[0-9]|%st(\(|$|,)|\b(f(ld|st|add|mul|sub|div|init|xch|nstenv|ldenv|xsave|xrstor|wait)[a-z]*|emms|ldmxcsr|stmxcsr|movaps|movups|movdq[au]|pxor|vzeroupper)\b' | head -5)
[ -z "$vec" ] || err "SSE/AVX/x87 instructions:
$vec"

# Indirect branches must use Xen's retpoline thunks, returns its return thunk.
# The one exception is Xen's own alternative_call() in the C shims: a
# `call *hvm_funcs+N(%rip)` that Xen rewrites into a direct call at boot
# (the site is recorded in .altinstructions), exactly as in Xen's C objects.
altcalls=$(objdump -dr --no-show-raw-insn "$obj" | awk '
    /[ \t]call +\*0x0\(%rip\)/ {pending = $1; next}
    pending != "" && /R_X86_64_PC32[ \t]+hvm_funcs\+/ {n++}
    {pending = ""}
    END {print n + 0}')
ind=$(printf '%s\n' "$disasm" | grep -E '\s(call|jmp)q?\s+\*' | grep -vE '\scall +\*0x0\(%rip\)' | head -5)
ripind=$(printf '%s\n' "$disasm" | grep -cE '\scall +\*0x0\(%rip\)' || true)
[ "$ripind" = "$altcalls" ] || err "$ripind RIP-relative indirect calls, only $altcalls of them alternative_call()s into hvm_funcs"
if [ "$altcalls" != 0 ] && ! readelf -SW "$obj" | grep -q '\.altinstructions'; then
    err "alternative_call()s without an .altinstructions section"
fi
[ -z "$ind" ] || err "indirect branch not through __x86_indirect_thunk_*:
$ind"
rets=$(printf '%s\n' "$disasm" | grep -cE '\sretq?\s*$' || true)
[ "$rets" = 0 ] || err "$rets plain ret instructions (expected jmp __x86_return_thunk)"

# Xen prints "<file>#<symbol>" for local symbols into 128-byte buffers.
long=$(readelf -sW "$obj" | awk '$4 == "FILE" {f = $8} $4 == "FUNC" || $4 == "OBJECT" {n = ($5 == "LOCAL" ? length(f) + 1 : 0) + length($8); if (n > 127) print $8}' | head -3)
[ -z "$long" ] || err "symbol names too long for Xen's symbol table (KSYM_NAME_LEN 127): $long"

[ "$fail" = 0 ] || exit 1
echo "check-object: $obj: ok (relocations:$(printf '%s' "$relocs" | awk '{printf " %s×%s", $2, $1}'))"
