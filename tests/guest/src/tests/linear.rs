//! Linear (recursive) page tables.
//!
//! HVM: one top-level slot (2-level, long mode) or four level-2 slots (PAE,
//! one per PDPT entry) point back at the tables themselves, so every entry
//! of every table appears at a fixed virtual address.  The shadow code then
//! sees one guest frame used at several levels at once (the root is an L4
//! and, through the recursive slot, an L3, L2 and L1), and guest stores to
//! entries arrive through those linear addresses.

use super::*;
use crate::paging::Slot;

/// Where the recursive mapping lives and how to find an entry through it.
struct Linear {
    /// Virtual base of the recursive region.
    base: u64,
    /// Entry size.
    es: u64,
    /// Long mode: VAs are canonical, index bits are the low 48.
    long: bool,
    /// The table slots that hold the recursive entries (to undo them).
    slots: [Option<Slot>; 4],
}

impl Linear {
    /// Linear address of the entry that maps `va` one level down from the
    /// entry that maps the page at `x`: lin(va) is the PTE of `va`,
    /// lin(lin(va)) its directory entry, and so on.
    fn lin(&self, x: u64) -> u64 {
        let x = if self.long { x & 0xffff_ffff_ffff } else { x };
        self.base + (x >> 12) * self.es
    }
}

fn read_entry(addr: u64, es: u64) -> Result<u64, Msg> {
    let lo = must_read(addr)? as u64;
    Ok(if es == 4 {
        lo
    } else {
        lo | ((must_read(addr + 4)? as u64) << 32)
    })
}

/// Entries here are below 4 GiB and have no high flag bits, so the upper
/// half (if any) is written as 0.
fn write_entry(addr: u64, es: u64, v: u64) -> Result<(), Msg> {
    if es == 8 {
        must_write(addr + 4, (v >> 32) as u32)?;
    }
    must_write(addr, v as u32)
}

/// Install the recursive mapping in the current address space.
fn install(ctx: &mut Ctx) -> Result<Linear, Msg> {
    let m = &mut ctx.mmu;
    let mut slots = [None; 4];
    let (base, long) = match m.fmt {
        Format::Long4 => {
            // Slot 416: 0xffff_d000_0000_0000, unused by the other tests.
            let s = Slot {
                table: m.root,
                index: 416,
            };
            slots[0] = Some(s);
            (0xffff_d000_0000_0000, true)
        }
        Format::TwoLevel => {
            // PDE 1008: 0xfc00_0000 (below the local APIC at 0xfee0_0000).
            let s = Slot {
                table: m.root,
                index: 1008,
            };
            slots[0] = Some(s);
            (0xfc00_0000, false)
        }
        Format::Pae => {
            // The last four PDEs of the top GiB (0xff80_0000) map the four
            // level-2 tables.
            let l2_top = m.entry_pa(m.read(Slot {
                table: m.root,
                index: 3,
            }));
            for (i, slot) in slots.iter_mut().enumerate() {
                *slot = Some(Slot {
                    table: l2_top,
                    index: 508 + i,
                });
            }
            (0xff80_0000, false)
        }
    };
    for (i, s) in slots.iter().enumerate() {
        let Some(s) = *s else { continue };
        check!(
            m.read(s) & P == 0,
            "recursive slot {} already in use",
            s.index
        );
        let target = match m.fmt {
            Format::Pae => m.entry_pa(m.read(Slot {
                table: m.root,
                index: i,
            })),
            _ => m.root,
        };
        m.write(s, m.pte(target, P | RW))?;
    }
    Ok(Linear {
        base,
        es: m.entry_size() as u64,
        long,
        slots,
    })
}

fn remove(ctx: &mut Ctx, l: &Linear) -> Result<(), Msg> {
    for s in l.slots.iter().flatten() {
        ctx.mmu.write(*s, 0)?;
    }
    ctx.mmu.flush_all();
    Ok(())
}

