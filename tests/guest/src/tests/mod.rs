//! The paging tests.
//!
//! Each test gets fresh frames (from `frames`) and fresh virtual addresses
//! (from `Ctx::fresh_va*`, starting at `TEST_VA_BASE`, far from the image),
//! so tests do not depend on each other.  A test returns
//! `Err(Failure::Fail(msg))` on the first check that does not hold (`check!`
//! builds that), or `Err(Failure::Skip(why))` when it cannot apply here.

// Failure messages live in a fixed buffer (there is no allocator), so the
// error variants are large on purpose.
#![allow(clippy::result_large_err)]

use crate::exceptions::{
    self, Fault, PF, PFEC_INSN, PFEC_PRESENT, PFEC_RSVD, PFEC_USER, PFEC_WRITE,
};
use crate::frames;
use crate::paging::{Format, Mmu, A, D, NX, P, RW};
use crate::report;
use crate::{arch, xen, Mode};
use core::fmt::{self, Write};

/// First virtual address handed to tests: 1 GiB, above the image and below
/// anything Xen reserves in any mode.
const TEST_VA_BASE: u64 = 0x4000_0000;

/// A failure message, formatted into a fixed buffer (no allocator here).
pub struct Msg {
    buf: [u8; 200],
    len: usize,
}

impl Msg {
    pub fn new(args: fmt::Arguments<'_>) -> Msg {
        let mut m = Msg {
            buf: [0; 200],
            len: 0,
        };
        let _ = m.write_fmt(args);
        m
    }
    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("<bad utf8>")
    }
}

impl Write for Msg {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len < self.buf.len() {
                self.buf[self.len] = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

impl From<crate::paging::Error> for Msg {
    fn from(e: crate::paging::Error) -> Msg {
        Msg::new(format_args!("page-table update: {}", e))
    }
}

pub enum Failure {
    Fail(Msg),
    Skip(&'static str),
}

impl From<Msg> for Failure {
    fn from(m: Msg) -> Failure {
        Failure::Fail(m)
    }
}

impl From<crate::paging::Error> for Failure {
    fn from(e: crate::paging::Error) -> Failure {
        Failure::Fail(e.into())
    }
}

type TestResult = Result<(), Failure>;

macro_rules! check {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(Msg::new(format_args!($($arg)+)).into());
        }
    };
}

mod faults;
mod linear;
mod oos;
mod pressure;
mod pt_writes;
mod pv;
mod smp;
mod spaces;

/// `break=<test name>` on the command line: the named test deliberately
/// expects something wrong at one of its key checks, to show that the
/// check can fail (see docs/testing.md).  The tests in the submodules
/// consult it.
fn broken() -> bool {
    match (crate::cmdline::value("break"), report::current()) {
        (Some(b), Some(name)) => b == name.as_bytes(),
        _ => false,
    }
}

pub struct Ctx {
    pub mode: Mode,
    pub mmu: Mmu,
    next_va: u64,
}

impl Ctx {
    /// `pages` unused virtual pages followed by an unmapped guard page, all
    /// covered by the same leaf table.
    fn fresh_va(&mut self, pages: u64) -> u64 {
        let sz = self.mmu.fmt.large_page_size();
        let len = (pages + 1) * 4096;
        if (self.next_va & (sz - 1)) + len > sz {
            self.next_va = (self.next_va + sz - 1) & !(sz - 1);
        }
        let va = self.next_va;
        self.next_va += len;
        va
    }

    /// A virtual page whose leaf table does not exist yet (start of a new
    /// superpage-sized region).
    fn fresh_va_new_table(&mut self) -> u64 {
        let sz = self.mmu.fmt.large_page_size();
        self.next_va = (self.next_va + sz - 1) & !(sz - 1);
        self.fresh_va(1)
    }

    /// `pages` unused virtual pages (and a guard page) at the start of a
    /// new leaf table.
    fn fresh_va_new_table_pages(&mut self, pages: u64) -> u64 {
        let sz = self.mmu.fmt.large_page_size();
        self.next_va = (self.next_va + sz - 1) & !(sz - 1);
        self.fresh_va(pages)
    }

    /// A superpage-aligned virtual region of one superpage.
    fn fresh_large_va(&mut self) -> u64 {
        let sz = self.mmu.fmt.large_page_size();
        self.next_va = (self.next_va + sz - 1) & !(sz - 1);
        let va = self.next_va;
        self.next_va += 2 * sz;
        va
    }

