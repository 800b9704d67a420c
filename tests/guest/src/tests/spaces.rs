//! Many address spaces, and page-table pages recycled as data.

use super::*;
use crate::paging::{Mmu, Slot};

/// Number of address spaces in `many_address_spaces`.
const SPACES: usize = 64;
/// Rounds of switching through all of them.
const ROUNDS: usize = 3;

/// The VA each private address space maps privately (unused in the main
/// address space: its own top-level slot in long mode, an empty directory
/// entry in the 32-bit formats).
fn private_va(fmt: Format) -> u64 {
    match fmt {
        Format::Long4 => 0x0000_5000_0000_0000,
        Format::TwoLevel | Format::Pae => 0xd000_0000,
    }
}

/// A copy of the current address space whose top-level table (PAE: also
/// the level-2 table of the top GiB) is its own, so that `va` can be
/// mapped privately.  PV: the copies are made as data, then the root is
/// pinned (Xen validates it and fills its own slots) and the caller maps
/// `va` with hypercalls; `va` must lie in the top GiB for PAE.
pub(super) fn private_space(ctx: &mut Ctx, va: u64) -> Result<Mmu, Failure> {
    if ctx.mmu.is_pv() {
        return pv_private_space(ctx, va);
    }
    let mut other = ctx.mmu.clone_root()?;
    if ctx.mmu.fmt == Format::Pae {
        let old_l2 = ctx.mmu.entry_pa(ctx.mmu.read(Slot {
            table: ctx.mmu.root,
            index: 3,
        }));
        let l2 = frames::alloc();
        for i in 0..512 {
            let v = ctx.mmu.read(Slot {
                table: old_l2,
                index: i,
            });
            other.write_direct(
                Slot {
                    table: l2,
                    index: i,
                },
                v,
            );
        }
        other.write_direct(
            Slot {
                table: other.root,
                index: 3,
            },
            l2 | P,
        );
    }
    let top = if ctx.mmu.fmt == Format::Pae {
        2
    } else {
        ctx.mmu.fmt.levels()
    };
    let s = other.slot(va, top, false)?;
    check!(
        other.read(s) & P == 0,
        "private VA {:#x} already mapped",
        va
    );
    Ok(other)
}

fn pv_private_space(ctx: &mut Ctx, va: u64) -> Result<Mmu, Failure> {
    let m = &ctx.mmu;
    let (n, private_top) = match m.fmt {
        Format::Pae => (4, 3),
        _ => (512, ((va >> 39) & 511) as usize),
    };
    let root = frames::alloc();
    for i in 0..n {
        let mut v = m.read(Slot {
            table: m.root,
            index: i,
        });
        if i == private_top {
            if m.fmt == Format::Pae {
                // Slot 3's L2 (with Xen's mappings) cannot be shared
                // between L3s: give the copy its own, without `va`.
                let old_l2 = m.entry_pa(v);
                let l2 = frames::alloc();
                for j in 0..512 {
                    let e = m.read(Slot {
                        table: old_l2,
                        index: j,
                    });
                    let j_va = 0xc000_0000u64 + ((j as u64) << 21);
                    let keep = j_va >> 21 != va >> 21;
                    direct_write64(l2 + 8 * j as u64, if keep { e } else { 0 });
                }
                m.protect_table(l2)?;
                v = m.addr_field(l2) | (v & 0xfff);
            } else {
                v = 0;
            }
        }
        direct_write64(root + (8 * i) as u64, v);
    }
    let other = m.sibling(root);
    other.pin_root()?;
    Ok(other)
}

/// 64-bit store to a data frame in the direct view.
fn direct_write64(pa: u64, v: u64) {
    direct_write(pa, v as u32);
    direct_write(pa + 4, (v >> 32) as u32);
}

fn seed_of(k: usize) -> u32 {
    1000 + k as u32
}