/// HVM: read and write entries through a recursive mapping.
pub(super) fn linear_pt(ctx: &mut Ctx) -> TestResult {
    let pa = pattern_frame(320);
    let pb = pattern_frame(321);
    let pc = pattern_frame(322);
    let va = ctx.fresh_va(2);
    ctx.map(va, pa, P | RW)?;
    check!(must_read(va)? == pattern(320, 0), "initial mapping wrong");
    let s1 = ctx.mmu.slot(va, 1, false)?;
    let s2 = ctx.mmu.slot(va, 2, false)?;

    let l = install(ctx)?;
    let r = linear_steps(ctx, &l, va, s1, s2, [pa, pb, pc]);
    remove(ctx, &l)?;
    r?;
    // After removing the recursive slot, its region faults again.
    check_pf(
        "read of the removed recursive region",
        read_fault(l.lin(va)),
        l.lin(va),
        0,
    )?;
    Ok(())
}

fn linear_steps(
    ctx: &mut Ctx,
    l: &Linear,
    va: u64,
    s1: Slot,
    s2: Slot,
    [pa, pb, pc]: [u64; 3],
) -> TestResult {
    let es = l.es;
    // Reads: the PTE and the directory entry of `va` as the direct view
    // has them.
    let pte_va = l.lin(va);
    let pde_va = l.lin(pte_va);
    let got = read_entry(pte_va, es)?;
    check!(
        got == ctx.mmu.read(s1),
        "PTE via {:#x}: {:#x}, direct view {:#x}",
        pte_va,
        got,
        ctx.mmu.read(s1)
    );
    let got = read_entry(pde_va, es)?;
    check!(
        got == ctx.mmu.read(s2),
        "PDE via {:#x}: {:#x}, direct view {:#x}",
        pde_va,
        got,
        ctx.mmu.read(s2)
    );

    // Re-point the PTE through the linear address.
    write_entry(pte_va, es, ctx.mmu.pte(pb, P | RW))?;
    check!(
        ctx.mmu.entry_pa(ctx.mmu.read(s1)) == pb,
        "linear write not in the table: {:#x}",
        ctx.mmu.read(s1)
    );
    ctx.mmu.flush(va);
    let got = must_read(va + 8)?;
    let seed = if broken() { 320 } else { 321 };
    check!(
        got == pattern(seed, 2),
        "after PTE write via the linear map: read {:#x}, want {:#x}",
        got,
        pattern(seed, 2)
    );

    // Create the neighbouring (not-present) PTE read-only.
    write_entry(l.lin(va + 4096), es, ctx.mmu.pte(pa, P))?;
    check!(
        must_read(va + 4096 + 8)? == pattern(320, 2),
        "new read-only PTE via the linear map"
    );
    check_pf(
        "write through the new read-only PTE",
        write_fault(va + 4096 + 8, 5),
        va + 4096 + 8,
        PFEC_PRESENT | PFEC_WRITE,
    )?;

    // Clear the PTE through the linear address.
    write_entry(pte_va, es, 0)?;
    ctx.mmu.flush(va);
    check_pf("read after a linear clear", read_fault(va + 8), va + 8, 0)?;

    // A new leaf table linked by writing its directory entry through the
    // linear map (a write to a directory, i.e. a table seen as level 2 and,
    // through the recursion, as a leaf).
    let vb = ctx.fresh_va_new_table();
    let s2b = ctx.mmu.slot(vb, 2, true)?;
    check!(
        ctx.mmu.read(s2b) & P == 0,
        "directory entry for {:#x} in use",
        vb
    );
    let t = frames::alloc();
    let idx = ((vb >> 12) & (if es == 4 { 1023 } else { 511 })) as usize;
    ctx.mmu.write_direct(
        Slot {
            table: t,
            index: idx,
        },
        ctx.mmu.pte(pc, P | RW),
    );
    write_entry(l.lin(l.lin(vb)), es, t | P | RW)?;
    check!(
        ctx.mmu.read(s2b) == t | P | RW,
        "directory entry after linear write: {:#x}",
        ctx.mmu.read(s2b)
    );
    let got = must_read(vb + 12)?;
    check!(
        got == pattern(322, 3),
        "via a table linked through the linear map: {:#x}",
        got
    );
    // Its PTE is visible through the linear map too.
    let got = read_entry(l.lin(vb), es)?;
    check!(
        ctx.mmu.entry_pa(got) == pc,
        "new table's PTE via the linear map: {:#x}",
        got
    );
    Ok(())
}
