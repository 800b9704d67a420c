//! Log-dirty operations (64-bit image only).  A domain cannot run paging
//! domctls on itself (`paging_domctl` refuses `d == current->domain`), so
//! the benchmark dom0 creates a bare HVM domain with raw domctls
//! (createdomain, max_vcpus, max_mem, populate_physmap of 128 MiB or
//! 1 GiB in 2 MiB extents), never unpauses it, and times
//! `XEN_DOMCTL_shadow_op` ENABLE_LOGDIRTY and CLEAN on it.
//!
//! Layouts from Xen 4.17's public headers (domctl.h, interface version
//! 0x15; memory.h; arch-x86/xen.h).  The domain's vCPU never runs, so no
//! page gets dirtied: CLEAN walks an empty bitmap and copies zeros out.

use super::{ensure, rdtsc, Bench, Problem};
use crate::arch;
use crate::frames;
use crate::global::Global;

const HYPERVISOR_MEMORY_OP: usize = 12;
const HYPERVISOR_DOMCTL: usize = 36;
const INTERFACE_VERSION: u32 = 0x15;

const DOMCTL_CREATEDOMAIN: u32 = 1;
pub(super) const DOMCTL_SHADOW_OP: u32 = 10;
const DOMCTL_MAX_MEM: u32 = 11;
const DOMCTL_MAX_VCPUS: u32 = 15;
const CDF_HVM: u32 = 1;
const EMU_LAPIC: u32 = 1;
const SHADOW_OP_OFF: u32 = 0;
const SHADOW_OP_CLEAN: u32 = 11;
pub(super) const SHADOW_OP_ENABLE_LOGDIRTY: u32 = 2;
const XENMEM_POPULATE_PHYSMAP: usize = 6;
/// 2 MiB extents.
const EXTENT_ORDER: u32 = 9;

/// `struct xen_domctl`: 16-byte header, 128-byte union.
#[repr(C, align(8))]
pub(super) struct Domctl {
    cmd: u32,
    version: u32,
    domain: u16,
    pad: [u16; 3],
    u: [u8; 128],
}

impl Domctl {
    pub(super) fn new(cmd: u32, domain: u16) -> Domctl {
        Domctl {
            cmd,
            version: INTERFACE_VERSION,
            domain,
            pad: [0; 3],
            u: [0; 128],
        }
    }
    pub(super) fn put32(&mut self, off: usize, v: u32) {
        if let Some(b) = self.u.get_mut(off..off + 4) {
            b.copy_from_slice(&v.to_le_bytes());
        }
    }
    pub(super) fn put64(&mut self, off: usize, v: u64) {
        if let Some(b) = self.u.get_mut(off..off + 8) {
            b.copy_from_slice(&v.to_le_bytes());
        }
    }
    #[inline(always)]
    pub(super) fn call(&mut self) -> isize {
        // SAFETY: `self` is a live, correctly laid out `struct xen_domctl`;
        // Xen copies it in and out.
        unsafe { arch::xen_hypercall(HYPERVISOR_DOMCTL, self as *mut Domctl as usize, 0, 0, 0, 0) }
    }
}

/// `struct xen_memory_reservation` (64-bit layout).
#[repr(C)]
struct Reservation {
    extent_start: u64,
    nr_extents: u64,
    extent_order: u32,
    mem_flags: u32,
    domid: u16,
}

/// Domains made so far: (MiB, domid).
static DOMS: Global<[(u64, u16); 2]> = Global::new([(0, 0); 2]);
/// The dirty-bitmap buffer (8 contiguous frames: 1 GiB of pages).
static BITMAP: Global<u64> = Global::new(0);
const BITMAP_FRAMES: usize = 8;

pub(super) fn fail(what: &str, rc: isize) -> Problem {
    Problem::Fail(super::Msg::new(format_args!("{} rc={}", what, rc)))
}

