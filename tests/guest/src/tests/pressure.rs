//! Memory pressure: more live leaf tables than the shadow pool can hold.
//!
//! Xen gives a shadow-paged dom0 a fixed pool, about 4 KiB x (256 x vCPUs +
//! 2 x MiB of RAM) for PVH and half the RAM term for PV: 768 pages
//! (some of them taken by the p2m) and 512 pages for the 256 MiB dom0 of
//! the harness.  A 2-level guest's leaf table needs a two-page shadow.
//! Touching more leaf tables than that makes Xen reclaim shadows while the
//! guest runs; every mapping must still translate correctly afterwards.

use super::*;
use crate::global::Global;
use crate::paging::{Mmu, Slot};

/// Leaf tables wanted in long mode (the 32-bit formats are limited by the
/// address space, see `limit`).
const TABLES_LONG: usize = 3000;

/// Each leaf table maps itself, read-only, at one index: reading that
/// entry through the mapping returns the entry, which names the table's
/// own frame, so every one of the thousands of translations is checked
/// without thousands of data frames.
fn self_index(k: usize) -> usize {
    (k * 7) % 256
}

/// The VA of each table's self-mapping (filled by the test).
static PAGES: Global<[u64; frames::POOL_FRAMES]> = Global::new([0; frames::POOL_FRAMES]);

/// Give every superpage-sized region in [va, limit) whose directory entry
/// is unused a leaf table that maps itself, until `want` tables exist in
/// `pages`.  Returns the new table count and the end of the used range.
fn populate(
    m: &mut Mmu,
    mut va: u64,
    limit: u64,
    want: usize,
    pages: &mut [u64],
    mut n: usize,
) -> Result<(usize, u64), Failure> {
    let sz = m.fmt.large_page_size();
    // Frames: one per leaf table plus the directories the walker adds.
    let budget = n + frames::left().saturating_sub(64);
    while n < want && n < budget && va + sz <= limit {
        // Skip regions whose directory entry some earlier test has used.
        let d = m.slot(va, 2, true)?;
        if m.read(d) & P == 0 {
            let page = va + self_index(n) as u64 * 4096;
            let s = m.slot(page, 1, true)?;
            m.write(s, m.pte(s.table, P))?;
            pages[n] = page;
            n += 1;
        }
        va += sz;
    }
    Ok((n, va))
}

/// Read tables `range` of `pages` (backwards if asked) through their
/// self-mappings in address space `m` (which must be loaded).
fn check_tables(
    m: &mut Mmu,
    pages: &[u64],
    range: core::ops::Range<usize>,
    pass: usize,
    backwards: bool,
) -> TestResult {
    let es = m.entry_size() as u64;
    let n = range.len();
    for j in 0..n {
        let k = if backwards {
            range.end - 1 - j
        } else {
            range.start + j
        };
        let page = pages[k];
        let idx = self_index(k) as u64;
        // break=: in the second pass, expect the next table's entry.
        let probe = if broken() && pass == 1 {
            pages[range.start + (k + 1 - range.start) % n]
        } else {
            page
        };
        let table = m.slot(probe, 1, false)?.table;
        let want = m.addr_field(table) as u32 & 0xffff_f000;
        let got = exceptions::read32((page + idx * es) as usize);
        check!(
            matches!(got, Ok(v) if v & 0xffff_f000 == want && v & P as u32 != 0),
            "pass {}, table {} at {:#x}: read {:x?}, want its own entry ({:#x})",
            pass,
            k,
            page,
            got,
            want
        );
    }
    Ok(())
}

pub(super) fn shadow_pool_pressure(ctx: &mut Ctx) -> TestResult {
    if ctx.mmu.fmt == Format::Pae && !ctx.mmu.is_pv() {
        return pae_spaces(ctx);
    }
    let sz = ctx.mmu.fmt.large_page_size();
    let start = (ctx.next_va + sz - 1) & !(sz - 1);
    // 32-bit: stay below 0xf000_0000 (the linear-map test, the local APIC
    // and, for PV, Xen live above).
    let limit: u64 = if ctx.mode.is_64bit() {
        u64::MAX
    } else {
        0xf000_0000
    };
    let want = if ctx.mode.is_64bit() {
        TABLES_LONG
    } else {
        usize::MAX
    };
    // SAFETY: only this test uses PAGES; single CPU.
    let pages = unsafe { &mut *PAGES.as_ptr() };
    let (n, end) = populate(&mut ctx.mmu, start, limit, want, pages, 0)?;
    ctx.next_va = end;
    check!(n >= 500, "only {} leaf tables fit", n);
    // Three passes: in order, in order again, backwards.
    for pass in 0..3 {
        check_tables(&mut ctx.mmu, pages, 0..n, pass, pass == 2)?;
    }
    Ok(())
}

/// Address spaces in the PAE variant, and tables in each.
const PAE_SPACES: usize = 3;
const PAE_TABLES: usize = 450;

/// HVM PAE: Xen's last-resort reclaim unhooks the current address space's
/// level-2 shadows in PDPT order and stops as soon as one page is free, so
/// with the image's tables under PDPT[0] one address space with more leaf
/// tables than the pool crawls (each new table costs about a second under
/// TCG).  So the tables are spread over three address spaces (private
/// level-2 table for the GiB at 2 GiB), each one fitting the pool, 1,350 in
/// total: switching between them makes Xen reclaim the other spaces'
/// shadows (unpinning their level-2 shadows) while the guest runs.
fn pae_spaces(ctx: &mut Ctx) -> TestResult {
    const REGION: u64 = 0x8000_0000;
    let mut spaces: [Option<Mmu>; PAE_SPACES] = [None, None, None];
    // SAFETY: only this test uses PAGES; single CPU.
    let pages = unsafe { &mut *PAGES.as_ptr() };
    let mut ends = [0usize; PAE_SPACES];
    let mut n = 0;
    for (i, sp) in spaces.iter_mut().enumerate() {
        let mut m = ctx.mmu.clone_root()?;
        let old_l2 = ctx.mmu.entry_pa(ctx.mmu.read(Slot {
            table: ctx.mmu.root,
            index: 2,
        }));
        let l2 = frames::alloc();
        for j in 0..512 {
            let v = ctx.mmu.read(Slot {
                table: old_l2,
                index: j,
            });
            m.write_direct(
                Slot {
                    table: l2,
                    index: j,
                },
                v,
            );
        }
        m.write_direct(
            Slot {
                table: m.root,
                index: 2,
            },
            l2 | P,
        );
        let (end, _) = populate(&mut m, REGION, REGION + (1 << 30), n + PAE_TABLES, pages, n)?;
        check!(
            end - n >= 300,
            "space {}: only {} leaf tables fit",
            i,
            end - n
        );
        ends[i] = end;
        n = end;
        *sp = Some(m);
    }
    let main_cr3 = arch::read_cr3();
    let mut result = Ok(());
    'passes: for pass in 0..3 {
        for i in 0..PAE_SPACES {
            let i = if pass == 2 { PAE_SPACES - 1 - i } else { i };
            let m = spaces[i].as_mut().unwrap();
            let first = if i == 0 { 0 } else { ends[i - 1] };
            // SAFETY: the space is a copy of the main one except for the
            // GiB at 2 GiB, where only this test maps anything.
            unsafe { arch::write_cr3(m.root as usize) };
            result = check_tables(m, pages, first..ends[i], pass, pass == 2);
            if result.is_err() {
                break 'passes;
            }
        }
    }
    // SAFETY: back to the main tables.
    unsafe { arch::write_cr3(main_cr3) };
    result
}
