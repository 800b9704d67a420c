//! Log-dirty exports (docs/architecture.md, "Log-dirty"):
//!
//! * always (`CONFIG_SHADOW_RUST`): shadow's `log_dirty_ops`, which common.c
//!   registers in `shadow_domain_init()` (patches/0002);
//! * with `CONFIG_PAGING_LOGDIRTY_RUST` (cfg `xen_logdirty_rust`): paging.c's
//!   dirty bitmap, under its C names where they are global and as
//!   `xsr_paging_*` for the two statics paging.c now calls.
//!
//! Each export converts C's arguments and calls the generic code of
//! `xen_shadow_rs::logdirty` with the Xen platform.  Prototypes: shadow's
//! ops in shadow/private.h, the bitmap's in asm/paging.h; rust-glue.c checks
//! them against the cbindgen header.

use core::ffi::c_int;

use ffi::domain;
use xen_shadow_rs::logdirty::shadow_ops;

use crate::xen::{Dom, Xen};

/// `sh_enable_log_dirty` (common.c 3154): blow the shadows, set
/// `PG_log_dirty`.
#[no_mangle]
pub extern "C" fn sh_enable_log_dirty(d: *mut domain, log_global: bool) -> c_int {
    shadow_ops::enable(&Xen, Dom(d), log_global)
}

/// `sh_disable_log_dirty` (common.c 3182).
#[no_mangle]
pub extern "C" fn sh_disable_log_dirty(d: *mut domain) -> c_int {
    shadow_ops::disable(&Xen, Dom(d))
}

/// `sh_clean_dirty_bitmap` (common.c 3196): after CLEAN, blow the shadows.
#[no_mangle]
pub extern "C" fn sh_clean_dirty_bitmap(d: *mut domain) {
    shadow_ops::clean(&Xen, Dom(d))
}

#[cfg(xen_logdirty_rust)]
pub use bitmap::*;

#[cfg(xen_logdirty_rust)]
mod bitmap {
    use core::ffi::{c_int, c_ulong};

    use ffi::domain;
    use ffi::xen::logdirty_shims as c;
    use ffi::xen::{xen_domctl_shadow_op, Mfn, Pfn};
    use xen_shadow_rs::logdirty::{bitmap, errno, ShadowOp};
    use xen_shadow_rs::types;

    use crate::xen::logdirty::ScBuf;
    use crate::xen::{Dom, Xen};

    /// `paging_mark_pfn_dirty(d, pfn)` (paging.c 264).
    #[no_mangle]
    pub extern "C" fn paging_mark_pfn_dirty(d: *mut domain, pfn: Pfn) {
        bitmap::mark_pfn_dirty(&Xen, Dom(d), pfn.0)
    }

    /// `paging_mfn_is_dirty(d, gmfn)` (paging.c 359), paging lock held.
    #[no_mangle]
    pub extern "C" fn paging_mfn_is_dirty(d: *const domain, gmfn: Mfn) -> bool {
        bitmap::mfn_is_dirty(&Xen, Dom(d.cast_mut()), types::Mfn(gmfn.0))
    }

    /// `paging_free_log_dirty_bitmap(d, rc)` (paging.c 114, static there).
    #[no_mangle]
    pub extern "C" fn xsr_paging_free_log_dirty_bitmap(d: *mut domain, rc: c_int) -> c_int {
        bitmap::free_bitmap(&Xen, Dom(d), rc)
    }

    /// `paging_log_dirty_op(d, sc, resuming)` (paging.c 407, static there):
    /// PEEK/CLEAN.  Reads the domctl's fields through C, writes back the
    /// stats and page count as C does (not on -EBUSY, where C touches
    /// nothing).
    ///
    /// # Safety
    /// `sc` is the live domctl argument of paging_domctl().
    #[no_mangle]
    pub unsafe extern "C" fn xsr_paging_log_dirty_op(
        d: *mut domain,
        sc: *mut xen_domctl_shadow_op,
        resuming: bool,
    ) -> c_int {
        let (mut op, mut mode, mut pages) = (0, 0, 0);
        // SAFETY: `sc` is live (caller); the out-pointers are locals.
        let null = unsafe { c::xsr_ld_sc_get(sc, &mut op, &mut mode, &mut pages) };
        let mut s = ShadowOp {
            op,
            mode,
            pages,
            bitmap: (!null).then_some(ScBuf(sc)),
            fault_count: 0,
            dirty_count: 0,
        };
        let rc = bitmap::log_dirty_op(&Xen, Dom(d), &mut s, resuming);
        if rc != -errno::EBUSY {
            // SAFETY: `sc` is live (caller).
            unsafe { c::xsr_ld_sc_set(sc, s.pages, s.fault_count, s.dirty_count) };
        }
        rc
    }

    /// `paging_log_dirty_range(d, begin_pfn, nr, dirty_bitmap)` (paging.c
    /// 599; HAP's dirty-VRAM tracking).
    ///
    /// # Safety
    /// `dirty_bitmap` holds at least `(nr + 7) / 8` writable bytes (the
    /// caller, hap_track_dirty_vram, sizes it so).
    #[no_mangle]
    pub unsafe extern "C" fn paging_log_dirty_range(
        d: *mut domain,
        begin_pfn: c_ulong,
        nr: c_ulong,
        dirty_bitmap: *mut u8,
    ) {
        let len = usize::try_from(nr.div_ceil(8)).unwrap_or(usize::MAX);
        let bm: &mut [u8] = if dirty_bitmap.is_null() || len == 0 {
            &mut []
        } else {
            // SAFETY: non-null and `len` bytes long (caller).
            unsafe { core::slice::from_raw_parts_mut(dirty_bitmap, len) }
        };
        bitmap::log_dirty_range(&Xen, Dom(d), begin_pfn, nr, bm)
    }
}
