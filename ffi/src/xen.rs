//! Xen primitives: `printk`, `BUG()` frames, `current`, `domain_crash`.

use core::ffi::{c_char, CStr};
use core::fmt::{self, Write};

use crate::bindings::{domain, intpte_t, mfn_t, vcpu};

// Xen functions Rust calls or stores.  Where one lands in a typed field
// (the paging_mode table), rustc checks this declaration against bindgen's
// field type, which comes from the C prototype.
// (improper_ctypes: Xen's structs end in zero-sized members such as
// `_rcu_read_lock`; only pointers to them cross the boundary.)
#[allow(improper_ctypes)]
extern "C" {
    fn printk(fmt: *const c_char, ...);
    /// common.c: the `update_paging_modes` hook of every shadow mode.
    pub fn shadow_update_paging_modes(v: *mut vcpu);
    /// common.c: the `flush_tlb` hook.
    pub fn shadow_flush_tlb(vcpu_bitmap: *const core::ffi::c_ulong) -> bool;
    /// pv.c: PV page-table writes through the shadow code.
    pub fn sh_write_guest_entry(v: *mut vcpu, p: *mut intpte_t, new: intpte_t, gmfn: mfn_t);
    /// pv.c: PV page-table cmpxchg through the shadow code.
    pub fn sh_cmpxchg_guest_entry(
        v: *mut vcpu,
        p: *mut intpte_t,
        old: intpte_t,
        new: intpte_t,
        gmfn: mfn_t,
    ) -> intpte_t;
    fn xsr_domain_crash(d: *mut domain, who: *const c_char);
}

/// A machine frame number.  `mfn_t` is `unsigned long` in release builds and
/// `struct { unsigned long }` in debug builds; both travel in one integer
/// register, so this transparent wrapper is the ABI of either.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Mfn(pub u64);

/// `INVALID_MFN`.
pub const INVALID_MFN: Mfn = Mfn(!0);

/// A guest pfn, `pfn_t`: like `mfn_t`, `unsigned long` or a one-member
/// struct depending on the build, one integer register either way.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Pfn(pub u64);

/// `struct xen_domctl_shadow_op` (public/domctl.h), opaque: only the C shims
/// of `c/logdirty.c` read or write its fields (the guest handle inside it
/// is a macro-built union).
#[repr(C)]
pub struct xen_domctl_shadow_op {
    _opaque: [u8; 0],
}

/// Formats into a fixed stack buffer (no allocation in Xen) and prints it
/// with `printk("%s")`.  Text past the buffer is cut, never overrun.
pub fn print(args: fmt::Arguments<'_>) {
    let mut buf = LineBuf {
        bytes: [0; 256],
        len: 0,
    };
    let _ = buf.write_fmt(args);
    let end = buf.len.min(buf.bytes.len() - 1);
    buf.bytes[end] = 0;
    // SAFETY: `buf.bytes` is NUL-terminated at `end` and outlives the call;
    // the format string is a literal taking exactly one `%s`.
    unsafe { printk(c"%s".as_ptr(), buf.bytes.as_ptr()) };
}

