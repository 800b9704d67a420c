//! Page-table writes of every width to live entries.
//!
//! A guest changes its page tables with whatever instruction it likes: byte,
//! word, dword and qword stores, `xchg`, `cmpxchg`, `cmpxchg8b`, or the two
//! halves of a PAE entry one after the other.  On HVM the shadow code sees
//! these either as emulated writes to a write-protected table (always for
//! level-2 and higher tables) or, for leaf tables, through the out-of-sync
//! mechanism; on PV, Xen's writable-pagetable emulation (`ptwr`) merges
//! partial writes into full entries.  Either way, after the write and the
//! guest's INVLPG the next access must use the new entry.
//!
//! Each step below changes the entry, flushes, and checks the VA at once:
//! it must show frame A, frame B, or fault as not present.

use super::*;
use crate::paging::Slot;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};

/// Offset in frame A of a `ret` instruction (for the NX steps); pattern
/// checks only look at the first words of a frame.
const RET_OFFSET: u64 = 0xff0;

/// Two pattern frames whose entries (as this backend writes them) differ
/// only in bits 12..15, so that a store to byte 1 of an entry switches
/// between them.  For HVM, consecutive frames with an even first frame; for
/// PV the machine addresses decide, so search a few candidates.
fn frame_pair(ctx: &mut Ctx, seed: u32) -> Result<(u64, u64), Failure> {
    let mut a = pattern_frame(seed);
    for _ in 0..32 {
        let b = pattern_frame(seed + 1);
        let diff = ctx.mmu.addr_field(a) ^ ctx.mmu.addr_field(b);
        if diff != 0 && diff & !0xf000 == 0 {
            return Ok((a, b));
        }
        // Try the new frame as the first of the pair.
        fill_pattern(b, seed);
        a = b;
    }
    Err(Failure::Skip(
        "no two frames differing only in address bits 12..15",
    ))
}

fn fill_pattern(pa: u64, seed: u32) {
    for i in 0..frames::PAGE_SIZE / 4 {
        direct_write(pa + 4 * i as u64, pattern(seed, i));
    }
}

/// One entry under test and the two things it can point at.
struct Flip {
    /// The entry's address in the direct view.
    addr: u64,
    /// Entry size in bytes.
    es: usize,
    /// VA translated through the entry.
    va: u64,
    /// Entry values (P|RW) that make `va` show frame A / frame B.
    val_a: u64,
    val_b: u64,
    /// Pattern seeds of frames A and B.
    seed_a: u32,
    seed_b: u32,
    /// Physical address of frame A (holds a `ret` at RET_OFFSET).
    pa_a: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sees {
    A,
    B,
    /// B through a read-only entry.
    BReadOnly,
    NotPresent,
}

// Stores of each width to an entry.  The tables are identity mapped and
// writable (HVM) or read-only with Xen's writable-pagetable emulation
// (PV); either way the store is a legitimate page-table update.

fn store8(addr: u64, v: u8) {
    // SAFETY: `addr` is a byte of a page-table entry the test owns (above).
    unsafe { (addr as usize as *mut u8).write_volatile(v) }
}
fn store16(addr: u64, v: u16) {
    // SAFETY: as for `store8`; naturally aligned within the entry.
    unsafe { (addr as usize as *mut u16).write_volatile(v) }
}
fn store32(addr: u64, v: u32) {
    // SAFETY: as for `store8`; naturally aligned within the entry.
    unsafe { (addr as usize as *mut u32).write_volatile(v) }
}
#[cfg(target_arch = "x86_64")]
fn store64(addr: u64, v: u64) {
    // SAFETY: as for `store8`; one `mov` of a whole 8-byte entry.
    unsafe { (addr as usize as *mut u64).write_volatile(v) }
}
fn atomic32(addr: u64) -> &'static AtomicU32 {
    // SAFETY: aligned entry (or half of one) that the test owns; only
    // accessed atomically or through volatile stores while in use.
    unsafe { AtomicU32::from_ptr(addr as usize as *mut u32) }
}
/// `cmpxchg8b` on i686 (max-atomic-width 64), `cmpxchg r64` on x86_64.
fn atomic64(addr: u64) -> &'static AtomicU64 {
    // SAFETY: as for `atomic32`; entries are 8-byte aligned.
    unsafe { AtomicU64::from_ptr(addr as usize as *mut u64) }
}

