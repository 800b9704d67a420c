//! The Xen platform: `xen_shadow_rs::platform::Platform` implemented on top
//! of `ffi/` (bindgen layouts, C shims in `ffi/c/*.c`, Xen functions).
//! All `unsafe` of the root crate outside the export glue lives here; every
//! block says why it is sound.
//!
//! Handles are raw pointers Xen gave us.  Xen guarantees that a domain and
//! its vCPUs outlive every call into the shadow code (the paging lock and
//! the domain's own reference), so a handle is valid for the duration of the
//! entry point that received it.

use ::core::ptr::NonNull;

use ffi::{domain, vcpu};
use xen_shadow_rs::platform::{Slot, Table};
use xen_shadow_rs::types::{Mfn, PAGE_SIZE};

pub mod core;
pub mod cr3;
pub mod fast;
pub mod fault;
pub mod logdirty;
pub mod shadows;
pub mod walk;

/// The platform value: zero-sized, all state lives in Xen.
#[derive(Clone, Copy, Default)]
pub struct Xen;

/// `struct domain *`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Dom(pub *mut domain);

/// `struct vcpu *`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Vcpu(pub *mut vcpu);

// ---- shared helpers for src/xen/<area>.rs and src/port/<area>.rs ----------

impl Dom {
    /// The raw `struct domain *`, for C shims.
    pub fn ptr(self) -> *mut domain {
        self.0
    }
}

impl Vcpu {
    /// The raw `struct vcpu *`, for C shims.
    pub fn ptr(self) -> *mut vcpu {
        self.0
    }
}

/// `ffi::xen::Mfn` (the C ABI `mfn_t` in exports) to the algorithms' `Mfn`.
/// (A `From` impl is impossible here: both types are foreign to this crate.)
#[inline]
pub fn mfn_from_xen(m: ffi::xen::Mfn) -> Mfn {
    Mfn(m.0)
}

/// The algorithms' `Mfn` to the C ABI `mfn_t` (`ffi::xen::Mfn`), for
/// returning from exports.
#[inline]
pub fn mfn_to_xen(m: Mfn) -> ffi::xen::Mfn {
    ffi::xen::Mfn(m.0)
}

/// Splits a C pointer into a mapped page-table page (e.g. the `void *entry`
/// of `sh_map_and_validate_gl*e`, or a `shadow_lNe_t *`) into the `Table`
/// of its page and the byte offset within it.
///
/// # Safety
/// `p` must be non-null and point into a 4 KiB page that stays mapped,
/// readable and writable for as long as the returned `Table` is used (for
/// a `map_domain_page` mapping: until the matching unmap).
pub unsafe fn table_from_ptr<T>(p: *mut T) -> (Table, usize) {
    let addr = p as usize;
    let off = addr & (PAGE_SIZE as usize - 1);
    let base = (p as *mut u8).wrapping_sub(off);
    let base = NonNull::new(base).expect("table_from_ptr: pointer into page 0");
    // SAFETY: `base` is the 4 KiB-aligned start of the page `p` points into,
    // which the caller guarantees stays mapped while the Table is used.
    (unsafe { Table::from_raw(base) }, off)
}

/// The `Slot` of the 64-bit shadow entry `p` points to, in shadow frame
/// `smfn` (the frame `p`'s page maps), e.g. a `shadow_l1e_t *` from C.
///
/// # Safety
/// As for [`table_from_ptr`]; `p` must also be 8-byte aligned and `smfn`
/// must be the frame mapped at `p`'s page.
pub unsafe fn slot_from_ptr(p: *mut u64, smfn: Mfn) -> Slot {
    // SAFETY: forwarded to the caller.
    let (t, off) = unsafe { table_from_ptr(p) };
    assert!(
        off % 8 == 0,
        "slot_from_ptr: misaligned shadow entry pointer"
    );
    t.slot(smfn, off / 8)
}