struct LineBuf {
    bytes: [u8; 256],
    len: usize,
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.bytes.len() - 1 - self.len.min(self.bytes.len() - 1);
        let n = s.len().min(room);
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// `printk` with Rust formatting: `xen_printk!("d{} ...\n", id)`.
#[macro_export]
macro_rules! xen_printk {
    ($($arg:tt)*) => { $crate::xen::print(format_args!($($arg)*)) };
}

/// Xen's `BUG()`: `ud2` plus a `struct bug_frame` in `.bug_frames.2`, which
/// Xen's #UD handler decodes into "Xen BUG at <file>:<line>" and a panic.
/// The frame layout follows asm/bug.h: two 32-bit words holding 24-bit
/// displacements to the `ud2` and to the file name, and the line number split
/// into 7-bit halves in their top bits.
#[macro_export]
macro_rules! xen_bug {
    () => {{
        // SAFETY: emits a trapping instruction and a read-only data record;
        // it never returns, touches no Rust-visible state.
        unsafe {
            core::arch::asm!(
                "2: ud2",
                ".pushsection .bug_frames.2, \"a\", @progbits",
                ".p2align 2",
                "3:",
                ".long (2b - 3b) + {hi}",
                ".long (4f - 3b) + {lo}",
                ".popsection",
                ".pushsection .rodata.str1.1, \"aMS\", @progbits, 1",
                concat!("4: .asciz \"", file!(), "\""),
                ".popsection",
                hi = const (((line!() >> 7) & 0x7f) << 24),
                lo = const ((line!() & 0x7f) << 24),
                options(noreturn, nostack)
            )
        }
    }};
}

/// `domain_crash(d)`, naming the Rust caller.
///
/// # Safety
/// `d` must point to a live `struct domain`.
pub unsafe fn domain_crash(d: *mut domain, who: &CStr) {
    // SAFETY: the caller guarantees `d`; `who` is NUL-terminated.
    unsafe { xsr_domain_crash(d, who.as_ptr()) }
}

/// `(domain_id, vcpu_id)` of a vCPU, for messages.
///
/// # Safety
/// `v` must be null or point to a live `struct vcpu`.
pub unsafe fn vcpu_ids(v: *const vcpu) -> (i32, i32) {
    if v.is_null() {
        return (-1, -1);
    }
    // SAFETY: the caller guarantees `v` is live; `v->domain` is set at vCPU
    // creation and never null for an allocated vCPU.
    unsafe {
        let d = (*v).domain;
        let dom = if d.is_null() {
            -1
        } else {
            i32::from((*d).domain_id)
        };
        (dom, (*v).vcpu_id)
    }
}

/// The shims behind `impl Core for Xen` (`c/core.c`, `c/guestwalk{2,3,4}.c`)
/// and the Xen functions it calls directly.  Each shim is named after the
/// Xen macro, inline or field it wraps (`xsr_<name>`); see the C file for
/// its exact body.  Frame numbers travel as `u64` (`unsigned long`), p2m
/// types as `u32`, page-table entries as `u64`.
///
/// # Safety (all functions)
/// Pointer arguments must be live Xen objects (`struct domain`, `struct
/// vcpu`) or, where an entry pointer is taken, point into a mapped
/// page-table frame; frame numbers given to frame-table accessors must be
/// valid (`mfn_valid`), as C's callers guarantee.
#[allow(improper_ctypes)]
pub mod core_shims {
    use core::ffi::c_void;

    use super::Mfn;
    use crate::bindings::{domain, vcpu, xsr_guest_walk};

