//! `sh_paging_mode__guest_N`: the dispatch tables through which the rest of
//! Xen reaches the per-level shadow code (multi.c block Y).  Fields that C
//! fills with common.c/pv.c functions point at those same functions; the
//! multi.c hooks point at the level-generic Rust hooks below.

use ffi::bindings::{paging_mode, shadow_paging_mode};
use ffi::xen::{
    sh_cmpxchg_guest_entry, sh_write_guest_entry, shadow_flush_tlb, shadow_update_paging_modes,
};
use xen_shadow_rs::level::{GuestLevel, G2, G3, G4};

use crate::port::{cr3, fault, shadows};

const fn table<L: GuestLevel>() -> paging_mode {
    paging_mode {
        page_fault: Some(fault::page_fault::<L>),
        invlpg: Some(fault::invlpg::<L>),
        gva_to_gfn: Some(fault::gva_to_gfn::<L>),
        p2m_ga_to_gfn: None, // HAP only
        update_cr3: Some(cr3::update_cr3::<L>),
        update_paging_modes: Some(shadow_update_paging_modes),
        flush_tlb: Some(shadow_flush_tlb),
        guest_levels: L::LEVELS,
        shadow: shadow_paging_mode {
            detach_old_tables: Some(cr3::detach_old_tables::<L>),
            write_guest_entry: Some(sh_write_guest_entry),
            cmpxchg_guest_entry: Some(sh_cmpxchg_guest_entry),
            guess_wrmap: Some(shadows::guess_wrmap::<L>),
            pagetable_dying: Some(cr3::pagetable_dying::<L>),
            trace_emul_write_val: Some(fault::trace_emul_write_val::<L>),
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
