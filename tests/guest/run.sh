#!/usr/bin/env bash
# Boot one guest mode as dom0 of a Xen hypervisor under QEMU (TCG) and check
# the result.
#
#   tests/guest/run.sh -x /path/to/xen [-t SECONDS] [-o LOG] MODE [GUEST_ARGS...]
#
# MODE            image        Xen dom0 options
#   hvm64         guest64.elf  dom0=pvh,shadow dom0-iommu=none
#   hvm32         guest32.elf  dom0=pvh,shadow dom0-iommu=none
#   hvm32pse      guest32.elf  dom0=pvh,shadow dom0-iommu=none
#   hvm32pae      guest32.elf  dom0=pvh,shadow dom0-iommu=none
#   pv64          guest64.elf  dom0=shadow        (shadow-paged PV dom0)
#   pv64-direct   guest64.elf  (none)             (PV dom0 without shadow)
#   pv32pae       guest32.elf  dom0=shadow        (32-bit PV dom0, shadow)
#   pv32pae-direct guest32.elf (none)             (32-bit PV dom0 without shadow)
# GUEST_ARGS are appended to the guest command line, e.g. `only=remap` or
# `selftest=fail`.  The Xen binary can also be given as $XEN.  SMP=2 boots
# QEMU with -smp 2 and dom0 with dom0_max_vcpus=2 (for the smp_* tests).
#
# Builds nothing: run ./build.sh first.  Exit status 0 when the guest printed
# "N passed, 0 failed" with N > 0 and QEMU exited by itself; 1 otherwise.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
xen="${XEN:-}"
timeout_s=60
log=""
while getopts "x:t:o:" opt; do
    case "$opt" in
        x) xen="$OPTARG" ;;
        t) timeout_s="$OPTARG" ;;
        o) log="$OPTARG" ;;
        *) sed -n '2,22p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { sed -n '2,22p' "$0"; exit 2; }
mode="$1"; shift
[ -n "$xen" ] && [ -f "$xen" ] || { echo "run.sh: give the Xen binary with -x or \$XEN" >&2; exit 2; }

pvh_opts="dom0=pvh,shadow dom0-iommu=none"
case "$mode" in
    hvm64) image=guest64.elf; dom0="$pvh_opts"; gmode=hvm64 ;;
    hvm32|hvm32pse|hvm32pae) image=guest32.elf; dom0="$pvh_opts"; gmode="$mode" ;;
    pv64) image=guest64.elf; dom0="dom0=shadow"; gmode=pv64 ;;
    pv64-direct) image=guest64.elf; dom0=""; gmode=pv64 ;;
    pv32pae) image=guest32.elf; dom0="dom0=shadow"; gmode=pv32pae ;;
    pv32pae-direct) image=guest32.elf; dom0=""; gmode=pv32pae ;;
    *) echo "run.sh: unknown mode $mode" >&2; exit 2 ;;
esac
kernel="$here/target/$image"
[ -f "$kernel" ] || { echo "run.sh: $kernel missing, run ./build.sh" >&2; exit 2; }
[ -n "$log" ] || { mkdir -p "$here/target/logs"; log="$here/target/logs/$mode.log"; }

# QEMU's multiboot loader passes "<file> <args>" as the module string; Xen
# strips the file name and hands the rest to dom0 as its command line.
# Note: -initrd splits modules at commas, so guest args must not contain any.
guest_cmdline="mode=$gmode${*:+ $*}"
smp="${SMP:-1}"
xen_cmdline="console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all $dom0 dom0_mem=256M dom0_max_vcpus=$smp noreboot=false"

start=$(date +%s.%N)
timeout "$timeout_s" qemu-system-x86_64 -accel tcg -m 512 -smp "$smp" -nographic -no-reboot \
    -kernel "$xen" -append "$xen_cmdline" -initrd "$kernel $guest_cmdline" \
    </dev/null >"$log" 2>&1
qrc=$?
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')

summary=$(tr -d '\r' <"$log" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
echo "run.sh: $mode: qemu exit $qrc after ${secs}s; result: ${summary:-<no summary line>}; log: $log"
if [ "$qrc" -ne 0 ]; then
    echo "run.sh: QEMU did not exit by itself (status $qrc; 124 = timeout)" >&2
    tail -20 "$log" >&2
    exit 1
fi
case "$summary" in
    "0 passed, "*) exit 1 ;;
    *" passed, 0 failed") exit 0 ;;
    *) tail -30 "$log" >&2; exit 1 ;;
esac
