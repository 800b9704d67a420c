//! Fast-fault paths: repeated faults on one not-present entry, and MMIO.
//!
//! After the first fault on a not-present guest entry, the shadow code may
//! install a "magic" shadow entry so that later faults there are reflected
//! to the guest without a full walk; likewise for MMIO.  These tests make
//! sure such entries give the right error code and CR2 every time, and
//! that they go away when the guest makes the entry present (which needs
//! no TLB flush: x86 never caches not-present entries).

use super::*;

/// Repeated reads and writes of one not-present PTE, and of a VA whose
/// leaf table is missing: each fault must carry its own CR2 and the right
/// W bit.  Then the entry is made present without a flush and the next
/// access must succeed.
pub(super) fn notpresent_repeat(ctx: &mut Ctx) -> TestResult {
    let pa = pattern_frame(340);
    let va = ctx.fresh_va(2);
    ctx.map(va + 4096, pa, P | RW)?; // the leaf table exists
    repeat_faults("not-present PTE", va)?;
    // Not present -> present: no INVLPG on purpose.
    let s = ctx.mmu.slot(va, 1, false)?;
    ctx.mmu.write(s, ctx.mmu.pte(pa, P | RW))?;
    let got = must_read(va + 0x30)?;
    check!(
        got == pattern(340, 12),
        "after making the PTE present: {:#x}",
        got
    );
    // Present -> not present (with the flush that needs), faults again.
    ctx.mmu.write(s, 0)?;
    ctx.mmu.flush(va);
    repeat_faults("cleared PTE", va)?;

    // No leaf table at all, then a table linked in without a flush.
    let far = ctx.fresh_va_new_table();
    repeat_faults("missing leaf table", far)?;
    ctx.mmu.map(far, pa, P | RW)?;
    let got = must_read(far + 0x30)?;
    check!(
        got == pattern(340, 12),
        "after linking the leaf table: {:#x}",
        got
    );
    Ok(())
}

fn repeat_faults(what: &str, va: u64) -> Result<(), Msg> {
    for i in 0..8u64 {
        let addr = va + 0x10 * i + 4 * (i & 1);
        // break=: expect a stale CR2 (the first fault's) from fault 3 on.
        let want_cr2 = if broken() && i >= 3 { va } else { addr };
        if i % 3 == 2 {
            check_pf(what, write_fault(addr, i as u32), want_cr2, PFEC_WRITE)
        } else {
            check_pf(what, read_fault(addr), want_cr2, 0)
        }
        .map_err(|m| Msg::new(format_args!("fault {}: {}", i, m.as_str())))?;
    }
    Ok(())
}

/// Local APIC registers (xAPIC MMIO).
const APIC_ID: u64 = 0x20;
const APIC_VERSION: u64 = 0x30;
const APIC_TPR: u64 = 0x80;
const MSR_APIC_BASE: u32 = 0x1b;
/// Page-level cache disable / write-through.
const PCD: u64 = 1 << 4;
const PWT: u64 = 1 << 3;

/// HVM: the emulated local APIC page mapped through guest page tables (an
/// MMIO translation in the shadow).  Repeated reads through two mappings
/// agree and look like a local APIC; a TPR write through one mapping reads
/// back through the other.
pub(super) fn mmio_lapic(ctx: &mut Ctx) -> TestResult {
    // SAFETY: IA32_APIC_BASE exists on every CPU Xen runs HVM guests on.
    let base_msr = unsafe { arch::rdmsr(MSR_APIC_BASE) };
    if base_msr & (1 << 11) == 0 || base_msr & (1 << 10) != 0 {
        return Err(Failure::Skip("local APIC disabled or in x2APIC mode"));
    }
    let apic = base_msr & 0xffff_f000;
    let va1 = ctx.fresh_va(1);
    let va2 = ctx.fresh_va_new_table();
    ctx.map(va1, apic, P | RW | PCD | PWT)?;
    ctx.map(va2, apic, P | RW | PCD | PWT)?;
    let ver = must_read(va1 + APIC_VERSION)?;
    // An integrated APIC: version 0x1X, at least 3 LVT entries.
    check!(
        ver & 0xf0 == 0x10 && (ver >> 16) & 0xff >= 2,
        "APIC version register via {:#x}: {:#x}",
        va1,
        ver
    );
    let id = must_read(va1 + APIC_ID)?;
    for i in 0..6 {
        let va = if i % 2 == 0 { va1 } else { va2 };
        let v = must_read(va + APIC_VERSION)?;
        let d = must_read(va + APIC_ID)?;
        check!(
            v == ver && d == id,
            "read {} via {:#x}: version {:#x} id {:#x}, first {:#x} {:#x}",
            i,
            va,
            v,
            d,
            ver,
            id
        );
    }
    let tpr = must_read(va1 + APIC_TPR)?;
    must_write(va1 + APIC_TPR, 0x20)?;
    let got = must_read(va2 + APIC_TPR)?;
    must_write(va2 + APIC_TPR, tpr)?;
    let want = if broken() { 0x30 } else { 0x20 };
    check!(
        got & 0xff == want,
        "TPR written via {:#x}, read via {:#x}: {:#x}",
        va1,
        va2,
        got
    );
    check!(must_read(va1 + APIC_TPR)? == tpr, "TPR not restored");
    Ok(())
}