/// Domctl `cmd` on domain `dom`, its arguments filled in by `fill`; the
/// domctl as Xen returned it, or a failure naming `what`.
pub(super) fn domctl(
    cmd: u32,
    dom: u16,
    what: &str,
    fill: impl FnOnce(&mut Domctl),
) -> Result<Domctl, Problem> {
    let mut d = Domctl::new(cmd, dom);
    fill(&mut d);
    let rc = d.call();
    if rc != 0 {
        return Err(fail(what, rc));
    }
    Ok(d)
}

/// A new, paused domain with one vCPU and room for `max_kib` of memory:
/// HVM (with an emulated local APIC, as the toolstack makes for a PVH
/// guest) or 64-bit PV.
pub(super) fn create_domain(hvm: bool, max_kib: u64) -> Result<u16, Problem> {
    let d = domctl(DOMCTL_CREATEDOMAIN, 0, "createdomain", |d| {
        // struct xen_domctl_createdomain: ssidref (0), handle[16] (4),
        // flags (20), iommu_opts (24), max_vcpus (28), max_evtchn_port
        // (32), max_grant_frames (36), max_maptrack_frames (40),
        // grant_opts (44), vmtrace_size (48), cpupool_id (52),
        // arch.emulation_flags (56), arch.misc_flags (60).
        if hvm {
            d.put32(20, CDF_HVM);
            d.put32(56, EMU_LAPIC);
        }
        d.put32(28, 1);
        d.put32(32, 63);
        d.put32(36, u32::MAX); // -1: Xen's default
        d.put32(40, u32::MAX); // -1: Xen's default
        d.put32(44, 1); // grant table version 1
    })?;
    let dom = d.domain;
    domctl(DOMCTL_MAX_VCPUS, dom, "max_vcpus", |d| d.put32(0, 1))?;
    domctl(DOMCTL_MAX_MEM, dom, "max_mem", |d| d.put64(0, max_kib))?;
    Ok(dom)
}

fn create(mib: u64) -> Result<u16, Problem> {
    let dom = create_domain(true, mib * 1024 + 1024)?;
    // Guest frame numbers of the extents, in one frame (up to 512).
    let list = frames::alloc();
    let n = (mib >> 1) as usize;
    ensure!(n <= 512, "{} MiB needs more than 512 extents", mib);
    for i in 0..n {
        // SAFETY: `list` is a fresh frame; i < 512 keeps us inside it.
        unsafe { ((list as usize as *mut u64).add(i)).write_volatile((i as u64) << EXTENT_ORDER) };
    }
    let mut done = 0usize;
    while done < n {
        let rc = populate_physmap(dom, list + 8 * done as u64, n - done, EXTENT_ORDER);
        if rc <= 0 {
            return Err(fail("populate_physmap", rc));
        }
        done += rc as usize;
    }
    Ok(dom)
}

/// `XENMEM_populate_physmap` for domain `dom`: `n` extents of `order`
/// whose guest frame numbers are the u64s at `list` (a non-translated
/// domain gets their machine frame numbers written back there).  Returns
/// Xen's count of extents done, or -errno.
pub(super) fn populate_physmap(dom: u16, list: u64, n: usize, order: u32) -> isize {
    let r = Reservation {
        extent_start: list,
        nr_extents: n as u64,
        extent_order: order,
        mem_flags: 0,
        domid: dom,
    };
    // SAFETY: `r` and the extent list are live for the call.
    unsafe {
        arch::xen_hypercall(
            HYPERVISOR_MEMORY_OP,
            XENMEM_POPULATE_PHYSMAP,
            &r as *const Reservation as usize,
            0,
            0,
            0,
        )
    }
}

fn domain(mib: u64) -> Result<u16, Problem> {
    let mut doms = DOMS.get();
    if let Some(&(_, id)) = doms.iter().find(|(m, _)| *m == mib) {
        return Ok(id);
    }
    let id = create(mib)?;
    if let Some(slot) = doms.iter_mut().find(|(m, _)| *m == 0) {
        *slot = (mib, id);
    }
    DOMS.set(doms);
    Ok(id)
}

