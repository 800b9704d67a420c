#!/bin/busybox sh
# /init of the migration test's dom0 (Debian's bookworm kernel, Debian's
# Xen 4.17 toolstack, busybox).  Runs one case, chosen on the dom0 kernel
# command line (mig.case=NAME), and reports on the console (Xen's serial)
# in lines starting with "MIG ":
#
#   MIG case NAME start
#   MIG step NAME: what happened (free text)
#   MIG op N kind=migrate|save|restore total_s=T rounds=R pages=P downtime_s=D
#          precopy_s=C
#   MIG verify N pages=P bad=B stale=S corrupt=C ... swept=W sweep_ms=M domain_pages=D
#   MIG result NAME PASS|FAIL bad=B ops=N reason
#
# The harness (ci/src/migrate.rs) reads them.  Cases:
#   pv-live      one live migration of a PV guest to localhost
#   pvh-live     the same with a PVH guest (shadow-paged: TCG has no NPT)
#   save-restore xl save + xl restore of a PV guest
#   pv-10x       10 back-to-back live migrations of the same PV guest
#   pv-ptchurn   live migration of a PV guest that also churns page tables
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/usr/lib/xen-4.17/bin:/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
# /var/run is /run: libxl takes its domid-history lock in /var/run/xen, and
# without it cannot destroy the source domain after a migration.
mkdir -p /var/log/xen/console /var/lib/xen /run/xen /run/xenstored /var/lib/xenstored
ln -s /run /var/run
: > /etc/xen/xl.conf

say() { echo "MIG $*"; }
now() { cut -d' ' -f1 /proc/uptime; }
fail() {
    say "result $CASE FAIL bad=${BAD:-?} ops=${OPS:-0} $*"
    finish
}
finish() {
    say "end"
    sync
    # Stop the machine: QEMU runs with -no-reboot, so a reboot ends it.
    sleep 1
    echo b > /proc/sysrq-trigger
    reboot -f
}