/// The entry's value now (plain reads: a locked 8-byte load on i686 would
/// be a `cmpxchg8b`, i.e. a write).
fn current(f: &Flip) -> u64 {
    read64(f.addr, f.es)
}

fn read64(addr: u64, size: usize) -> u64 {
    // SAFETY: reading an entry (or two 4-byte ones) the test owns.
    unsafe {
        let lo = (addr as usize as *const u32).read_volatile() as u64;
        if size == 4 {
            lo
        } else {
            lo | ((((addr + 4) as usize as *const u32).read_volatile() as u64) << 32)
        }
    }
}

/// Check what `f.va` shows right after a step (and the guest's flush).
fn expect(ctx: &mut Ctx, f: &Flip, step: &str, want: Sees) -> TestResult {
    ctx.mmu.flush(f.va);
    let off = 0x20;
    let r = exceptions::read32((f.va + off) as usize);
    let e = current(f);
    match want {
        Sees::NotPresent => {
            check_pf(step, r.map(|_| ()), f.va + off, 0)
                .map_err(|m| Msg::new(format_args!("{} (entry {:#x})", m.as_str(), e)))?;
            check_pf(step, write_fault(f.va + off, 1), f.va + off, PFEC_WRITE)?;
        }
        Sees::A | Sees::B | Sees::BReadOnly => {
            let seed = if want == Sees::A { f.seed_a } else { f.seed_b };
            let w = (off / 4) as usize;
            check!(
                r == Ok(pattern(seed, w)),
                "{}: read {:x?}, want frame {:?} ({:#x}); entry now {:#x}",
                step,
                r,
                want,
                pattern(seed, w),
                e
            );
            if want == Sees::BReadOnly {
                check_pf(
                    step,
                    write_fault(f.va + off, 1),
                    f.va + off,
                    PFEC_PRESENT | PFEC_WRITE,
                )?;
            } else {
                // Write the word's own value back: proves the entry is
                // writable without disturbing the pattern.
                let wr = exceptions::write32((f.va + off) as usize, pattern(seed, w));
                check!(wr.is_ok(), "{}: write faulted: {:?}", step, wr);
            }
        }
    }
    Ok(())
}