    /// Map `pa` at `va` and flush the old translation.
    fn map(&mut self, va: u64, pa: u64, flags: u64) -> Result<(), Msg> {
        self.mmu.map(va, pa, flags)?;
        self.mmu.flush(va);
        Ok(())
    }

    fn leaf(&mut self, va: u64) -> Result<u64, Msg> {
        Ok(self.mmu.leaf(va)?)
    }
}

// ----- helpers ---------------------------------------------------------------

/// A fresh frame filled with a recognisable pattern derived from `seed`.
fn pattern_frame(seed: u32) -> u64 {
    let pa = frames::alloc();
    for i in 0..frames::PAGE_SIZE / 4 {
        direct_write(pa + 4 * i as u64, pattern(seed, i));
    }
    pa
}

fn pattern(seed: u32, i: usize) -> u32 {
    seed.wrapping_mul(0x9e37_79b9) ^ (i as u32).wrapping_mul(0x0101_0101)
}

/// Access a frame through the kernel's direct view (physical address ==
/// virtual address in every mode, see `frames`).
fn direct_read(pa: u64) -> u32 {
    // SAFETY: `pa` lies in a frame from `frames`, mapped in the direct view.
    unsafe { (pa as usize as *const u32).read_volatile() }
}

fn direct_write(pa: u64, v: u32) {
    // SAFETY: as for `direct_read`; data frames stay writable there.
    unsafe { (pa as usize as *mut u32).write_volatile(v) }
}

/// Read through a test mapping; a fault is a test failure.
fn must_read(va: u64) -> Result<u32, Msg> {
    exceptions::read32(va as usize)
        .map_err(|f| Msg::new(format_args!("read {:#x} faulted: {}", va, f)))
}

fn must_write(va: u64, v: u32) -> Result<(), Msg> {
    exceptions::write32(va as usize, v)
        .map_err(|f| Msg::new(format_args!("write {:#x} faulted: {}", va, f)))
}

/// The fault must be a #PF at `addr` with exactly `ec` in the P, W, U, RSVD
/// and I/D bits.
fn check_pf(what: &str, r: Result<(), Fault>, addr: u64, ec: u64) -> Result<(), Msg> {
    let f = match r {
        Ok(()) => {
            return Err(Msg::new(format_args!(
                "{} at {:#x} did not fault",
                what, addr
            )))
        }
        Err(f) => f,
    };
    let mask = PFEC_PRESENT | PFEC_WRITE | PFEC_USER | PFEC_RSVD | PFEC_INSN;
    check!(
        f.vector == PF && f.error_code & mask == ec && f.cr2 == addr,
        "{}: expected #PF ec={:#x} cr2={:#x}, got {}",
        what,
        ec,
        addr,
        f
    );
    Ok(())
}

fn read_fault(va: u64) -> Result<(), Fault> {
    exceptions::read32(va as usize).map(|_| ())
}

fn write_fault(va: u64, v: u32) -> Result<(), Fault> {
    exceptions::write32(va as usize, v)
}

// ----- the tests -------------------------------------------------------------

/// Map a frame at an address whose intermediate tables do not exist yet;
/// data written through the new mapping must land in the frame and vice versa.
fn map_new_va(ctx: &mut Ctx) -> TestResult {
    let pa = pattern_frame(1);
    let va = ctx.fresh_va_new_table();
    ctx.map(va, pa, P | RW)?;
    for i in [0usize, 1, 511, 1023] {
        let got = must_read(va + 4 * i as u64)?;
        check!(
            got == pattern(1, i),
            "word {} via {:#x}: got {:#x}, want {:#x}",
            i,
            va,
            got,
            pattern(1, i)
        );
    }
    must_write(va + 8, 0x1234_5678)?;
    check!(
        direct_read(pa + 8) == 0x1234_5678,
        "write via {:#x} not seen in frame {:#x}",
        va,
        pa
    );
    direct_write(pa + 12, 0xabcd_ef01);
    let got = must_read(va + 12)?;
    check!(
        got == 0xabcd_ef01,
        "frame write not seen via {:#x}: {:#x}",
        va,
        got
    );
    Ok(())
}

/// 64-bit only: mappings that need new top-level entries, in the lower and
/// the upper canonical half.
fn map_new_l4_slots(ctx: &mut Ctx) -> TestResult {
    for (n, va) in [0x0000_7fff_ffe0_0000u64, 0xffff_ff80_0000_0000u64]
        .into_iter()
        .enumerate()
    {
        let seed = 10 + n as u32;
        let pa = pattern_frame(seed);
        ctx.map(va, pa, P | RW)?;
        let got = must_read(va + 40)?;
        check!(
            got == pattern(seed, 10),
            "via {:#x}: got {:#x}, want {:#x}",
            va,
            got,
            pattern(seed, 10)
        );
        must_write(va + 44, 0x5a5a_0000 + n as u32)?;
        check!(
            direct_read(pa + 44) == 0x5a5a_0000 + n as u32,
            "write via {:#x} lost",
            va
        );
    }
    Ok(())
}

/// Two virtual aliases of one frame see each other's writes.
fn alias_two_vas(ctx: &mut Ctx) -> TestResult {
    let pa = pattern_frame(2);
    let va1 = ctx.fresh_va(1);
    let va2 = ctx.fresh_va_new_table();
    ctx.map(va1, pa, P | RW)?;
    ctx.map(va2, pa, P | RW)?;
    must_write(va1 + 100, 0xcafe_0001)?;
    let got = must_read(va2 + 100)?;
    check!(
        got == 0xcafe_0001,
        "write via {:#x} read via {:#x}: {:#x}",
        va1,
        va2,
        got
    );
    must_write(va2 + 200, 0xcafe_0002)?;
    let got = must_read(va1 + 200)?;
    check!(
        got == 0xcafe_0002,
        "write via {:#x} read via {:#x}: {:#x}",
        va2,
        va1,
        got
    );
    Ok(())
}

/// Reading a page whose PTE is not present: #PF, P=0 W=0, CR2 = address.
/// Also for an address whose leaf table does not exist at all.
fn notpresent_read(ctx: &mut Ctx) -> TestResult {
    let pa = pattern_frame(3);
    let va = ctx.fresh_va(2);
    // Present neighbour so that the leaf table exists; `va` itself stays 0.
    ctx.map(va + 4096, pa, P | RW)?;
    let e = ctx.leaf(va)?;
    check!(
        e & P == 0,
        "PTE for {:#x} unexpectedly present: {:#x}",
        va,
        e
    );
    check_pf(
        "read of not-present PTE",
        read_fault(va + 0x10),
        va + 0x10,
        0,
    )?;
    let far = ctx.fresh_va_new_table();
    check_pf(
        "read with no leaf table",
        read_fault(far + 0x7f8),
        far + 0x7f8,
        0,
    )?;
    // The neighbour still works after the faults.
    check!(
        must_read(va + 4096)? == pattern(3, 0),
        "neighbour mapping broken"
    );
    Ok(())
}

/// Writing a not-present page: #PF with P=0 W=1.
fn notpresent_write(ctx: &mut Ctx) -> TestResult {
    let pa = pattern_frame(4);
    let va = ctx.fresh_va(2);
    ctx.map(va + 4096, pa, P | RW)?;
    check_pf(
        "write of not-present PTE",
        write_fault(va + 0x24, 1),
        va + 0x24,
        PFEC_WRITE,
    )?;
    Ok(())
}

/// Read-only PTE: reads work, a write gives #PF P=1 W=1 (CR0.WP=1) and
/// changes nothing.
fn readonly_write(ctx: &mut Ctx) -> TestResult {
    if !ctx.mmu.is_pv() {
        check!(arch::read_cr0() & arch::CR0_WP != 0, "CR0.WP is clear");
    }
    let pa = pattern_frame(5);
    let va = ctx.fresh_va(1);
    ctx.map(va, pa, P)?;
    check!(
        must_read(va + 64)? == pattern(5, 16),
        "read via read-only mapping returned wrong data"
    );
    check_pf(
        "write to read-only PTE",
        write_fault(va + 64, 0xdead),
        va + 64,
        PFEC_PRESENT | PFEC_WRITE,
    )?;
    check!(
        direct_read(pa + 64) == pattern(5, 16),
        "frame changed by a faulting write"
    );
    Ok(())
}

/// Read-only, then upgraded to writable: after the flush the write works.
fn readonly_upgrade(ctx: &mut Ctx) -> TestResult {
    let pa = pattern_frame(6);
    let va = ctx.fresh_va(1);
    ctx.map(va, pa, P)?;
    check_pf(
        "write before upgrade",
        write_fault(va, 7),
        va,
        PFEC_PRESENT | PFEC_WRITE,
    )?;
    ctx.map(va, pa, P | RW)?;
    must_write(va, 7)?;
    check!(direct_read(pa) == 7, "write after upgrade not in frame");
    Ok(())
}

/// Point a PTE at another frame, INVLPG, and the new frame is visible.
fn remap_invlpg(ctx: &mut Ctx) -> TestResult {
    let pa1 = pattern_frame(7);
    let pa2 = pattern_frame(8);
    let va = ctx.fresh_va(1);
    ctx.map(va, pa1, P | RW)?;
    check!(must_read(va + 4)? == pattern(7, 1), "first mapping wrong");
    ctx.map(va, pa2, P | RW)?; // rewrites the PTE, then flushes
    let e = ctx.leaf(va)?;
    check!(
        ctx.mmu.entry_pa(e) == pa2,
        "PTE {:#x} does not point at {:#x}",
        e,
        pa2
    );
    let got = must_read(va + 4)?;
    check!(
        got == pattern(8, 1),
        "after remap+invlpg read {:#x}, want {:#x} (old frame: {:#x})",
        got,
        pattern(8, 1),
        pattern(7, 1)
    );
    must_write(va + 4, 0x600d)?;
    check!(
        direct_read(pa2 + 4) == 0x600d && direct_read(pa1 + 4) == pattern(7, 1),
        "write went to the wrong frame"
    );
    Ok(())
}

/// Clear a PTE, INVLPG, and the next access faults.
fn unmap_invlpg(ctx: &mut Ctx) -> TestResult {
    let pa = pattern_frame(9);
    let va = ctx.fresh_va(1);
    ctx.map(va, pa, P | RW)?;
    check!(must_read(va)? == pattern(9, 0), "mapping wrong");
    let s = ctx.mmu.slot(va, 1, false)?;
    ctx.mmu.write(s, 0)?;
    ctx.mmu.flush(va);
    check_pf("read after unmap", read_fault(va), va, 0)?;
    Ok(())
}

/// A and D: a fresh PTE with A=D=0 gets A on a read (D stays clear) and D
/// on a write.
fn accessed_dirty(ctx: &mut Ctx) -> TestResult {
    let pa = pattern_frame(10);
    let va = ctx.fresh_va(1);
    ctx.map(va, pa, P | RW)?;
    let e0 = ctx.leaf(va)?;
    check!(e0 & (A | D) == 0, "new PTE already has A/D: {:#x}", e0);
    must_read(va + 8)?;
    let e1 = ctx.leaf(va)?;
    check!(e1 & A != 0, "A not set by a read: {:#x}", e1);
    check!(e1 & D == 0, "D set by a read: {:#x}", e1);
    must_write(va + 8, 1)?;
    let e2 = ctx.leaf(va)?;
    check!(e2 & (A | D) == A | D, "A/D after a write: {:#x}", e2);
    Ok(())
}

/// A superpage (4 MiB with PSE, 2 MiB with PAE / long mode): reads and
/// writes at several offsets hit the right 4 KiB piece of the region.
fn superpage(ctx: &mut Ctx) -> TestResult {
    let size = ctx.mmu.fmt.large_page_size();
    let pa = frames::large_region();
    let va = ctx.fresh_large_va();
    for k in [0u64, 1, size / 4096 / 2, size / 4096 - 1] {
        direct_write(pa + k * 4096 + 12, 0x5000_0000 + k as u32);
    }
    ctx.mmu.map_large(va, pa, P | RW)?;
    ctx.mmu.flush(va);
    for k in [0u64, 1, size / 4096 / 2, size / 4096 - 1] {
        let got = must_read(va + k * 4096 + 12)?;
        check!(
            got == 0x5000_0000 + k as u32,
            "page {} of superpage: got {:#x}",
            k,
            got
        );
        must_write(va + k * 4096 + 16, 0x6000_0000 + k as u32)?;
        check!(
            direct_read(pa + k * 4096 + 16) == 0x6000_0000 + k as u32,
            "write to page {} of superpage lost",
            k
        );
    }
    let s = ctx.mmu.slot(va, 2, false)?;
    let e = ctx.mmu.read(s);
    check!(
        e & (A | D) == A | D,
        "superpage entry A/D not set after read+write: {:#x}",
        e
    );
    // A not-present superpage entry faults like a 4 KiB one.
    ctx.mmu.write(s, 0)?;
    ctx.mmu.flush(va);
    check_pf(
        "read of cleared superpage",
        read_fault(va + 0x3000),
        va + 0x3000,
        0,
    )?;
    Ok(())
}

/// HVM: two address spaces that differ in one place; loading CR3 switches
/// what a virtual address means, and switching back restores it.
fn cr3_switch(ctx: &mut Ctx) -> TestResult {
    let pa1 = pattern_frame(11);
    let pa2 = pattern_frame(12);
    // A VA in its own top-level slot (PAE: its own PDPT slot would change
    // the PDPTEs, so there use a separate leaf table under a shared L2 and
    // give the clone a private copy of that L2 instead).
    let va = match ctx.mmu.fmt {
        Format::Long4 => 0x0000_4000_0000_0000,
        Format::TwoLevel => 0xc000_0000,
        Format::Pae => 0xc000_0000,
    };
    ctx.map(va, pa1, P | RW)?;
    let mut other = ctx.mmu.clone_root()?;
    let top = ctx.mmu.fmt.levels();
    if ctx.mmu.fmt == Format::Pae {
        // PDPT[3] -> private copy of the L2 table, whose entry for `va`
        // points at a private leaf table.
        let l2_copy = frames::alloc();
        let old_l2 = ctx.mmu.entry_pa(ctx.mmu.read(crate::paging::Slot {
            table: ctx.mmu.root,
            index: 3,
        }));
        for i in 0..512 {
            let v = ctx.mmu.read(crate::paging::Slot {
                table: old_l2,
                index: i,
            });
            other.write_direct(
                crate::paging::Slot {
                    table: l2_copy,
                    index: i,
                },
                v,
            );
        }
        other.write_direct(
            crate::paging::Slot {
                table: other.root,
                index: 3,
            },
            l2_copy | P,
        );
        let s = other.slot(va, 2, false)?;
        other.write(s, 0)?;
    } else {
        let s = other.slot(va, top, false)?;
        other.write(s, 0)?;
    }
    other.map(va, pa2, P | RW)?;

    let old_cr3 = arch::read_cr3();
    check!(
        must_read(va)? == pattern(11, 0),
        "before switch: wrong frame"
    );
    // SAFETY: `other` is a copy of the current tables except around `va`,
    // so code, stack and data stay mapped.
    unsafe { arch::write_cr3(other.root as usize) };
    let in_other = exceptions::read32(va as usize);
    let w = exceptions::write32(va as usize + 4, 0x0dd0);
    // SAFETY: back to the original tables.
    unsafe { arch::write_cr3(old_cr3) };
    check!(
        in_other == Ok(pattern(12, 0)),
        "in second address space read {:?}, want {:#x}",
        in_other,
        pattern(12, 0)
    );
    check!(
        w.is_ok() && direct_read(pa2 + 4) == 0x0dd0,
        "write in second address space: {:?}",
        w
    );
    let back = must_read(va)?;
    check!(
        back == pattern(11, 0),
        "after switching back read {:#x}, want {:#x}",
        back,
        pattern(11, 0)
    );
    check!(
        direct_read(pa1 + 4) == pattern(11, 1),
        "first frame modified"
    );
    Ok(())
}

/// PV: map with a plain store to the (read-only) leaf table, which Xen's
/// writable-pagetable emulation validates and applies.
fn pv_ptwr_store(ctx: &mut Ctx) -> TestResult {
    let pa = pattern_frame(13);
    let va = ctx.fresh_va(2);
    // Create the leaf table through a neighbour mapping.
    ctx.map(va + 4096, pa, P)?;
    let s = ctx.mmu.slot(va, 1, false)?;
    let pte = ctx.mmu.pte(pa, P | RW);
    ctx.mmu.write_direct(s, pte);
    let e = ctx.mmu.read(s);
    check!(
        e & P != 0 && ctx.mmu.entry_pa(e) == pa,
        "PTE after emulated store: {:#x}",
        e
    );
    ctx.mmu.flush(va);
    check!(
        must_read(va + 20)? == pattern(13, 5),
        "read via emulated mapping wrong"
    );
    must_write(va + 20, 99)?;
    check!(
        direct_read(pa + 20) == 99,
        "write via emulated mapping lost"
    );
    Ok(())
}

/// PV: HYPERVISOR_update_va_mapping (map, remap, unmap with its own flush).
fn pv_update_va_mapping(ctx: &mut Ctx) -> TestResult {
    let pa1 = pattern_frame(14);
    let pa2 = pattern_frame(15);
    let va = ctx.fresh_va(2);
    ctx.map(va + 4096, pa1, P)?; // leaf table must exist for update_va_mapping
    let rc = xen::update_va_mapping(va, ctx.mmu.pte(pa1, P | RW), xen::UVMF_INVLPG);
    check!(rc == 0, "update_va_mapping(map) rc={}", rc);
    check!(must_read(va)? == pattern(14, 0), "first mapping wrong");
    let rc = xen::update_va_mapping(va, ctx.mmu.pte(pa2, P | RW), xen::UVMF_INVLPG);
    check!(rc == 0, "update_va_mapping(remap) rc={}", rc);
    check!(must_read(va)? == pattern(15, 0), "remap not visible");
    let rc = xen::update_va_mapping(va, 0, xen::UVMF_INVLPG);
    check!(rc == 0, "update_va_mapping(unmap) rc={}", rc);
    check_pf("read after update_va_mapping unmap", read_fault(va), va, 0)?;
    Ok(())
}

/// PV: Xen must refuse a writable mapping of a page-table page, and must
/// refuse to use a page that is mapped writable as a page table.
fn pv_refuse_writable_pt(ctx: &mut Ctx) -> TestResult {
    let va = ctx.fresh_va_new_table(); // index 0; index 1 is its guard page
    let pa = pattern_frame(16);
    ctx.map(va, pa, P | RW)?; // creates a leaf table
    let s = ctx.mmu.slot(va, 1, false)?;
    let l1 = s.table;
    // 1. Writable mapping of the leaf table itself.
    let r = ctx.mmu.write(
        crate::paging::Slot {
            table: l1,
            index: s.index + 1,
        },
        ctx.mmu.pte(l1, P | RW),
    );
    check!(
        r.is_err(),
        "Xen accepted a writable mapping of a page table"
    );
    check!(
        ctx.mmu.read(crate::paging::Slot {
            table: l1,
            index: s.index + 1
        }) & P
            == 0,
        "refused update still wrote the PTE"
    );
    // 2. A writable data frame used as a leaf table.
    let far = ctx.fresh_va_new_table();
    let data = frames::alloc(); // still mapped writable in the direct view
    let l2 = ctx.mmu.slot(far, 2, true)?;
    let r = ctx.mmu.write(l2, ctx.mmu.pte(data, P | RW | A));
    check!(r.is_err(), "Xen accepted a writable frame as a page table");
    Ok(())
}

/// NX: code in a page runs through an executable mapping; through an NX
/// mapping the fetch faults with P=1 I/D=1 at the target address.
fn nx_exec(ctx: &mut Ctx) -> TestResult {
    if !ctx.mmu.nx {
        return Err(Failure::Skip("CPU or mode without NX"));
    }
    let pa = frames::alloc();
    // SAFETY: fresh frame from the pool, writable in the direct view.
    unsafe { (pa as usize as *mut u8).write_volatile(0xc3) }; // ret
    let va = ctx.fresh_va(1);
    ctx.map(va, pa, P | RW)?;
    let r = exceptions::exec(va as usize);
    check!(
        r.is_ok(),
        "executing via an executable mapping faulted: {:?}",
        r
    );
    ctx.map(va, pa, P | RW | NX)?;
    check_pf(
        "fetch from NX page",
        exceptions::exec(va as usize),
        va,
        PFEC_PRESENT | PFEC_INSN,
    )?;
    // Data accesses through the NX mapping still work.
    check!(must_read(va)? & 0xff == 0xc3, "read via NX mapping wrong");
    Ok(())
}

/// HVM: write a PTE through a second, later-created mapping of the leaf
/// table page (not the identity map the kernel normally uses).  The shadow
/// code must notice writes to a page table through any mapping of it.
fn pt_write_via_alias(ctx: &mut Ctx) -> TestResult {
    let pa1 = pattern_frame(17);
    let pa2 = pattern_frame(18);
    let va = ctx.fresh_va(1);
    ctx.map(va, pa1, P | RW)?;
    check!(must_read(va + 16)? == pattern(17, 4), "first mapping wrong");
    let s = ctx.mmu.slot(va, 1, false)?;
    let alias = ctx.fresh_va_new_table();
    ctx.map(alias, s.table, P | RW)?;
    let esize = if ctx.mmu.fmt == Format::TwoLevel {
        4
    } else {
        8
    };
    let new = ctx.mmu.pte(pa2, P | RW);
    // Entries here are below 4 GiB, so the upper half (if any) stays 0.
    must_write(alias + (s.index * esize) as u64, new as u32)?;
    check!(
        ctx.mmu.read(s) == new,
        "PTE not updated by the alias write: {:#x}",
        ctx.mmu.read(s)
    );
    ctx.mmu.flush(va);
    let got = must_read(va + 16)?;
    check!(
        got == pattern(18, 4),
        "after PTE write via alias + invlpg read {:#x}, want {:#x}",
        got,
        pattern(18, 4)
    );
    Ok(())
}

/// hvm32 (CR4.PSE=0): the PS bit of a 2-level PDE is ignored, so the PDE
/// still points at a leaf table and 4 KiB mappings keep working.
fn pse_bit_ignored(ctx: &mut Ctx) -> TestResult {
    check!(arch::read_cr4() & arch::CR4_PSE == 0, "CR4.PSE is set");
    let pa = pattern_frame(19);
    let va = ctx.fresh_va_new_table();
    ctx.map(va, pa, P | RW)?;
    let s = ctx.mmu.slot(va, 2, false)?;
    let pde = ctx.mmu.read(s);
    ctx.mmu.write(s, pde | crate::paging::PS)?;
    ctx.mmu.flush(va);
    let r = exceptions::read32(va as usize + 8);
    ctx.mmu.write(s, pde)?;
    ctx.mmu.flush(va);
    check!(
        r == Ok(pattern(19, 2)),
        "with PDE.PS set and CR4.PSE clear: read {:?}, want {:#x}",
        r,
        pattern(19, 2)
    );
    Ok(())
}

// Framework self-checks, only run when asked for on the command line
// (`selftest=fail|fault|panic`): they show that failures, unexpected
// exceptions and panics are reported and counted.

fn selftest_fail(_: &mut Ctx) -> TestResult {
    check!(1 + 1 == 3, "deliberate failure (selftest=fail)");
    Ok(())
}

fn selftest_fault(ctx: &mut Ctx) -> TestResult {
    let va = ctx.fresh_va(1);
    // SAFETY: deliberately touches an unmapped page without a probe; the
    // resulting #PF takes the unexpected-exception path, which ends the run.
    let v = unsafe { (va as usize as *const u32).read_volatile() };
    check!(
        false,
        "read of unmapped {:#x} returned {:#x} without faulting",
        va,
        v
    );
    Ok(())
}

fn selftest_panic(_: &mut Ctx) -> TestResult {
    panic!("deliberate panic (selftest=panic)");
}

// ----- runner ----------------------------------------------------------------

struct Test {
    name: &'static str,
    run: fn(&mut Ctx) -> TestResult,
    applies: fn(Mode) -> bool,
}

fn all(_: Mode) -> bool {
    true
}
fn hvm(m: Mode) -> bool {
    !m.is_pv()
}
fn pv(m: Mode) -> bool {
    m.is_pv()
}
fn long(m: Mode) -> bool {
    m.is_64bit()
}
fn has_superpages(m: Mode) -> bool {
    matches!(m, Mode::Hvm64 | Mode::Hvm32Pse | Mode::Hvm32Pae)
}
fn has_nx_bit(m: Mode) -> bool {
    matches!(m, Mode::Hvm64 | Mode::Pv64 | Mode::Hvm32Pae | Mode::Pv32Pae)
}
fn hvm32_nopse(m: Mode) -> bool {
    m == Mode::Hvm32
}
fn never(_: Mode) -> bool {
    false
}

const TESTS: &[Test] = &[
    Test {
        name: "map_new_va",
        run: map_new_va,
        applies: all,
    },
    Test {
        name: "map_new_l4_slots",
        run: map_new_l4_slots,
        applies: long,
    },
    Test {
        name: "alias_two_vas",
        run: alias_two_vas,
        applies: all,
    },
    Test {
        name: "notpresent_read",
        run: notpresent_read,
        applies: all,
    },
    Test {
        name: "notpresent_write",
        run: notpresent_write,
        applies: all,
    },
    Test {
        name: "readonly_write",
        run: readonly_write,
        applies: all,
    },
    Test {
        name: "readonly_upgrade",
        run: readonly_upgrade,
        applies: all,
    },
    Test {
        name: "remap_invlpg",
        run: remap_invlpg,
        applies: all,
    },
    Test {
        name: "unmap_invlpg",
        run: unmap_invlpg,
        applies: all,
    },
    Test {
        name: "accessed_dirty",
        run: accessed_dirty,
        applies: all,
    },
    Test {
        name: "superpage",
        run: superpage,
        applies: has_superpages,
    },
    Test {
        name: "cr3_switch",
        run: cr3_switch,
        applies: hvm,
    },
    Test {
        name: "nx_exec",
        run: nx_exec,
        applies: has_nx_bit,
    },
    Test {
        name: "pt_write_via_alias",
        run: pt_write_via_alias,
        applies: hvm,
    },
    Test {
        name: "pse_bit_ignored",
        run: pse_bit_ignored,
        applies: hvm32_nopse,
    },
    Test {
        name: "pv_ptwr_store",
        run: pv_ptwr_store,
        applies: pv,
    },
    Test {
        name: "pv_update_va_mapping",
        run: pv_update_va_mapping,
        applies: pv,
    },
    Test {
        name: "pv_refuse_writable_pt",
        run: pv_refuse_writable_pt,
        applies: pv,
    },
    Test {
        name: "pte_write_widths",
        run: pt_writes::pte_write_widths,
        applies: all,
    },
    Test {
        name: "pde_write_widths",
        run: pt_writes::pde_write_widths,
        applies: hvm,
    },
    Test {
        name: "linear_pt",
        run: linear::linear_pt,
        applies: hvm,
    },
    Test {
        name: "many_address_spaces",
        run: spaces::many_address_spaces,
        applies: all,
    },
    Test {
        name: "pt_page_reuse",
        run: spaces::pt_page_reuse,
        applies: all,
    },
    Test {
        name: "oos_bulk_writes",
        run: oos::oos_bulk_writes,
        applies: all,
    },
    Test {
        name: "notpresent_repeat",
        run: faults::notpresent_repeat,
        applies: all,
    },
    Test {
        name: "mmio_lapic",
        run: faults::mmio_lapic,
        applies: hvm,
    },
    Test {
        name: "pv_linear_pt",
        run: pv::pv_linear_pt,
        applies: pv,
    },
    Test {
        name: "pv_ptwr_via_alias",
        run: pv::pv_ptwr_via_alias,
        applies: pv,
    },
    Test {
        name: "mmio_vga",
        run: pv::mmio_vga,
        applies: all,
    },
    // Two vCPUs (skipped with one).
    Test {
        name: "smp_pte_race",
        run: smp::smp_pte_race,
        applies: all,
    },
    Test {
        name: "smp_remap_flush",
        run: smp::smp_remap_flush,
        applies: all,
    },
    Test {
        name: "smp_fault_fresh",
        run: smp::smp_fault_fresh,
        applies: all,
    },
    Test {
        name: "smp_notpresent_flip",
        run: smp::smp_notpresent_flip,
        applies: all,
    },
    Test {
        name: "smp_cr3_switch",
        run: smp::smp_cr3_switch,
        applies: all,
    },
    // Last: it uses up the rest of the 32-bit address space.
    Test {
        name: "shadow_pool_pressure",
        run: pressure::shadow_pool_pressure,
        applies: all,
    },
    // Self-checks: `applies: never`, selected by name through `selftest=`.
    Test {
        name: "selftest_fail",
        run: selftest_fail,
        applies: never,
    },
    Test {
        name: "selftest_fault",
        run: selftest_fault,
        applies: never,
    },
    Test {
        name: "selftest_panic",
        run: selftest_panic,
        applies: never,
    },
];

fn selected(t: &Test, mode: Mode) -> bool {
    if let Some(rest) = t.name.strip_prefix("selftest_") {
        return crate::cmdline::value("selftest").is_some_and(|v| v == rest.as_bytes());
    }
    (t.applies)(mode)
        && crate::cmdline::only().is_none_or(|f| t.name.contains(f))
        && !crate::cmdline::skipped(t.name)
}

pub fn run_all(mode: Mode, mmu: Mmu) -> ! {
    let mut ctx = Ctx {
        mode,
        mmu,
        next_va: TEST_VA_BASE,
    };
    let n = TESTS.iter().filter(|t| selected(t, mode)).count();
    println!("running {} tests in mode {}", n, ctx.mode);
    report::set_planned(n as u32);
    for t in TESTS.iter().filter(|t| selected(t, mode)) {
        report::start(t.name);
        match (t.run)(&mut ctx) {
            Ok(()) => report::pass(),
            Err(Failure::Fail(m)) => report::fail(format_args!("{}", m.as_str())),
            Err(Failure::Skip(why)) => report::skip(format_args!("{}", why)),
        }
    }
    println!("frames used: {}", frames::used());
    report::finish()
}