pub(super) fn bitmap() -> Result<u64, Problem> {
    if BITMAP.get() == 0 {
        let first = frames::alloc();
        for i in 1..BITMAP_FRAMES as u64 {
            ensure!(
                frames::alloc() == first + i * 4096,
                "bitmap frames are not contiguous"
            );
        }
        BITMAP.set(first);
    }
    Ok(BITMAP.get())
}

/// A `XEN_DOMCTL_shadow_op` of `op` with a bitmap buffer of `pages` bits,
/// ready to call.
#[inline(always)]
fn shadow_op_domctl(dom: u16, op: u32, bitmap: u64, pages: u64) -> Domctl {
    let mut d = Domctl::new(DOMCTL_SHADOW_OP, dom);
    d.put32(0, op);
    d.put64(16, bitmap);
    d.put64(24, pages);
    d
}

#[inline(always)]
pub(super) fn shadow_op(dom: u16, op: u32, bitmap: u64, pages: u64) -> isize {
    shadow_op_domctl(dom, op, bitmap, pages).call()
}

/// CLEAN with the dirty bitmap copied to `bitmap` (`pages` bits); returns
/// Xen's code and the number of pages it reported dirty
/// (`stats.dirty_count`).
pub(super) fn clean_counted(dom: u16, bitmap: u64, pages: u64) -> (isize, u32) {
    let mut d = shadow_op_domctl(dom, SHADOW_OP_CLEAN, bitmap, pages);
    let rc = d.call();
    // struct xen_domctl_shadow_op_stats at 32: fault_count, dirty_count.
    let mut n = [0u8; 4];
    if let Some(b) = d.u.get(36..40) {
        n.copy_from_slice(b);
    }
    (rc, u32::from_le_bytes(n))
}

fn enable(b: &mut Bench, out: &mut [u64], mib: u64) -> Result<(), Problem> {
    let _ = b;
    let dom = domain(mib)?;
    for s in out.iter_mut() {
        let t0 = rdtsc();
        let rc = shadow_op(dom, SHADOW_OP_ENABLE_LOGDIRTY, 0, 0);
        let t1 = rdtsc();
        *s = t1.wrapping_sub(t0);
        if rc != 0 {
            return Err(fail("shadow_op ENABLE_LOGDIRTY", rc));
        }
        let rc = shadow_op(dom, SHADOW_OP_OFF, 0, 0);
        if rc != 0 {
            return Err(fail("shadow_op OFF", rc));
        }
    }
    Ok(())
}

fn clean(b: &mut Bench, out: &mut [u64], mib: u64) -> Result<(), Problem> {
    let _ = b;
    let dom = domain(mib)?;
    let bm = bitmap()?;
    let pages = mib * 256;
    let rc = shadow_op(dom, SHADOW_OP_ENABLE_LOGDIRTY, 0, 0);
    if rc != 0 {
        return Err(fail("shadow_op ENABLE_LOGDIRTY", rc));
    }
    for s in out.iter_mut() {
        let t0 = rdtsc();
        let rc = shadow_op(dom, SHADOW_OP_CLEAN, bm, pages);
        let t1 = rdtsc();
        *s = t1.wrapping_sub(t0);
        if rc != 0 {
            return Err(fail("shadow_op CLEAN", rc));
        }
    }
    let rc = shadow_op(dom, SHADOW_OP_OFF, 0, 0);
    if rc != 0 {
        return Err(fail("shadow_op OFF", rc));
    }
    Ok(())
}

pub fn enable_128m(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    enable(b, out, 128)
}
pub fn enable_1g(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    enable(b, out, 1024)
}
pub fn clean_128m(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    clean(b, out, 128)
}
pub fn clean_1g(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    clean(b, out, 1024)
}