/// The width steps, shared by the leaf-entry and directory-entry tests.
/// Starts with the entry showing A, ends with it showing B.
fn width_steps(ctx: &mut Ctx, f: &Flip) -> TestResult {
    expect(ctx, f, "initial entry", Sees::A)?;

    // 1 byte: byte 1 holds address bits 8..15, where A and B differ.
    store8(f.addr + 1, (f.val_b >> 8) as u8);
    let want = if broken() { Sees::A } else { Sees::B };
    expect(ctx, f, "byte store to byte 1 (address bits)", want)?;
    store8(f.addr, 0);
    expect(ctx, f, "byte store of 0 to byte 0 (P=0)", Sees::NotPresent)?;
    store8(f.addr, P as u8);
    expect(ctx, f, "byte store of P to byte 0", Sees::BReadOnly)?;

    // 2 bytes: flags and the low address bits.
    store16(f.addr, f.val_a as u16);
    expect(ctx, f, "2-byte store", Sees::A)?;

    // 4 bytes (a whole 2-level entry, the low half of an 8-byte one).
    store32(f.addr, (f.val_b & !RW) as u32);
    expect(ctx, f, "4-byte store (read-only B)", Sees::BReadOnly)?;

    // 8 bytes with one `mov` (64-bit code only; 32-bit code uses
    // cmpxchg8b below).
    #[cfg(target_arch = "x86_64")]
    {
        store64(f.addr, f.val_a);
        expect(ctx, f, "8-byte store", Sees::A)?;
    }
    #[cfg(target_arch = "x86")]
    {
        store32(f.addr, f.val_a as u32);
        expect(ctx, f, "4-byte store", Sees::A)?;
    }

    // cmpxchg of the entry's width, succeeding then failing.
    let old = current(f);
    let r = if f.es == 4 {
        atomic32(f.addr)
            .compare_exchange(old as u32, f.val_b as u32, SeqCst, SeqCst)
            .map(|v| v as u64)
            .map_err(|v| v as u64)
    } else {
        atomic64(f.addr).compare_exchange(old, f.val_b, SeqCst, SeqCst)
    };
    check!(r == Ok(old), "cmpxchg from {:#x}: {:x?}", old, r);
    expect(ctx, f, "cmpxchg", Sees::B)?;
    let now = current(f);
    let r = if f.es == 4 {
        atomic32(f.addr)
            .compare_exchange(now as u32 ^ 0x1000, 0, SeqCst, SeqCst)
            .map(|v| v as u64)
            .map_err(|v| v as u64)
    } else {
        atomic64(f.addr).compare_exchange(now ^ 0x1000, 0, SeqCst, SeqCst)
    };
    check!(
        r == Err(now),
        "cmpxchg with a wrong comparand: {:x?}, want Err({:#x})",
        r,
        now
    );
    expect(ctx, f, "failed cmpxchg", Sees::B)?;

    if f.es == 8 {
        // 4-byte cmpxchg on the low half of an 8-byte entry.
        let now = current(f);
        let r = atomic32(f.addr).compare_exchange(now as u32, f.val_a as u32, SeqCst, SeqCst);
        check!(
            r == Ok(now as u32),
            "4-byte cmpxchg on the low half: {:x?}",
            r
        );
        expect(ctx, f, "4-byte cmpxchg on the low half", Sees::A)?;
    } else {
        store32(f.addr, f.val_a as u32);
        expect(ctx, f, "4-byte store", Sees::A)?;
    }

    // xchg: clear, then install B.
    let old = if f.es == 4 {
        atomic32(f.addr).swap(0, SeqCst) as u64
    } else {
        atomic64(f.addr).swap(0, SeqCst)
    };
    check!(
        old & P != 0,
        "xchg returned {:#x}, want a present entry",
        old
    );
    expect(ctx, f, "xchg with 0", Sees::NotPresent)?;
    if f.es == 4 {
        atomic32(f.addr).swap(f.val_b as u32, SeqCst);
    } else {
        atomic64(f.addr).swap(f.val_b, SeqCst);
    }
    expect(ctx, f, "xchg installing B", Sees::B)?;

    if f.es == 8 {
        halves(ctx, f)?;
    }
    Ok(())
}

/// The two halves of an 8-byte entry written separately, in the order a
/// 32-bit PAE kernel uses: clear the low half (P) first, change the high
/// half (NX) while the entry is not present, then write the low half.
fn halves(ctx: &mut Ctx, f: &Flip) -> TestResult {
    let nx = ctx.mmu.nx;
    store32(f.addr, 0);
    expect(ctx, f, "low half cleared", Sees::NotPresent)?;
    store32(f.addr + 4, if nx { (NX >> 32) as u32 } else { 0 });
    expect(
        ctx,
        f,
        "high half written while not present",
        Sees::NotPresent,
    )?;
    store32(f.addr, f.val_a as u32);
    expect(ctx, f, "low half written (A, NX)", Sees::A)?;
    let target = f.va + RET_OFFSET;
    if nx {
        check_pf(
            "fetch after setting NX in the high half",
            exceptions::exec(target as usize),
            target,
            PFEC_PRESENT | PFEC_INSN,
        )?;
    }
    // High half back to 0 while present: NX goes away.
    store32(f.addr + 4, 0);
    ctx.mmu.flush(f.va);
    let r = exceptions::exec(target as usize);
    check!(
        r.is_ok(),
        "fetch after clearing the high half faulted: {:?} (entry {:#x})",
        r,
        current(f)
    );
    // And the low half alone switches the frame.
    store32(f.addr, f.val_b as u32);
    expect(ctx, f, "low half written (B)", Sees::B)?;
    Ok(())
}

fn prepare_frame_a(pa_a: u64) {
    // SAFETY: data frame from the pool, writable in the direct view.
    unsafe { ((pa_a + RET_OFFSET) as usize as *mut u8).write_volatile(0xc3) };
}