    extern "C" {
        // ---- Xen functions called directly --------------------------------
        /// xen/domain_page.h.
        pub fn map_domain_page(mfn: Mfn) -> *mut c_void;
        pub fn unmap_domain_page(ptr: *const c_void);

        // ---- domains and vCPUs ----------------------------------------------
        pub fn xsr_domain_vcpu(d: *const domain, i: u32) -> *mut vcpu;
        pub fn xsr_max_vcpus(d: *const domain) -> u32;
        pub fn xsr_domain_id(d: *const domain) -> u16;
        pub fn xsr_vcpu_id(v: *const vcpu) -> u32;
        pub fn xsr_domain_is_dying(d: *const domain) -> bool;
        pub fn xsr_domain_is_shutting_down(d: *const domain) -> bool;
        pub fn xsr_shadow_opt_flags(d: *const domain) -> u32;
        pub fn xsr_set_shadow_opt_flags(d: *mut domain, f: u32);
        /// `who[..len]` need not be NUL-terminated.
        pub fn xsr_domain_crash_str(d: *mut domain, who: *const u8, len: u32);

        // ---- machine frames ---------------------------------------------------
        /// Debug builds only: checks fast.rs's `page_nx`.
        #[cfg(xen_debug)]
        pub fn xsr_page_nx() -> u32;
        pub fn xsr_paddr_bits() -> u32;

        // ---- frame table --------------------------------------------------------
        /// Debug builds only: checks of the inline reads of src/xen/fast.rs.
        #[cfg(xen_debug)]
        pub fn xsr_sp_type(smfn: u64) -> u32;
        pub fn xsr_sp_head(smfn: u64) -> bool;
        pub fn xsr_sp_pinned(smfn: u64) -> bool;
        pub fn xsr_sp_count(smfn: u64) -> u32;
        pub fn xsr_sp_up(smfn: u64) -> u64;
        pub fn xsr_set_sp_up(smfn: u64, up: u64);
        #[cfg(xen_debug)]
        pub fn xsr_sp_backpointer(smfn: u64) -> u64;
        /// cf_check: also passed to `shadow_set_l2e()` by `c/core.c`.
        pub fn xsr_sh_next_page(smfn: Mfn) -> Mfn;
        pub fn xsr_page_shadow_flags(gmfn: u64) -> u32;
        pub fn xsr_page_pagetable_dying(gmfn: u64) -> bool;
        pub fn xsr_set_page_pagetable_dying(gmfn: u64, dying: bool);
        pub fn xsr_page_owned_by(mfn: u64, d: *const domain) -> bool;

        // ---- shadow refcounts, pins, hash, pool -----------------------------------
        pub fn xsr_sh_get_ref(d: *mut domain, smfn: u64, entry_pa: u64) -> bool;
        pub fn xsr_sh_put_ref(d: *mut domain, smfn: u64, entry_pa: u64);
        pub fn xsr_sh_pin(d: *mut domain, smfn: u64) -> bool;
        pub fn xsr_sh_unpin(d: *mut domain, smfn: u64);
        pub fn xsr_get_shadow_status(d: *mut domain, gmfn: u64, t: u32) -> u64;
        pub fn xsr_set_shadow_status(d: *mut domain, gmfn: u64, t: u32, smfn: u64);
        pub fn xsr_delete_shadow_status(d: *mut domain, gmfn: u64, t: u32, smfn: u64);
        pub fn xsr_shadow_hash_lookup(d: *mut domain, n: u64, t: u32) -> u64;
        pub fn xsr_shadow_hash_insert(d: *mut domain, n: u64, t: u32, smfn: u64);
        pub fn xsr_shadow_hash_delete(d: *mut domain, n: u64, t: u32, smfn: u64) -> bool;
        pub fn xsr_shadow_alloc(d: *mut domain, t: u32, back: u64) -> u64;
        pub fn xsr_shadow_free(d: *mut domain, smfn: u64);
        pub fn xsr_shadow_prealloc(d: *mut domain, t: u32, count: u32) -> bool;
        pub fn xsr_shadow_promote(d: *mut domain, gmfn: u64, t: u32);
        pub fn xsr_shadow_demote(d: *mut domain, gmfn: u64, t: u32);

        // ---- set.c ---------------------------------------------------------------
        pub fn xsr_shadow_set_l1e(
            d: *mut domain,
            sl1e: *mut u64,
            new: u64,
            p2mt: u32,
            sl1mfn: u64,
        ) -> i32;
        pub fn xsr_shadow_set_l2e(
            d: *mut domain,
            sl2e: *mut u64,
            new: u64,
            sl2mfn: u64,
            fl1_type: u32,
            multi_page: bool,
        ) -> i32;
        pub fn xsr_shadow_set_l3e(d: *mut domain, sl3e: *mut u64, new: u64, sl3mfn: u64) -> i32;
        pub fn xsr_shadow_set_l4e(d: *mut domain, sl4e: *mut u64, new: u64, sl4mfn: u64) -> i32;
        pub fn xsr_shadow_put_page_from_l1e(d: *mut domain, sl1e: u64);
        pub fn xsr_shadow_vram_put_mfn(
            d: *const domain,
            mfn: u64,
            l1f: u32,
            sl1mfn: u64,
            sl1e: *const u64,
        );

        // ---- common.c ------------------------------------------------------------
        pub fn xsr_sh_remove_write_access(
            d: *mut domain,
            gmfn: u64,
            level: u32,
            fault_addr: u64,
        ) -> i32;
        pub fn xsr_sh_remove_shadows(d: *mut domain, gmfn: u64, fast: bool, all: bool);
        pub fn xsr_shadow_unhook_mappings(d: *mut domain, smfn: u64, user_only: bool);
        pub fn xsr_sh_unsync(v: *mut vcpu, gmfn: u64) -> bool;
        pub fn xsr_sh_resync(d: *mut domain, gmfn: u64);
        pub fn xsr_sh_resync_all(v: *mut vcpu, skip: bool, this: bool, others: bool);
        pub fn xsr_oos_snapshot_lookup(d: *mut domain, gmfn: u64) -> u64;
        pub fn xsr_oos_fixup_add(d: *mut domain, gmfn: u64, smfn: u64, off: u64);

        // ---- audit (c/audit.c) -----------------------------------------------------
        pub fn xsr_hash_walk_begin(d: *mut domain) -> bool;
        pub fn xsr_hash_walk_end(d: *mut domain);
        pub fn xsr_hash_walk_next(
            d: *const domain,
            bucket: *mut u32,
            pos: *mut *mut c_void,
            t: *mut u32,
        ) -> u64;
        pub fn xsr_oos_hash_is_present(d: *const domain, gmfn: u64) -> bool;

        // ---- locks -----------------------------------------------------------------
        /// C's `paging_lock(d)`: the inline lock of src/xen/fast.rs calls it
        /// only to report a lock-order violation or a lock already held.
        pub fn xsr_paging_lock(d: *mut domain);
        /// Debug builds only: checks fast.rs's `paging_locked_by_me`.
        #[cfg(xen_debug)]
        pub fn xsr_paging_locked_by_me(d: *mut domain) -> bool;
        /// Debug builds only: checks fast.rs's inline `current`.
        #[cfg(xen_debug)]
        pub fn xsr_current() -> *mut vcpu;
        pub fn xsr_lock_layout_probe(
            l: *mut crate::bindings::spinlock_t,
            level: *mut *mut core::ffi::c_int,
        );

        // ---- p2m ---------------------------------------------------------------------
        pub fn xsr_get_gfn(d: *mut domain, gfn: u64, alloc: bool, t: *mut u32) -> u64;
        pub fn xsr_get_gfn_query_unlocked(d: *mut domain, gfn: u64, t: *mut u32) -> u64;

        // ---- guest walk (c/guestwalkN.c) -----------------------------------------------
        pub fn xsr_guest_walk_2(
            v: *const vcpu,
            va: u64,
            out: *mut xsr_guest_walk,
            pfec: u32,
            top_gfn: u64,
            top_mfn: u64,
            top_map: *mut c_void,
        ) -> bool;
        pub fn xsr_guest_walk_3(
            v: *const vcpu,
            va: u64,
            out: *mut xsr_guest_walk,
            pfec: u32,
            top_gfn: u64,
            top_mfn: u64,
            top_map: *mut c_void,
        ) -> bool;
        /// Xen's own 4-level walker (mm/guest_walk.c), whose walk_t is
        /// `xsr_guest_walk` (static asserts in c/guestwalk.h).  `mfn_t` and
        /// `gfn_t` are one-`unsigned long` structs in debug builds, passed
        /// as that integer.  Not cf_check: only ever called directly.
        pub fn guest_walk_tables_4_levels(
            v: *const vcpu,
            p2m: *mut c_void,
            va: u64,
            gw: *mut xsr_guest_walk,
            walk: u32,
            top_gfn: u64,
            top_mfn: u64,
            top_map: *mut c_void,
        ) -> bool;
        /// `put_gfn()`'s out-of-line half (mm/p2m.c), called directly;
        /// `gfn_t` passed as its integer, as above.
        pub fn p2m_put_gfn(p2m: *mut c_void, gfn: u64);

        // ---- linear maps ---------------------------------------------------------------
        /// Debug builds only, as `xsr_sp_type`.
        #[cfg(xen_debug)]
        pub fn xsr_sh_linear_table_base(v: *const vcpu, level: u32) -> u64;
        /// Debug builds only: the frame CR3's tables map at `va` (4 KiB
        /// entries), to check `Core::sh_linear_page`.
        #[cfg(xen_debug)]
        pub fn xsr_debug_va_to_mfn(va: u64) -> u64;

        // ---- TLB ---------------------------------------------------------------------------
        pub fn xsr_flush_tlb_mask_dirty(d: *const domain);
        pub fn xsr_sh_flush_local(d: *const domain);
    }
}

/// The shims of `c/logdirty.c` (log-dirty: shadow's ops and the bitmap),
/// named `xsr_ld_<what they wrap>`.  Frame numbers travel as `u64`.
///
/// # Safety (all functions)
/// `d` must be a live `struct domain`, `sc` the live domctl argument
/// paging.c passed in; `data` must be readable for `len` bytes.  The
/// `xsr_ld_preempt` out-pointers must be writable.
#[allow(improper_ctypes)]
pub mod logdirty_shims {
    use super::xen_domctl_shadow_op;
    use crate::bindings::domain;