CMDLINE=$(cat /proc/cmdline)
CASE=
VERBOSE=
MIG_BREAK=
for w in $CMDLINE; do
    case "$w" in
    mig.case=*) CASE=${w#mig.case=} ;;
    mig.verbose) VERBOSE=1 ;;
    mig.break=*) MIG_BREAK=${w#mig.break=} ;;
    esac
done
# Read by mig-local (the xl migrate -s command): see streamstat.c.
export MIG_BREAK
say "case $CASE start"

M=/lib/modules/$(uname -r)/kernel/drivers/xen
for m in xen-evtchn xen-privcmd xenfs/xenfs xen-gntdev xen-gntalloc; do
    insmod $M/$m.ko || fail "insmod $m"
done
mount -t xenfs xenfs /proc/xen || fail "mount xenfs"

xenstored --pid-file /run/xenstored.pid || fail "xenstored"
xen-init-dom0 > /tmp/init-dom0.log 2>&1 || fail "xen-init-dom0"
xenconsoled --log=guest --log-dir=/var/log/xen/console \
    --pid-file=/run/xenconsoled.pid || fail "xenconsoled"
say "step $CASE: toolstack up at $(now) s"
# dom0 gets 4x the guest's CPU weight: the guest's writer never sleeps, and
# at equal weight the copy (and so every case) takes twice as long under
# TCG, where the whole machine is one host thread.  The guest still dirties
# pages far faster than they are copied.
xl sched-credit2 -d 0 -w 1024 > /dev/null 2>&1 ||
    xl sched-credit -d 0 -w 1024 > /dev/null 2>&1

# Prefix every line with the uptime, so the harness can time events (shell
# builtins only: a fork per line would be slower than xl's output).
stamp() {
    while IFS= read -r l; do
        read -r up rest < /proc/uptime
        echo "$up $l"
    done
}

# Lines of all guest console logs that contain $1.
count_lines() {
    cat /var/log/xen/console/guest-*.log 2>/dev/null | grep -c "$1"
}

# wait_line PATTERN OLDCOUNT SECONDS: until more than OLDCOUNT lines match.
wait_line() {
    i=0
    while [ "$(count_lines "$1")" -le "$2" ]; do
        i=$((i + 1))
        [ $i -gt $(($3 * 5)) ] && return 1
        sleep 0.2
    done
    return 0
}

OPS=0
BAD=0

create() {
    before=$(count_lines "pattern: ready")
    t0=$(now)
    xl create /etc/xen/$1.cfg > /tmp/create.log 2>&1 || {
        cat /tmp/create.log
        fail "xl create $1"
    }
    wait_line "pattern: ready" "$before" 240 || {
        cat /var/log/xen/console/guest-*.log
        fail "guest did not start writing its pattern"
    }
    cat /var/log/xen/console/guest-*.log | grep -E "pattern: (kernel Memory|meminfo|ready)" | tail -n 3 |
        while IFS= read -r l; do say "step $CASE: $l"; done
    say "step $CASE: guest $1 writing its pattern after $(echo "$(now) $t0" | awk '{printf "%.1f", $1-$2}') s"
    sleep 2
}

# Sends "verify" to the guest's console, waits for its report.
verify() {
    domid=$(xl domid mig) || fail "no domain mig after op $OPS"
    tty=$(xenstore-read /local/domain/$domid/console/tty) || fail "no console tty"
    before=$(count_lines "pattern: verify ")
    echo verify > "$tty"
    wait_line "pattern: verify " "$before" 120 || {
        tail -n 20 /var/log/xen/console/guest-*.log
        fail "no verify report from the guest after op $OPS"
    }
    line=$(cat /var/log/xen/console/guest-*.log | grep "pattern: verify " | tail -n 1)
    cat /var/log/xen/console/guest-*.log | grep "pattern: bad page" | tail -n 5 |
        while IFS= read -r b; do say "step $CASE: $b"; done
    # The guest's size as the toolstack set it (memory/target, KiB).
    target=$(xenstore-read /local/domain/$domid/memory/target 2>/dev/null)
    set -- $line
    shift 2
    say "verify $OPS $* domain_pages=$((${target:-0} / 4))"
    b=$(echo "$line" | sed -n 's/.* bad=\([0-9]*\).*/\1/p')
    [ -n "$b" ] || fail "unreadable verify line: $line"
    BAD=$((BAD + b))
}

# Reports one operation: total time of the xl command; rounds and pages
# from streamstat's view of the stream; downtime from the stamped xl -vvv
# log: source asked to suspend ("issuing PV suspend request", or the
# HVM/PVH equivalent) -> target unpaused ("migration target: Domain started
# successsfully" [sic]); for xl save, -> end of the save.
report() {
    kind=$1
    t0=$2
    t1=$3
    stat=$(cat /tmp/op$OPS.stream 2>/dev/null)
    [ -n "$stat" ] && say "step $CASE: op $OPS stream $stat"
    rounds=$(echo "$stat" | sed -n 's/.* *rounds=\([0-9]*\).*/\1/p')
    pages=$(echo "$stat" | sed -n 's/.* pages=\([0-9]*\).*/\1/p')
    # Pre-copy: the first page passing -> the start of the last iteration
    # (the stop-and-copy), as streamstat saw them.
    tf=$(echo "$stat" | sed -n 's/.* t_first=\([0-9.]*\).*/\1/p')
    tl=$(echo "$stat" | sed -n 's/.* t_last_iter=\([0-9.]*\).*/\1/p')
    awk -v kind=$kind -v op=$OPS -v t0=$t0 -v t1=$t1 \
        -v rounds=${rounds:--1} -v pages=${pages:--1} -v tf="$tf" -v tl="$tl" '
        /issuing .*suspend request|guest has suspended/ { if (ts == "") ts = $1 }
        /migration target: Domain started successs?fully/ { te = $1 }
        END {
            if (te == "") te = t1
            down = (ts == "") ? -1 : te - ts
            pre = (tf == "" || tl == "") ? -1 : tl - tf
            printf "MIG op %d kind=%s total_s=%.2f rounds=%d pages=%d downtime_s=%.2f precopy_s=%.2f\n",
                op, kind, t1 - t0, rounds, pages, down, pre
        }' /tmp/op$OPS.log
}

migrate() {
    OPS=$((OPS + 1))
    export MIG_STAT=/tmp/op$OPS.stream
    # streamstat tells the guest to sweep its whole pattern area just
    # behind iteration 1's copy (tests/migrate/streamstat.c).
    domid=$(xl domid mig) || fail "no domain mig before op $OPS"
    MIG_TTY=$(xenstore-read /local/domain/$domid/console/tty) || fail "no console tty"
    export MIG_TTY
    t0=$(now)
    xl -vvv migrate -s /usr/local/bin/mig-local mig localhost 2>&1 | stamp > /tmp/op$OPS.log
    t1=$(now)
    [ -n "$VERBOSE" ] && sed "s/^/MIG log: /" /tmp/op$OPS.log
    grep -q "migration sender: Target reports successful startup" /tmp/op$OPS.log || {
        tail -n 30 /tmp/op$OPS.log
        fail "xl migrate $OPS failed"
    }
    report migrate "$t0" "$t1"
}

save_restore() {
    OPS=$((OPS + 1))
    t0=$(now)
    xl -vvv save mig /tmp/mig.save 2>&1 | stamp > /tmp/op$OPS.log
    t1=$(now)
    [ -n "$VERBOSE" ] && sed "s/^/MIG log: /" /tmp/op$OPS.log
    xl domid mig > /dev/null 2>&1 && fail "domain still there after xl save"
    [ -s /tmp/mig.save ] || { tail -n 30 /tmp/op$OPS.log; fail "xl save wrote nothing"; }
    # The image holds the same stream a migration sends (not changed here:
    # mig.break applies to migrations).
    MIG_TTY= streamstat /tmp/op$OPS.stream < /tmp/mig.save > /dev/null
    report save "$t0" "$t1"
    say "step $CASE: image $(ls -l /tmp/mig.save | awk '{print $5}') bytes"
    OPS=$((OPS + 1))
    t0=$(now)
    xl -vvv restore /tmp/mig.save 2>&1 | stamp > /tmp/op$OPS.log
    t1=$(now)
    [ -n "$VERBOSE" ] && sed "s/^/MIG log: /" /tmp/op$OPS.log
    xl domid mig > /dev/null 2>&1 || { tail -n 30 /tmp/op$OPS.log; fail "xl restore failed"; }
    say "op $OPS kind=restore total_s=$(echo "$t1 $t0" | awk '{printf "%.2f", $1-$2}')"
    rm -f /tmp/mig.save
}

case "$CASE" in
pv-live)
    create pv
    migrate
    verify
    ;;
pvh-live)
    create pvh
    migrate
    verify
    ;;
save-restore)
    create pv
    save_restore
    verify
    ;;
pv-10x)
    create pv
    for n in 1 2 3 4 5 6 7 8 9 10; do
        migrate
        verify
    done
    ;;
pv-ptchurn)
    create pv-churn
    migrate
    verify
    ;;
*)
    fail "unknown case '$CASE'"
    ;;
esac

if [ "$BAD" -eq 0 ]; then
    say "result $CASE PASS bad=0 ops=$OPS"
else
    say "result $CASE FAIL bad=$BAD ops=$OPS"
fi
finish
