//! `sh_paging_mode__guest_N`: the dispatch tables through which the rest of
//! Xen reaches the per-level shadow code (multi.c block Y).  Fields that C
//! fills with common.c/pv.c functions point at those same functions; the
//! multi.c hooks point at the level-generic Rust hooks below.

use core::ffi::{c_int, c_ulong, c_void};

use ffi::bindings::{
    cpu_user_regs, mfn_t, p2m_domain, paddr_t, pagetable_t, paging_mode, shadow_paging_mode,
};
use ffi::vcpu;
use ffi::xen::{
    sh_cmpxchg_guest_entry, sh_write_guest_entry, shadow_flush_tlb, shadow_update_paging_modes,
};
use xen_shadow_rs::level::{GuestLevel, G2, G3, G4};

use crate::unported::unported_v;

unsafe extern "C" fn page_fault<L: GuestLevel>(
    v: *mut vcpu,
    _va: c_ulong,
    _regs: *mut cpu_user_regs,
) -> c_int {
    unported_v::<L>("sh_page_fault", v)
}

unsafe extern "C" fn invlpg<L: GuestLevel>(v: *mut vcpu, _linear: c_ulong) -> bool {
    unported_v::<L>("sh_invlpg", v)
}

unsafe extern "C" fn gva_to_gfn<L: GuestLevel>(
    v: *mut vcpu,
    _p2m: *mut p2m_domain,
    _va: c_ulong,
    _pfec: *mut u32,
) -> c_ulong {
    unported_v::<L>("sh_gva_to_gfn", v)
}

unsafe extern "C" fn update_cr3<L: GuestLevel>(v: *mut vcpu, _noflush: bool) -> pagetable_t {
    unported_v::<L>("sh_update_cr3", v)
}

unsafe extern "C" fn detach_old_tables<L: GuestLevel>(v: *mut vcpu) {
    unported_v::<L>("sh_detach_old_tables", v)
}

unsafe extern "C" fn guess_wrmap<L: GuestLevel>(
    v: *mut vcpu,
    _vaddr: c_ulong,
    _gmfn: mfn_t,
) -> c_int {
    unported_v::<L>("sh_guess_wrmap", v)
}

unsafe extern "C" fn pagetable_dying<L: GuestLevel>(_gpa: paddr_t) {
    unported_v::<L>("sh_pagetable_dying", ffi::xen::current())
}

unsafe extern "C" fn trace_emul_write_val<L: GuestLevel>(
    _ptr: *const c_void,
    _vaddr: c_ulong,
    _src: *const c_void,
    _bytes: u32,
) {
    unported_v::<L>("trace_emulate_write_val", ffi::xen::current())
}

const fn table<L: GuestLevel>() -> paging_mode {
    paging_mode {
        page_fault: Some(page_fault::<L>),
        invlpg: Some(invlpg::<L>),
        gva_to_gfn: Some(gva_to_gfn::<L>),
        p2m_ga_to_gfn: None, // HAP only
        update_cr3: Some(update_cr3::<L>),
        update_paging_modes: Some(shadow_update_paging_modes),
        flush_tlb: Some(shadow_flush_tlb),
        guest_levels: L::LEVELS,
        shadow: shadow_paging_mode {
            detach_old_tables: Some(detach_old_tables::<L>),
            write_guest_entry: Some(sh_write_guest_entry),
            cmpxchg_guest_entry: Some(sh_cmpxchg_guest_entry),
            guess_wrmap: Some(guess_wrmap::<L>),
            pagetable_dying: Some(pagetable_dying::<L>),
            trace_emul_write_val: Some(trace_emul_write_val::<L>),
            shadow_levels: L::SHADOW_LEVELS,
        },
    }
}

/// The dispatch table for 2-level guests (C: guest_2.o).
#[no_mangle]
pub static sh_paging_mode__guest_2: paging_mode = table::<G2>();
/// The dispatch table for 3-level (PAE) guests (C: guest_3.o).
#[no_mangle]
pub static sh_paging_mode__guest_3: paging_mode = table::<G3>();
/// The dispatch table for 4-level guests (C: guest_4.o).
#[no_mangle]
pub static sh_paging_mode__guest_4: paging_mode = table::<G4>();