    extern "C" {
        pub fn xsr_ld_field(d: *const domain, f: u32) -> u64;
        pub fn xsr_ld_set_field(d: *mut domain, f: u32, v: u64);
        pub fn xsr_ld_preempt(
            d: *const domain,
            op: *mut u32,
            done: *mut u64,
            i4: *mut u32,
            i3: *mut u32,
        ) -> *const domain;
        pub fn xsr_ld_set_preempt(
            d: *mut domain,
            dom: *const domain,
            op: u32,
            done: u64,
            i4: u32,
            i3: u32,
        );
        pub fn xsr_ld_current_domain() -> *const domain;
        pub fn xsr_ld_alloc_page(d: *mut domain) -> u64;
        pub fn xsr_ld_free_page(d: *mut domain, mfn: u64);
        pub fn xsr_ld_gpfn_from_mfn(mfn: u64) -> u64;
        pub fn xsr_ld_sc_get(
            sc: *const xen_domctl_shadow_op,
            op: *mut u32,
            mode: *mut u32,
            pages: *mut u64,
        ) -> bool;
        pub fn xsr_ld_sc_set(
            sc: *mut xen_domctl_shadow_op,
            pages: u64,
            fault_count: u32,
            dirty_count: u32,
        );
        pub fn xsr_ld_copy_to_bitmap(
            sc: *mut xen_domctl_shadow_op,
            off: u64,
            data: *const u8,
            len: u32,
        ) -> u64;
        pub fn xsr_ld_clear_bitmap(sc: *mut xen_domctl_shadow_op, off: u64, len: u32) -> u64;
        pub fn xsr_ld_hypercall_preempt_check() -> bool;
        pub fn xsr_ld_domain_pause(d: *mut domain);
        pub fn xsr_ld_domain_unpause(d: *mut domain);
        pub fn xsr_ld_mapped_frames_mark_dirty(d: *mut domain);
        pub fn xsr_ld_flush_hardware_cached_dirty(d: *mut domain);
        pub fn xsr_ld_ops_clean(d: *mut domain);
        pub fn xsr_ld_warn_failed_allocs(d: *const domain, failed: u32);
        pub fn xsr_ld_p2m_lock(d: *mut domain);
        pub fn xsr_ld_p2m_unlock(d: *mut domain);
        pub fn xsr_ld_p2m_change_rw_to_logdirty(d: *mut domain, pfn: u64) -> i32;
        pub fn xsr_ld_guest_flush_tlb_mask(d: *mut domain);
        pub fn xsr_ld_shadow_mode_enabled(d: *const domain) -> bool;
        pub fn xsr_ld_shadow_blow_tables(d: *mut domain);
        pub fn xsr_ld_set_linux_l3_toplevel(d: *mut domain);
        pub fn xsr_ld_shadow_one_bit_enable(d: *mut domain) -> i32;
        pub fn xsr_ld_shadow_one_bit_disable(d: *mut domain) -> i32;
    }
}