/// Every store width on a live leaf entry (PTE), in every mode.  PV: each
/// store is emulated by Xen (`ptwr`), partial ones merged into the entry.
pub(super) fn pte_write_widths(ctx: &mut Ctx) -> TestResult {
    let (a, b) = frame_pair(ctx, 300)?;
    prepare_frame_a(a);
    // Start of a leaf table, so that index 0 is 8-byte aligned for the
    // 2-level cmpxchg8b step below.
    let va = ctx.fresh_va_new_table_pages(3);
    ctx.map(va, a, P | RW)?;
    let s = ctx.mmu.slot(va, 1, false)?;
    let f = Flip {
        addr: ctx.mmu.entry_addr(s),
        es: ctx.mmu.entry_size(),
        va,
        val_a: ctx.mmu.read(s),
        val_b: ctx.mmu.pte(b, P | RW),
        seed_a: 300,
        seed_b: 301,
        pa_a: a,
    };
    // The initial value as written (PV may have added bits); A|D may come
    // later, so compare addresses only.
    check!(
        ctx.mmu.entry_pa(f.val_a) == f.pa_a,
        "initial PTE {:#x}",
        f.val_a
    );
    width_steps(ctx, &f)?;

    if f.es == 4 {
        // 2-level: one cmpxchg8b writes two neighbouring PTEs at once.
        let s2 = Slot {
            table: s.table,
            index: s.index + 1,
        };
        check!(ctx.mmu.read(s2) == 0, "second PTE already used");
        let old = read64(f.addr, 8);
        let new = (f.val_b << 32) | f.val_a;
        let r = atomic64(f.addr).compare_exchange(old, new, SeqCst, SeqCst);
        check!(r == Ok(old), "cmpxchg8b over two PTEs: {:x?}", r);
        ctx.mmu.flush(va);
        ctx.mmu.flush(va + 4096);
        let r0 = exceptions::read32(va as usize + 8);
        let r1 = exceptions::read32(va as usize + 4096 + 8);
        check!(
            r0 == Ok(pattern(300, 2)) && r1 == Ok(pattern(301, 2)),
            "after cmpxchg8b over two PTEs: {:?} / {:?}, want A / B",
            r0,
            r1
        );
    }
    Ok(())
}

/// HVM: every store width on a live directory entry (level 2).  Directory
/// tables never go out of sync, so each store is emulated by the shadow
/// code and must be propagated to the shadow directory at once.
pub(super) fn pde_write_widths(ctx: &mut Ctx) -> TestResult {
    let a = pattern_frame(310);
    let b = pattern_frame(311);
    prepare_frame_a(a);
    // Two leaf tables at an even/odd frame pair (entries differ in bit 12).
    let (t1, t2) = loop {
        let t = frames::alloc();
        if t & 0x1000 == 0 {
            break (t, frames::alloc());
        }
    };
    let va = ctx.fresh_va_new_table();
    let idx = ((va >> 12) & (if ctx.mmu.entry_size() == 4 { 1023 } else { 511 })) as usize;
    let pa_pte = ctx.mmu.pte(a, P | RW);
    let pb_pte = ctx.mmu.pte(b, P | RW);
    ctx.mmu.write_direct(
        Slot {
            table: t1,
            index: idx,
        },
        pa_pte,
    );
    ctx.mmu.write_direct(
        Slot {
            table: t2,
            index: idx,
        },
        pb_pte,
    );
    let s = ctx.mmu.slot(va, 2, true)?;
    check!(ctx.mmu.read(s) & P == 0, "directory entry already used");
    ctx.mmu.write(s, t1 | P | RW)?;
    let f = Flip {
        addr: ctx.mmu.entry_addr(s),
        es: ctx.mmu.entry_size(),
        va,
        val_a: t1 | P | RW,
        val_b: t2 | P | RW,
        seed_a: 310,
        seed_b: 311,
        pa_a: a,
    };
    width_steps(ctx, &f)?;
    // Leave nothing behind that a later test could trip over.
    ctx.mmu.write(s, 0)?;
    ctx.mmu.flush(va);
    Ok(())
}
