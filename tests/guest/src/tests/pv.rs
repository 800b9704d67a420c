//! What a PV guest can do that the HVM-only tests cover for HVM: recursive
//! (linear) page tables and MMIO mappings.  The MMIO test runs in every
//! mode.

use super::*;
use crate::paging::Slot;

/// Text-mode VGA memory: below 1 MiB, not RAM.  Xen gives those frames to
/// dom_io and lets dom0 map them (PV: the machine frame itself; PVH: the
/// p2m identity-maps the low 1 MiB's holes as MMIO).
const VGA_TEXT: u64 = 0xb8000;
const PCD: u64 = 1 << 4;
const PWT: u64 = 1 << 3;

/// PV: a read-only recursive entry (64-bit: L4 slot 400 maps the L4; PAE:
/// an L2 entry maps its own L2 table, covering that GiB).  Through it: a
/// PTE reads back as in the table, a not-present one as 0; after an
/// `mmu_update` re-points the page, the linear view shows the new entry and
/// the page the new frame; a store through the linear map faults (P=1
/// W=1).  After the entry is removed and the TLB flushed, the linear
/// region faults.
pub(super) fn pv_linear_pt(ctx: &mut Ctx) -> TestResult {
    let pa1 = pattern_frame(3000);
    let pa2 = pattern_frame(3001);
    // (self-map slot, test VA, function: VA -> linear address of its PTE)
    let (self_slot, va, base): (Slot, u64, u64);
    match ctx.mmu.fmt {
        Format::Long4 => {
            const SLOT: u64 = 400;
            base = 0xffff_0000_0000_0000 | SLOT << 39;
            self_slot = Slot {
                table: ctx.mmu.root,
                index: SLOT as usize,
            };
            va = ctx.fresh_va(2);
        }
        _ => {
            // A free 2 MiB region for the linear view and, in the same GiB,
            // the test page.
            let mut lin = ctx.fresh_large_va();
            while (lin >> 30) != ((lin + (2 << 20)) >> 30) {
                lin = ctx.fresh_large_va();
            }
            base = lin;
            self_slot = ctx.mmu.slot(lin, 2, true)?;
            va = lin + (2 << 20);
        }
    }
    let fmt = ctx.mmu.fmt;
    let pte_addr = move |v: u64| -> u64 {
        match fmt {
            Format::Long4 => base + (((v & 0xffff_ffff_ffff) >> 12) << 3),
            // Page j of the linear region is the leaf table of the j-th
            // 2 MiB of this GiB.
            _ => base + (((v & 0x3fff_ffff) >> 12) << 3),
        }
    };
    check!(
        ctx.mmu.read(self_slot) & P == 0,
        "self-map slot already in use: {:#x}",
        ctx.mmu.read(self_slot)
    );
    ctx.map(va, pa1, P | RW)?;
    // The neighbour (va + 4096) stays not present.
    ctx.mmu
        .write(self_slot, ctx.mmu.pte(self_slot.table, P | A))?;
    ctx.mmu.flush_all();
    let r = linear_checks(ctx, va, pa1, pa2, pte_addr(va), pte_addr(va + 4096));
    // Always remove the self-map again.
    ctx.mmu.write(self_slot, 0)?;
    ctx.mmu.flush_all();
    r?;
    check_pf(
        "read of the linear region after removing the self-map",
        read_fault(pte_addr(va)),
        pte_addr(va),
        0,
    )?;
    Ok(())
}

fn linear_checks(
    ctx: &mut Ctx,
    va: u64,
    pa1: u64,
    pa2: u64,
    lin: u64,
    lin_next: u64,
) -> TestResult {
    let s = ctx.mmu.slot(va, 1, false)?;
    let want = ctx.mmu.read(s);
    let got = must_read(lin)?;
    check!(
        got == want as u32,
        "PTE of {:#x} through the linear map at {:#x}: {:#x}, in the table {:#x}",
        va,
        lin,
        got,
        want
    );
    check!(
        must_read(lin_next)? == 0,
        "not-present PTE through the linear map is not 0"
    );
    // Re-point the page (mmu_update): the linear view shows the new entry
    // at once (the table's contents changed, not the mapping of it).
    let new = ctx.mmu.pte(pa2, P | RW);
    ctx.mmu.write(s, new)?;
    // As Xen stored it (64-bit PV: with US added).
    let stored = ctx.mmu.read(s);
    check!(
        ctx.mmu.entry_pa(stored) == pa2,
        "mmu_update stored {:#x}",
        stored
    );
    let got = must_read(lin)?;
    // break=: expect the old entry.
    let want = if broken() { want } else { stored };
    check!(
        got == want as u32,
        "PTE through the linear map after mmu_update: {:#x}, want {:#x}",
        got,
        want
    );
    ctx.mmu.flush(va);
    let got = must_read(va + 12)?;
    check!(
        got == pattern(3001, 3),
        "after re-pointing: read {:#x}, want {:#x}",
        got,
        pattern(3001, 3)
    );
    let cur = ctx.mmu.read(s); // now with A set
                               // The recursive entry is read-only, and Xen's writable-pagetable
                               // emulation only takes stores whose leaf entry is read-only: a store
                               // through the linear map is a plain protection fault.
    check_pf(
        "store through the read-only linear map",
        write_fault(lin, 0),
        lin,
        PFEC_PRESENT | PFEC_WRITE,
    )?;
    check!(ctx.mmu.read(s) == cur, "refused store changed the PTE");
    check!(
        direct_read(pa1 + 12) == pattern(3000, 3),
        "old frame changed"
    );
    Ok(())
}

