//! Many PTE writes in one leaf table between flushes.
//!
//! On HVM a leaf table that the guest writes goes out of sync: the guest
//! writes it directly and the shadow catches up at the next INVLPG, CR3
//! load or fault.  Hundreds of writes in one table between flushes must all
//! be visible after a full flush (CR3 reload) and after per-page INVLPGs.
//! On PV each write is an `mmu_update`, and the flush is
//! `MMUEXT_TLB_FLUSH_LOCAL` / `MMUEXT_INVLPG_LOCAL`.

use super::*;

/// Data frames the entries point at (round-robin).
const DATA: usize = 16;

pub(super) fn oos_bulk_writes(ctx: &mut Ctx) -> TestResult {
    let entries = if ctx.mmu.entry_size() == 4 { 1024 } else { 512 };
    // All but the last page of one leaf table (that one is the guard).
    let n = entries - 1;
    let base = ctx.fresh_va_new_table_pages(n as u64);
    let mut data = [0u64; DATA];
    for (i, d) in data.iter_mut().enumerate() {
        *d = pattern_frame(350 + i as u32);
    }
    // Entry 0 first, and use it, so the table is live (shadowed) before the
    // bulk writes.
    ctx.map(base, data[0], P | RW)?;
    check!(must_read(base)? == pattern(350, 0), "first mapping wrong");
    let s0 = ctx.mmu.slot(base, 1, false)?;
    let slot = |i: usize| crate::paging::Slot {
        table: s0.table,
        index: s0.index + i,
    };
    // Page i shows data frame (i + shift) % DATA; read word i % 1024 so
    // that neighbouring pages check different words.
    let check_all = |shift: usize, what: &str, skip3: bool| -> TestResult {
        for i in 0..n {
            let va = base + 4096 * i as u64;
            let w = i % 1024;
            let r = exceptions::read32(va as usize + 4 * w);
            if skip3 && i % 3 == 1 {
                check_pf(what, r.map(|_| ()), va + 4 * w as u64, 0)?;
                continue;
            }
            let d = (i + shift) % DATA;
            check!(
                r == Ok(pattern(350 + d as u32, w)),
                "{}: page {} read {:x?}, want frame {} ({:#x})",
                what,
                i,
                r,
                d,
                pattern(350 + d as u32, w)
            );
        }
        Ok(())
    };

    // Round 1: fill the (not-present) entries 1..n, then reload CR3.
    for i in 1..n {
        ctx.mmu
            .write(slot(i), ctx.mmu.pte(data[i % DATA], P | RW))?;
    }
    ctx.mmu.flush_all();
    check_all(0, "after filling and a full flush", false)?;

    // Round 2: re-point every entry (all of them now cached), then one
    // INVLPG per page.
    for i in 0..n {
        ctx.mmu
            .write(slot(i), ctx.mmu.pte(data[(i + 5) % DATA], P | RW))?;
    }
    for i in 0..n {
        ctx.mmu.flush(base + 4096 * i as u64);
    }
    let shift = if broken() { 0 } else { 5 };
    check_all(shift, "after re-pointing and INVLPG per page", false)?;

    // Round 3: clear every third entry, make the rest read-only, re-point
    // again, full flush.
    for i in 0..n {
        let v = if i % 3 == 1 {
            0
        } else {
            ctx.mmu.pte(data[(i + 9) % DATA], P)
        };
        ctx.mmu.write(slot(i), v)?;
    }
    ctx.mmu.flush_all();
    check_all(9, "after clearing/re-pointing and a full flush", true)?;
    for i in (0..n).step_by(37).filter(|i| i % 3 != 1) {
        let va = base + 4096 * i as u64;
        check_pf(
            "write through a read-only entry",
            write_fault(va + 8, 1),
            va + 8,
            PFEC_PRESENT | PFEC_WRITE,
        )?;
    }
    Ok(())
}