/// 64 address spaces (PV: 8, each a pinned top-level table) with their own
/// top-level tables, each mapping one VA to its own frame.  Switch among
/// them (CR3, PV: `MMUEXT_NEW_BASEPTR`) in a scrambled order, several
/// rounds: each must see (and write) its own frame, and the main address
/// space must not see the VA at all.
pub(super) fn many_address_spaces(ctx: &mut Ctx) -> TestResult {
    let va = private_va(ctx.mmu.fmt);
    let spaces = if ctx.mmu.is_pv() { 8 } else { SPACES };
    let mut roots = [0u64; SPACES];
    let mut data = [0u64; SPACES];
    for k in 0..spaces {
        let mut m = private_space(ctx, va)?;
        data[k] = pattern_frame(seed_of(k));
        m.map(va, data[k], P | RW)?;
        roots[k] = m.root;
    }
    let mut bad: Option<(usize, usize, Result<u32, Fault>, u32)> = None;
    for round in 0..ROUNDS {
        for i in 0..spaces {
            // 37 is coprime to 64 and 8: a permutation that differs per round.
            let k = (i * 37 + round * 11) % spaces;
            // SAFETY: each space is a copy of the main one except at `va`,
            // so code, stack and data stay mapped.
            unsafe { ctx.mmu.sibling(roots[k]).activate() };
            let r = exceptions::read32(va as usize + 4 * round);
            let w = exceptions::write32(va as usize + 0x800, (round * 1000 + k) as u32);
            // break=: expect the previous space's frame.
            let seed = seed_of(if broken() { (k + 1) % spaces } else { k });
            if bad.is_none() && (r != Ok(pattern(seed, round)) || w.is_err()) {
                bad = Some((
                    round,
                    k,
                    if w.is_err() { w.map(|_| 0) } else { r },
                    pattern(seed, round),
                ));
            }
        }
    }
    // SAFETY: back to the main tables.
    unsafe { ctx.mmu.activate() };
    if let Some((round, k, r, want)) = bad {
        check!(
            false,
            "round {}, space {}: access gave {:x?}, want {:#x}",
            round,
            k,
            r,
            want
        );
    }
    for (k, &pa) in data[..spaces].iter().enumerate() {
        let got = direct_read(pa + 0x800);
        let want = ((ROUNDS - 1) * 1000 + k) as u32;
        check!(
            got == want,
            "space {}: last write {:#x}, want {:#x}",
            k,
            got,
            want
        );
    }
    check_pf("private VA in the main space", read_fault(va), va, 0)?;
    Ok(())
}

/// A leaf table is unlinked, used as an ordinary data page (written and
/// read back through two mappings), then filled with new entries and
/// linked again.  The stale shadow of its old contents must not survive;
/// PV: Xen must drop the page-table type so the frame can be mapped
/// writable, and validate it again when it is relinked.
pub(super) fn pt_page_reuse(ctx: &mut Ctx) -> TestResult {
    let pa = pattern_frame(330);
    let pb = pattern_frame(331);
    let va = ctx.fresh_va_new_table();
    ctx.map(va, pa, P | RW)?;
    check!(
        must_read(va + 4)? == pattern(330, 1),
        "initial mapping wrong"
    );
    let leaf = ctx.mmu.slot(va, 1, false)?;
    let t = leaf.table;
    let dir = ctx.mmu.slot(va, 2, false)?;
    let dir_val = ctx.mmu.read(dir);

    // Unlink the table.
    ctx.mmu.write(dir, 0)?;
    ctx.mmu.flush(va);
    check_pf(
        "read after unlinking the table",
        read_fault(va + 4),
        va + 4,
        0,
    )?;

    // Use it as data: two full passes of different patterns through the
    // direct view, and a second, new writable mapping of it.
    ctx.mmu.unprotect_table(t)?;
    // (In another leaf table: `va`'s directory entry is empty right now.)
    let vd = ctx.fresh_va_new_table();
    ctx.map(vd, t, P | RW)?;
    for (pass, seed) in [332u32, 333].into_iter().enumerate() {
        fill_words(t, seed);
        for i in 0..frames::PAGE_SIZE / 4 {
            let got = direct_read(t + 4 * i as u64);
            check!(
                got == pattern(seed, i),
                "pass {}: former table, word {}: {:#x}, want {:#x}",
                pass,
                i,
                got,
                pattern(seed, i)
            );
        }
        for i in [0usize, 1, 2, 511, 1023] {
            let got = must_read(vd + 4 * i as u64)?;
            check!(
                got == pattern(seed, i),
                "pass {}: via data mapping {:#x}, word {}: {:#x}",
                pass,
                vd,
                i,
                got
            );
        }
    }
    must_write(vd + 0x40, 0x7777_0001)?;
    check!(
        direct_read(t + 0x40) == 0x7777_0001,
        "write via the data mapping not in the frame"
    );

    // Make it a table again: drop the data mapping, write fresh entries
    // (index of `va` -> frame B), relink.
    let sd = ctx.mmu.slot(vd, 1, false)?;
    ctx.mmu.write(sd, 0)?;
    ctx.mmu.flush(vd);
    for i in 0..frames::PAGE_SIZE / 4 {
        direct_write(t + 4 * i as u64, 0);
    }
    ctx.mmu.write_direct(leaf, ctx.mmu.pte(pb, P | RW));
    ctx.mmu.protect_table(t)?;
    ctx.mmu.write(dir, dir_val)?;
    ctx.mmu.flush(va);
    let got = must_read(va + 4)?;
    let seed = if broken() { 330 } else { 331 };
    check!(
        got == pattern(seed, 1),
        "relinked table: read {:#x}, want {:#x} (old frame {:#x})",
        got,
        pattern(seed, 1),
        pattern(330, 1)
    );
    // Every other entry of the recycled table is empty.
    let far = va + 4096;
    check_pf("neighbour in the relinked table", read_fault(far), far, 0)?;
    Ok(())
}

fn fill_words(pa: u64, seed: u32) {
    for i in 0..frames::PAGE_SIZE / 4 {
        direct_write(pa + 4 * i as u64, pattern(seed, i));
    }
}
