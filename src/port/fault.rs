//! multi.c blocks P, Q, R, S: tracing, the page-fault handler, INVLPG, gva_to_gfn.
//! `paging_mode` hooks (called through `sh_paging_mode__guest_N`).

use core::ffi::{c_int, c_ulong, c_void};

use ffi::bindings::{cpu_user_regs, p2m_domain};
use ffi::vcpu;
use xen_shadow_rs::level::GuestLevel;

use crate::xen::fault::Regs;
use crate::xen::{Vcpu, Xen};

/// `page_fault` hook: see `xen_shadow_rs::fault::sh_page_fault`.
///
/// # Safety
/// Called by Xen with a live vCPU of a shadow-mode domain (the faulting,
/// current one) and its live register frame.
pub unsafe extern "C" fn page_fault<L: GuestLevel>(
    v: *mut vcpu,
    va: c_ulong,
    regs: *mut cpu_user_regs,
) -> c_int {
    xen_shadow_rs::fault::sh_page_fault::<Xen, L>(&Xen, Vcpu(v), va, Regs(regs))
}

/// `invlpg` hook: see `xen_shadow_rs::tlb::sh_invlpg`.
///
/// # Safety
/// Called by Xen with the live, current vCPU of a shadow-mode domain.
pub unsafe extern "C" fn invlpg<L: GuestLevel>(v: *mut vcpu, linear: c_ulong) -> bool {
    xen_shadow_rs::tlb::sh_invlpg::<Xen, L>(&Xen, Vcpu(v), linear)
}

/// `gva_to_gfn` hook: see `xen_shadow_rs::tlb::sh_gva_to_gfn`.  The p2m
/// argument is unused, as in C.
///
/// # Safety
/// Called by Xen with a live vCPU of a shadow-mode domain and a valid
/// `pfec` pointer.
pub unsafe extern "C" fn gva_to_gfn<L: GuestLevel>(
    v: *mut vcpu,
    _p2m: *mut p2m_domain,
    va: c_ulong,
    pfec: *mut u32,
) -> c_ulong {
    // SAFETY: Xen passes a valid, writable pfec (the caller's local).
    let mut pf = unsafe { pfec.read() };
    let gfn = xen_shadow_rs::tlb::sh_gva_to_gfn::<Xen, L>(&Xen, Vcpu(v), va, &mut pf);
    // SAFETY: as above.
    unsafe { pfec.write(pf) };
    gfn
}

/// `shadow.trace_emul_write_val` hook: see
/// `xen_shadow_rs::trace::trace_emulate_write_val`.
///
/// # Safety
/// Called by the emulator's write callback (shadow/hvm.c) with `ptr` the
/// mapping of the `bytes` guest bytes just written at `vaddr` and `src`
/// the `bytes` bytes of data.
pub unsafe extern "C" fn trace_emul_write_val<L: GuestLevel>(
    ptr: *const c_void,
    vaddr: c_ulong,
    src: *const c_void,
    bytes: u32,
) {
    // SAFETY: `src` holds `bytes` readable bytes (the emulator's buffer).
    let src = unsafe { core::slice::from_raw_parts(src.cast::<u8>(), bytes as usize) };
    let full_pte = || {
        // The guest entry containing the write: `ptr` rounded down to the
        // entry size.  Rounding down to 8 bytes never leaves the mapped page
        // `ptr` points into, and the 8 bytes from there stay inside it.
        let pte = (ptr as usize & !(L::GUEST_PTE_BYTES - 1)) as *const u8;
        let mut b = [0u8; 8];
        let n = L::GUEST_PTE_BYTES.min(8);
        // SAFETY: see above; a byte copy, so no alignment requirement.
        unsafe { core::ptr::copy_nonoverlapping(pte, b.as_mut_ptr(), n) };
        u64::from_le_bytes(b)
    };
    xen_shadow_rs::trace::trace_emulate_write_val::<Xen, L>(&Xen, vaddr, src, full_pte)
}