/// Every mode: the VGA text frame (MMIO, not RAM) mapped uncached at two
/// VAs in different leaf tables.  A word written through one reads back
/// through the other, repeatedly (each access goes through the shadow's
/// MMIO translation); after unmapping one VA it faults and the other still
/// works.
pub(super) fn mmio_vga(ctx: &mut Ctx) -> TestResult {
    let va1 = ctx.fresh_va(1);
    let va2 = ctx.fresh_va_new_table();
    // The frame itself, not a p2m translation (PV) / the identity gfn (HVM).
    let pte = VGA_TEXT | P | RW | PCD | PWT;
    for v in [va1, va2] {
        let s = ctx.mmu.slot(v, 1, true)?;
        ctx.mmu.write(s, pte)?;
        ctx.mmu.flush(v);
    }
    // The last text row, far from anything a console would use here.
    let off = 24 * 160;
    let saved = must_read(va1 + off)?;
    let mut bad = None;
    for i in 0..8u32 {
        let val = 0x0730_0730 + (i << 16) + i;
        let (w, r) = if i % 2 == 0 { (va1, va2) } else { (va2, va1) };
        must_write(w + off, val)?;
        let got = must_read(r + off)?;
        // break=: expect the previous value.
        let want = if broken() {
            val.wrapping_sub(0x1_0001)
        } else {
            val
        };
        if bad.is_none() && got != want {
            bad = Some((i, got, want));
        }
    }
    must_write(va1 + off, saved)?;
    if let Some((i, got, want)) = bad {
        check!(
            false,
            "VGA word {} written via one VA, read via the other: {:#x}, want {:#x}",
            i,
            got,
            want
        );
    }
    let s = ctx.mmu.slot(va2, 1, false)?;
    ctx.mmu.write(s, 0)?;
    ctx.mmu.flush(va2);
    check_pf(
        "read of the unmapped MMIO VA",
        read_fault(va2 + off),
        va2 + off,
        0,
    )?;
    check!(
        must_read(va1 + off)? == saved,
        "MMIO via the other VA changed"
    );
    Ok(())
}

/// PV: the analogue of `pt_write_via_alias`.  A leaf table page mapped
/// read-only at a second VA; a store to a PTE through that alias is
/// emulated by Xen's writable-pagetable code (the alias's leaf entry is
/// read-only and maps an L1 page) and re-points the page.
pub(super) fn pv_ptwr_via_alias(ctx: &mut Ctx) -> TestResult {
    let pa1 = pattern_frame(3010);
    let pa2 = pattern_frame(3011);
    let va = ctx.fresh_va(1);
    ctx.map(va, pa1, P | RW)?;
    check!(
        must_read(va + 16)? == pattern(3010, 4),
        "first mapping wrong"
    );
    let s = ctx.mmu.slot(va, 1, false)?;
    let alias = ctx.fresh_va_new_table();
    ctx.map(alias, s.table, P | A)?;
    let new = ctx.mmu.pte(pa2, P | RW);
    // Entries here are below 4 GiB: the low 32 bits are the whole change.
    let at = alias + (s.index * ctx.mmu.entry_size()) as u64;
    must_write(at, new as u32)?;
    let e = ctx.mmu.read(s);
    check!(
        e & P != 0 && ctx.mmu.entry_pa(e) == pa2,
        "PTE after the store through the read-only alias: {:#x}",
        e
    );
    ctx.mmu.flush(va);
    // break=: expect the old frame.
    let seed = if broken() { 3010 } else { 3011 };
    let got = must_read(va + 16)?;
    check!(
        got == pattern(seed, 4),
        "after the PTE store via the alias + flush: read {:#x}, want {:#x}",
        got,
        pattern(seed, 4)
    );
    Ok(())
}
