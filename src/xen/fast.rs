//! Hot-path reads of Xen state done in Rust instead of through a C shim.
//!
//! The benchmarks (docs/benchmarks.md) showed that a shadow fault made 70-100
//! calls more than C's, nearly all to one-line shims of `ffi/c/*.c`
//! (`v->domain`, `regs->error_code`, `is_hvm_domain(d)`, a frame-table
//! flag, `map_domain_page` of a direct-mapped frame).  Each call costs the
//! call, the return thunk and the caller's spills.  The functions here do
//! the same reads inline, with nothing assumed on the Rust side:
//!
//! * every field offset comes from bindgen and is checked against GCC's at
//!   build time (`ffi/build.rs`, LAYOUT);
//! * every macro value (address layout, flag bits, feature numbers) is
//!   evaluated by GCC with Xen's flags (`ffi::consts`, CONSTS);
//! * the pdx compression masks are Xen's own variables, read at each use;
//! * `is_hvm_domain()`'s `evaluate_nospec()` keeps its `lfence` on both
//!   outcomes, with the same `.altinstructions` record C emits (patched out
//!   under `X86_FEATURE_SC_NO_BRANCH_HARDEN`, as Xen's own).
//!
//! Only frames the caller knows to be valid are looked up in the frame
//! table, as with the C inlines (`mfn_to_page` does no check either).

use ::core::arch::asm;
use ::core::ffi::{c_uint, c_ulong, c_void};
use ::core::ptr::{addr_of, addr_of_mut, read_volatile};

use ffi::bindings::{
    cpu_info, cpu_user_regs, cpuinfo_x86, domain, mm_lock_t, page_info,
    page_info__bindgen_ty_2__bindgen_ty_2, paging_vcpu, shadow_vtlb, spinlock_t, vcpu,
};
use ffi::consts as k;

// (improper_ctypes: Xen's structs end in zero-sized members; only
// pointers to them cross the boundary.)
#[allow(improper_ctypes)]
extern "C" {
    // common/pdx.c: the pdx compression of the frame table and direct map.
    static pfn_pdx_bottom_mask: c_ulong;
    static pfn_top_mask: c_ulong;
    static pfn_pdx_hole_shift: c_uint;
    #[cfg(not(xen_debug))]
    static ma_va_bottom_mask: c_ulong;
    #[cfg(not(xen_debug))]
    static ma_top_mask: c_ulong;
    fn __mfn_valid(mfn: c_ulong) -> bool;
    // common/domain.c: the owner of MMIO frames.
    static dom_io: *mut domain;
    // ffi/c/core.c: map_domain_page()'s direct-map limit (0 until boot set it).
    #[cfg(not(xen_debug))]
    static xsr_directmap_mfn_limit: c_ulong;
    fn map_domain_page(mfn: ffi::xen::Mfn) -> *mut c_void;
    // common/spinlock.c: spin_lock() and spin_unlock().
    fn _spin_lock(l: *mut spinlock_t);
    fn _spin_unlock(l: *mut spinlock_t);
    fn unmap_domain_page(va: *const c_void);
    // common/spinlock.c: the recursive lock under mm-locks.h's mm_lock.
    fn _spin_lock_recursive(l: *mut spinlock_t);
    fn _spin_unlock_recursive(l: *mut spinlock_t);
    // arch/x86/mm/paging.c: DEFINE_PER_CPU(int, mm_lock_level), the
    // current CPU's mm lock order (mm-locks.h).
    static mut per_cpu__mm_lock_level: i32;
    // arch/x86/mm/shadow/common.c: DEFINE_PER_CPU(uint32_t,
    // trace_shadow_path_flags), the TRCE_SFLAG_* of the current fault.
    static mut per_cpu__trace_shadow_path_flags: u32;
    // arch/x86/setup.c: the boot CPU's features.
    static boot_cpu_data: cpuinfo_x86;
    // common/trace.c (CONFIG_TRACEBUFFER).
    #[link_name = "tb_init_done"]
    static TB_INIT_DONE: i32;
}

/// `mfn_valid(mfn)` (asm/page.h): Xen's out-of-line `__mfn_valid`, called
/// directly rather than through a shim.
#[inline(always)]
pub fn mfn_valid(mfn: u64) -> bool {
    // SAFETY: `__mfn_valid` accepts any value.
    unsafe { __mfn_valid(mfn) }
}

/// `pfn_to_pdx(pfn)` (xen/pdx.h).
#[inline(always)]
fn pfn_to_pdx(pfn: u64) -> u64 {
    // SAFETY: plain reads of variables Xen sets once during early boot,
    // before any domain exists.
    // (Wrapping shift: Xen keeps the hole shift below 64.)
    unsafe { (pfn & pfn_pdx_bottom_mask) | (pfn & pfn_top_mask).wrapping_shr(pfn_pdx_hole_shift) }
}

/// `mfn_to_page(mfn)`: the frame-table entry of `mfn`.  Only the address is
/// computed (with C's wrapping arithmetic); reading through it needs a
/// valid frame (callers' contract), whose entry lies inside the frame table.
#[inline(always)]
pub fn mfn_to_page(mfn: u64) -> *const page_info {
    let size = ::core::mem::size_of::<page_info>() as u64;
    k::FRAMETABLE_VIRT_START.wrapping_add(pfn_to_pdx(mfn).wrapping_mul(size)) as usize
        as *const page_info
}

/// `page->count_info` of a valid frame (a volatile read: other CPUs update
/// it with atomics).
///
/// # Safety
/// `mfn` must be a valid frame (`mfn_valid`).
#[inline(always)]
pub unsafe fn page_count_info(mfn: u64) -> u64 {
    // SAFETY: the caller guarantees the frame-table entry exists.
    unsafe { read_volatile(addr_of!((*mfn_to_page(mfn)).count_info)) }
}

/// `page->u.inuse.type_info` of a valid frame.
///
/// # Safety
/// As for [`page_count_info`].
#[inline(always)]
pub unsafe fn page_type_info(mfn: u64) -> u64 {
    // SAFETY: the caller guarantees the frame-table entry exists.
    unsafe { read_volatile(addr_of!((*mfn_to_page(mfn)).u.inuse.type_info)) }
}

/// `page->shadow_flags` of a valid frame.
///
/// # Safety
/// As for [`page_count_info`].
#[inline(always)]
unsafe fn page_shadow_flags(mfn: u64) -> u32 {
    // SAFETY: the caller guarantees the frame-table entry exists.
    unsafe {
        u32::from(read_volatile(addr_of!(
            (*mfn_to_page(mfn))
                .__bindgen_anon_2
                .__bindgen_anon_2
                .shadow_flags
        )))
    }
}

/// `page_get_owner(page)` (asm/mm.h): the owning domain, or null.
///
/// # Safety
/// As for [`page_count_info`].
#[inline(always)]
pub unsafe fn page_get_owner(mfn: u64) -> *const domain {
    // SAFETY: the caller guarantees the frame-table entry exists.
    let pdx = unsafe { read_volatile(addr_of!((*mfn_to_page(mfn)).v.inuse._domain)) };
    if pdx == 0 {
        ::core::ptr::null()
    } else {
        // pdx_to_virt(): the owner's struct domain in the direct map.
        k::DIRECTMAP_VIRT_START.wrapping_add(u64::from(pdx) << k::PAGE_SHIFT) as usize
            as *const domain
    }
}

/// `mfn_is_out_of_sync(gmfn)` (shadow/private.h): a page table (as far as
/// the shadow code is concerned) whose shadow flags say out of sync.
///
/// # Safety
/// As for [`page_count_info`].
#[inline(always)]
pub unsafe fn mfn_is_out_of_sync(mfn: u64) -> bool {
    // SAFETY: forwarded to the caller.
    unsafe {
        page_count_info(mfn) & k::PGC_PAGE_TABLE != 0
            && u64::from(page_shadow_flags(mfn)) & k::SHF_OUT_OF_SYNC != 0
    }
}

/// `sh_mfn_is_a_page_table(gmfn)` (shadow/private.h), any frame number.
#[inline(always)]
pub fn sh_mfn_is_a_page_table(mfn: u64) -> bool {
    if !mfn_valid(mfn) {
        return false;
    }
    // SAFETY: `mfn` is valid; the owner, if any, is a live domain (a page
    // keeps its owner's struct domain alive), read as C does.
    unsafe {
        let owner = page_get_owner(mfn);
        if !owner.is_null()
            && shadow_mode_refcounts(owner)
            && page_count_info(mfn) & k::PGC_PAGE_TABLE != 0
        {
            return true;
        }
        let t = page_type_info(mfn) & k::PGT_TYPE_MASK;
        t != 0 && t <= k::PGT_L4_PAGE_TABLE
    }
}

/// `v->domain`.
///
/// # Safety
/// `v` must be a live vCPU.
#[inline(always)]
pub unsafe fn vcpu_domain(v: *const vcpu) -> *mut domain {
    // SAFETY: forwarded to the caller; the field never changes.
    unsafe { (*v).domain }
}

// ---- the vCPU's vTLB (shadow/private.h) -----------------------------------
//
// An array of VTLB_ENTRIES slots that `sh_update_paging_modes` allocated,
// read and written only under the vCPU's vtlb_lock, as by C's inlines.

/// `vtlb_hash(page)`: the slot of `page` (below VTLB_ENTRIES, the array's
/// length).
#[inline(always)]
fn vtlb_slot(page: u64) -> usize {
    (page % k::VTLB_ENTRIES) as usize
}

/// Runs `f` on the vTLB array of `v` with its lock held.
///
/// # Safety
/// `v` must be a live vCPU in shadow mode, whose `vtlb` array
/// `sh_update_paging_modes` allocated (as C assumes); `f` may touch only
/// the array's VTLB_ENTRIES slots.
#[inline(always)]
unsafe fn with_vtlb_locked<R>(v: *mut vcpu, f: impl FnOnce(*mut shadow_vtlb) -> R) -> R {
    // SAFETY: forwarded to the caller.
    unsafe {
        let lock = addr_of_mut!((*v).arch.paging.vtlb_lock);
        spin_lock(lock);
        let r = f((*v).arch.paging.vtlb);
        _spin_unlock(lock);
        r
    }
}

/// `vtlb_insert(v, page, frame, pfec)`: the slot of `page` replaced.
///
/// # Safety
/// As for [`with_vtlb_locked`].
#[inline(always)]
pub unsafe fn vtlb_insert(v: *mut vcpu, page: u64, frame: u64, pfec: u32) {
    // SAFETY: forwarded to the caller; the slot is inside the array.
    unsafe {
        with_vtlb_locked(v, |t| {
            t.add(vtlb_slot(page)).write(shadow_vtlb {
                page_number: page,
                frame_number: frame,
                pfec,
            })
        })
    }
}

/// `vtlb_lookup(v, va, pfec)`: the cached frame of `va`'s page if its slot
/// holds it with at least the bits of `pfec` (any successful walk that had
/// them), else INVALID_GFN.
///
/// # Safety
/// As for [`with_vtlb_locked`].
#[inline(always)]
pub unsafe fn vtlb_lookup(v: *mut vcpu, va: u64, pfec: u32) -> u64 {
    let page = va >> k::PAGE_SHIFT;
    // SAFETY: forwarded to the caller; the slot is inside the array.
    let e = unsafe { with_vtlb_locked(v, |t| t.add(vtlb_slot(page)).read()) };
    if e.pfec != 0 && e.page_number == page && e.pfec & pfec == pfec {
        e.frame_number
    } else {
        k::INVALID_GFN
    }
}

/// `vtlb_flush(v)`: every slot cleared.
///
/// # Safety
/// As for [`with_vtlb_locked`].
#[inline(always)]
pub unsafe fn vtlb_flush(v: *mut vcpu) {
    // `rep stosq`, as GCC compiles C's memset of the array: the Rust
    // `write_bytes` became a call to Xen's byte-wise memset (318
    // instructions for these 312 bytes in the profile).
    const QWORDS: usize = ::core::mem::size_of::<shadow_vtlb>() * k::VTLB_ENTRIES as usize / 8;
    const _: () = assert!(::core::mem::size_of::<shadow_vtlb>() % 8 == 0);
    // SAFETY: forwarded to the caller; the stores cover exactly the
    // array's VTLB_ENTRIES slots.
    unsafe {
        with_vtlb_locked(v, |t| {
            asm!(
                "rep stosq",
                inout("rcx") QWORDS => _,
                inout("rdi") t => _,
                in("rax") 0u64,
                options(nostack, preserves_flags),
            )
        })
    }
}

/// `d->is_shutting_down && d->shutdown_code == SHUTDOWN_crash`.
///
/// # Safety
/// `d` must be a live domain.
#[inline(always)]
pub unsafe fn domain_shutdown_crashed(d: *const domain) -> bool {
    // SAFETY: forwarded to the caller; plain reads, as C's (both fields
    // change under the domain's shutdown lock, which C does not take here
    // either).
    unsafe { (*d).is_shutting_down && u64::from((*d).shutdown_code) == k::SHUTDOWN_CRASH }
}

/// `p2m_get_hostp2m(d)` (asm/p2m.h): `d->arch.p2m`.
///
/// # Safety
/// `d` must be a live domain.
#[inline(always)]
pub unsafe fn p2m_get_hostp2m(d: *const domain) -> *mut c_void {
    // SAFETY: forwarded to the caller; set at domain creation.
    unsafe { (*d).arch.p2m.cast() }
}

/// `d->arch.paging.mode`.
///
/// # Safety
/// `d` must be a live domain.
#[inline(always)]
unsafe fn paging_mode(d: *const domain) -> u64 {
    // SAFETY: forwarded to the caller.  The mode changes only under the
    // paging lock with the domain paused; read as C's macros do.
    u64::from(unsafe { read_volatile(addr_of!((*d).arch.paging.mode)) })
}

/// `shadow_mode_refcounts(d)` (asm/shadow.h).
///
/// # Safety
/// As for [`paging_mode`].
#[inline(always)]
pub unsafe fn shadow_mode_refcounts(d: *const domain) -> bool {
    // SAFETY: forwarded to the caller.
    let m = unsafe { paging_mode(d) };
    m & k::PG_SH_ENABLE != 0 && m & k::PG_REFCOUNTS != 0
}

/// `paging_mode_external(d)`.
///
/// # Safety
/// As for [`paging_mode`].
#[inline(always)]
pub unsafe fn paging_mode_external(d: *const domain) -> bool {
    // SAFETY: forwarded to the caller.
    let m = unsafe { paging_mode(d) };
    m & k::PG_EXTERNAL != 0
}

/// `paging_mode_translate(d)`.
///
/// # Safety
/// As for [`paging_mode`].
#[inline(always)]
pub unsafe fn paging_mode_translate(d: *const domain) -> bool {
    // SAFETY: forwarded to the caller.
    let m = unsafe { paging_mode(d) };
    m & k::PG_TRANSLATE != 0
}

/// `paging_mode_log_dirty(d)`.
///
/// # Safety
/// As for [`paging_mode`].
#[inline(always)]
pub unsafe fn paging_mode_log_dirty(d: *const domain) -> bool {
    // SAFETY: forwarded to the caller.
    let m = unsafe { paging_mode(d) };
    m & k::PG_LOG_DIRTY != 0
}

/// One `lfence` with the `.altinstructions` record of C's
/// `alternative("lfence", "", X86_FEATURE_SC_NO_BRANCH_HARDEN)`: a
/// `struct alt_instr` (asm/alternative.h: s32 orig, s32 repl, u16 feature,
/// u8 orig_len, u8 repl_len, u8 pad_len, u8 priv) with an empty
/// replacement, as ALTINSTR_ENTRY emits it; apply_alternatives() reads it
/// at boot.  `$s`/`$e` label the instruction, `$r` the (empty) replacement.
macro_rules! alt_lfence {
    ($s:literal, $e:literal, $r:literal) => {
        concat!(
            $s,
            ":\n",
            "lfence\n",
            $e,
            ":\n",
            ".pushsection .altinstructions, \"a\", @progbits\n",
            ".long ",
            $s,
            "b - .\n",
            ".long ",
            $r,
            "f - .\n",
            ".word {feat}\n",
            ".byte ",
            $e,
            "b - ",
            $s,
            "b\n",
            ".byte 0\n",
            ".byte 0\n",
            ".byte 0\n",
            ".section .altinstr_replacement, \"ax\", @progbits\n",
            $r,
            ":\n",
            ".popsection\n",
        )
    };
}

/// `evaluate_nospec(cond)` (asm/nospec.h): `cond`, with an `lfence` on
/// both outcomes of the branch (unless Xen patched them out at boot under
/// `X86_FEATURE_SC_NO_BRANCH_HARDEN`: each `lfence` carries the same
/// `.altinstructions` record as C's `barrier_nospec_true/false`, an empty
/// replacement).  As in C, the branch is the caller's own (a plain `if`,
/// which the compiler folds into the caller's test of the result, e.g. a
/// `testb` on the flag in memory) and each arm starts with its barrier.
/// The two barriers are volatile asm with different text, so the compiler
/// can neither hoist them above the branch (they have side effects) nor
/// merge the two arms' copies into one before it.
#[inline(always)]
pub fn evaluate_nospec(cond: bool) -> bool {
    if k::CONFIG_SPECULATIVE_HARDEN_BRANCH == 0 {
        return cond;
    }
    if cond {
        // SAFETY: one lfence and its .altinstructions record.
        unsafe {
            asm!(
                alt_lfence!("7740", "7741", "7748"),
                feat = const k::X86_FEATURE_SC_NO_BRANCH_HARDEN,
                options(nostack),
            );
        }
        true
    } else {
        // SAFETY: as above.
        unsafe {
            asm!(
                alt_lfence!("7743", "7744", "7749"),
                feat = const k::X86_FEATURE_SC_NO_BRANCH_HARDEN,
                options(nostack),
            );
        }
        false
    }
}

/// `is_hvm_domain(d)` (xen/sched.h), with its speculation barrier.
///
/// # Safety
/// As for [`paging_mode`].
#[inline(always)]
pub unsafe fn is_hvm_domain(d: *const domain) -> bool {
    // SAFETY: forwarded to the caller; `options` is set at creation.
    let hvm = unsafe { (*d).options } as u64 & k::XEN_DOMCTL_CDF_HVM != 0;
    k::CONFIG_HVM != 0 && evaluate_nospec(hvm)
}

/// `is_pv_32bit_domain(d)` (xen/sched.h): `is_pv_domain(d)` (with its
/// barrier) and `d->arch.pv.is_32bit`.
///
/// # Safety
/// As for [`paging_mode`].
#[inline(always)]
pub unsafe fn is_pv_32bit_domain(d: *const domain) -> bool {
    if k::CONFIG_PV32 == 0 || k::CONFIG_PV == 0 {
        return false;
    }
    // SAFETY: forwarded to the caller; for a PV domain the `pv` member of
    // the union is the live one, as C reads it only after is_pv_domain.
    unsafe {
        let pv = (*d).options as u64 & k::XEN_DOMCTL_CDF_HVM == 0;
        evaluate_nospec(pv) && (*d).arch.__bindgen_anon_1.pv.is_32bit
    }
}

/// `atomic_read(&d->arch.paging.shadow.gtable_dirty_version)`.
///
/// # Safety
/// As for [`paging_mode`].
#[inline(always)]
pub unsafe fn gtable_dirty_version(d: *const domain) -> u32 {
    // SAFETY: forwarded to the caller; atomic_read() is a volatile read of
    // the aligned int, as here.
    let c = unsafe {
        read_volatile(addr_of!(
            (*d).arch.paging.shadow.gtable_dirty_version.counter
        ))
    };
    c as u32
}

/// `page_get_owner(mfn_to_page(mfn)) == dom_io`.
///
/// # Safety
/// As for [`page_count_info`].
#[inline(always)]
pub unsafe fn page_owner_is_dom_io(mfn: u64) -> bool {
    // SAFETY: forwarded to the caller; `dom_io` is set once at boot.
    unsafe { page_get_owner(mfn) == dom_io.cast_const() }
}

/// `regs->error_code`.
///
/// # Safety
/// `regs` must point to the live register frame of the fault.
#[inline(always)]
pub unsafe fn regs_error_code(regs: *const cpu_user_regs) -> u32 {
    // SAFETY: forwarded to the caller.
    unsafe { (*regs).error_code }
}

/// `regs->error_code = ec`.
///
/// # Safety
/// As for [`regs_error_code`].
#[inline(always)]
pub unsafe fn regs_set_error_code(regs: *mut cpu_user_regs, ec: u32) {
    // SAFETY: forwarded to the caller.
    unsafe { (*regs).error_code = ec }
}

/// `regs->ss`.
///
/// # Safety
/// As for [`regs_error_code`].
#[inline(always)]
pub unsafe fn regs_ss(regs: *const cpu_user_regs) -> u16 {
    // SAFETY: forwarded to the caller.
    unsafe { (*regs).ss }
}

/// `v->arch.flags & TF_kernel_mode`.
///
/// # Safety
/// As for [`vcpu_domain`].
#[inline(always)]
pub unsafe fn tf_kernel_mode(v: *const vcpu) -> bool {
    // SAFETY: forwarded to the caller.
    let f = unsafe { (*v).arch.flags };
    f & k::TF_KERNEL_MODE != 0
}

/// `v->arch.hvm.guest_cr[i]` (i < 5), the guest's view of its control
/// registers.
///
/// # Safety
/// As for [`vcpu_domain`]; `v` must be an HVM vCPU (`arch.hvm` is a union
/// member).
#[inline(always)]
pub unsafe fn hvm_guest_cr(v: *const vcpu, i: usize) -> u64 {
    // SAFETY: forwarded to the caller; the array read is bounds-checked.
    unsafe { (*v).arch.__bindgen_anon_1.hvm.guest_cr[i] }
}

/// `v->arch.hvm.guest_efer`.
///
/// # Safety
/// As for [`hvm_guest_cr`].
#[inline(always)]
pub unsafe fn hvm_guest_efer(v: *const vcpu) -> u64 {
    // SAFETY: forwarded to the caller.
    unsafe { (*v).arch.__bindgen_anon_1.hvm.guest_efer }
}

/// `pagetable_get_pfn(v->arch.guest_table_user)`.
///
/// # Safety
/// As for [`vcpu_domain`].
#[inline(always)]
pub unsafe fn guest_table_user_pfn(v: *const vcpu) -> u64 {
    // SAFETY: forwarded to the caller.
    unsafe { (*v).arch.guest_table_user.pfn }
}

/// `v->arch.paging.shadow.gl3e`, a PAE guest's four top-level entries as
/// the shadow code cached them.
///
/// # Safety
/// As for [`vcpu_domain`].
#[inline(always)]
pub unsafe fn shadow_gl3e(v: *mut vcpu) -> *mut [ffi::bindings::l3_pgentry_t; 4] {
    // SAFETY: forwarded to the caller; only the address is taken.
    unsafe { addr_of_mut!((*v).arch.paging.shadow.gl3e) }
}

/// `pagetable_get_pfn(v->arch.guest_table)`.
///
/// # Safety
/// As for [`vcpu_domain`].
#[inline(always)]
pub unsafe fn guest_table_pfn(v: *const vcpu) -> u64 {
    // SAFETY: forwarded to the caller.
    unsafe { (*v).arch.guest_table.pfn }
}

/// `map_domain_page(mfn)` (x86/domain_page.c) with its release-build fast
/// path inline: a frame the direct map covers is returned as its
/// direct-map address, exactly as the C function's first test does; any
/// other frame, and every frame in debug builds (which use the mapcache
/// for PV vCPUs to catch mapping bugs), goes to the C function.
#[inline(always)]
pub fn map_domain_page_fast(mfn: u64) -> *mut c_void {
    #[cfg(not(xen_debug))]
    {
        // SAFETY: a plain read of a variable set once at boot (ffi/c/core.c).
        if mfn <= unsafe { xsr_directmap_mfn_limit } {
            // (No overflow: the limit is a frame of the direct map.)
            return maddr_to_virt(mfn << k::PAGE_SHIFT);
        }
    }
    // SAFETY: map_domain_page() accepts any frame of RAM (callers' contract).
    unsafe { map_domain_page(ffi::xen::Mfn(mfn)) }
}

/// `unmap_domain_page(va)` with its fast path inline: direct-map addresses
/// (and NULL) were never in the mapcache, so there is nothing to undo.
///
/// # Safety
/// `va` must come from [`map_domain_page_fast`] (or C's map_domain_page).
#[inline(always)]
pub unsafe fn unmap_domain_page_fast(va: *const c_void) {
    let a = va as usize as u64;
    if a == 0 || a >= k::DIRECTMAP_VIRT_START {
        return;
    }
    // SAFETY: forwarded to the caller.
    unsafe { unmap_domain_page(va) }
}

/// `__maddr_to_virt(ma)`: the direct-map address of machine address `ma`.
#[cfg(not(xen_debug))]
#[inline(always)]
fn maddr_to_virt(ma: u64) -> *mut c_void {
    // SAFETY: plain reads of variables set once during early boot.
    let off =
        unsafe { (ma & ma_va_bottom_mask) | (ma & ma_top_mask).wrapping_shr(pfn_pdx_hole_shift) };
    k::DIRECTMAP_VIRT_START.wrapping_add(off) as usize as *mut c_void
}

/// `pdx_to_pfn(pdx)` (xen/pdx.h).
#[inline(always)]
fn pdx_to_pfn(pdx: u64) -> u64 {
    // SAFETY: as for `pfn_to_pdx`.
    unsafe { (pdx & pfn_pdx_bottom_mask) | (pdx.wrapping_shl(pfn_pdx_hole_shift) & pfn_top_mask) }
}

/// The frame after `mfn` on the page list it is on:
/// `page_to_mfn(pdx_to_page(mfn_to_page(mfn)->list.next))`, i.e.
/// `page_list_next()` (xen/mm.h, pdx-linked lists) without the check
/// against the list's tail, which is the caller's.
///
/// # Safety
/// `mfn` must be a valid frame on a page list, not its tail.
#[inline(always)]
pub unsafe fn page_list_next_mfn(mfn: u64) -> u64 {
    // SAFETY: forwarded to the caller.
    let next = unsafe { (*mfn_to_page(mfn)).__bindgen_anon_1.list.next };
    pdx_to_pfn(u64::from(next))
}

/// `page_to_mfn(pg)` (asm/mm.h) for a frame-table entry.
#[inline(always)]
fn page_to_mfn(pg: *const page_info) -> u64 {
    let size = ::core::mem::size_of::<page_info>() as u64;
    pdx_to_pfn((pg as usize as u64).wrapping_sub(k::FRAMETABLE_VIRT_START) / size)
}

/// The page after `smfn` on `d`'s pinned-shadow list, the first if `smfn`
/// is INVALID_MFN, INVALID_MFN at the end: `page_list_first(h)` /
/// `page_list_next(mfn_to_page(smfn), h)` and `page_to_mfn`.  The debug
/// build checks it against C's (`xsr_sh_pinned_shadows_next`).
///
/// # Safety
/// `d` must be a live domain whose paging lock is held; `smfn` is
/// INVALID_MFN or a page on that list.
#[inline(always)]
pub unsafe fn pinned_shadows_next(d: *const domain, smfn: u64) -> u64 {
    // SAFETY: forwarded to the caller (the lock keeps the list stable).
    unsafe {
        let h = addr_of!((*d).arch.paging.shadow.pinned_shadows);
        if smfn == k::INVALID_MFN {
            let first = (*h).next.cast_const();
            if first.is_null() {
                k::INVALID_MFN
            } else {
                page_to_mfn(first)
            }
        } else if mfn_to_page(smfn) == (*h).tail.cast_const() {
            k::INVALID_MFN
        } else {
            page_list_next_mfn(smfn)
        }
    }
}

/// `mfn_to_page(smfn)->u.sh.type` (asm/mm.h), the shadow type of a shadow
/// page.  The bitfield accessor is bindgen's; the debug build checks each
/// read against the C shim (`Core::sp_type`).
///
/// # Safety
/// `smfn` must be a valid frame (a shadow page, in the callers).
#[inline(always)]
pub unsafe fn sp_type(smfn: u64) -> u32 {
    // SAFETY: forwarded to the caller; the pool's pages change type only
    // under the paging lock, read unlocked by C's inlines too.
    unsafe {
        page_info__bindgen_ty_2__bindgen_ty_2::type__raw(addr_of!((*mfn_to_page(smfn)).u.sh)) as u32
    }
}

/// `__backpointer(mfn_to_page(smfn))` (shadow/private.h): what the shadow
/// shadows, a gfn for FL1 shadows (splintered superpages), else the guest
/// table's mfn (stored as its pdx).
///
/// # Safety
/// As for [`sp_type`].
#[inline(always)]
pub unsafe fn sp_backpointer(smfn: u64) -> u64 {
    // SAFETY: forwarded to the caller.
    let (t, back) = unsafe {
        (
            u64::from(sp_type(smfn)),
            u64::from((*mfn_to_page(smfn)).v.sh.back),
        )
    };
    if t == k::SH_TYPE_FL1_32 || t == k::SH_TYPE_FL1_PAE || t == k::SH_TYPE_FL1_64 {
        back
    } else {
        pdx_to_pfn(back)
    }
}

/// The address of `sh_linear_lN_table(v)` (shadow/types.h), N = 1..=4, 0
/// for any other N.  PV vCPUs reach their shadows through the shadow's own
/// self-map, HVM vCPUs through the monitor table's linear map; the choice
/// is `is_hvm_vcpu(v)`, with its speculation barrier, as in C.
///
/// # Safety
/// `v` must be a live vCPU.
#[inline(always)]
pub unsafe fn sh_linear_table_base(v: *const vcpu, level: u32) -> u64 {
    if level == 1 {
        return k::SH_LINEAR_L1;
    }
    // SAFETY: forwarded to the caller.
    let hvm = unsafe { is_hvm_domain(vcpu_domain(v)) };
    match (level, hvm) {
        (2, false) => k::SH_LINEAR_L2_PV,
        (3, false) => k::SH_LINEAR_L3_PV,
        (4, false) => k::SH_LINEAR_L4_PV,
        (2, true) => k::SH_LINEAR_L2_HVM,
        (3, true) => k::SH_LINEAR_L3_HVM,
        (4, true) => k::SH_LINEAR_L4_HVM,
        _ => 0,
    }
}

/// `get_unsafe(x, (uint64_t *)addr)` (asm/uaccess.h, with UA_DROP: no
/// pointer masking): a load that may fault.  The load carries an
/// exception-table entry in Xen's format (`_ASM_EXTABLE`: two 32-bit
/// offsets relative to themselves, the faulting instruction and its
/// fixup, in `.ex_table`, which Xen sorts at boot); the fixup, in
/// `.fixup` as C's, sets the error flag, zeroes the value and resumes
/// after the load.  Xen's #PF and #GP handlers redirect a fault in
/// hypervisor context to the fixup.  `None` if the load faulted.
/// (Checked at boot by `get_unsafe_self_test`.)
///
/// # Safety
/// A fault on `addr` must be acceptable (an unmapped linear-map slot);
/// reading `addr` must not have side effects (no MMIO).
#[inline(always)]
pub unsafe fn get_unsafe_u64(addr: u64) -> Option<u64> {
    let val: u64;
    let err: u32;
    // SAFETY: forwarded to the caller; registers and flags are the only
    // other state touched.
    unsafe {
        asm!(
            "xor {err:e}, {err:e}",
            "7760:",
            "mov {val}, qword ptr [{addr}]",
            "7761:",
            ".pushsection .fixup, \"ax\"",
            "7762:",
            "mov {err:e}, 1",
            "xor {val:e}, {val:e}",
            "jmp 7761b",
            ".popsection",
            ".pushsection .ex_table, \"a\"",
            ".balign 4",
            ".long 7760b - .",
            ".long 7762b - .",
            ".popsection",
            addr = in(reg) addr,
            err = out(reg) err,
            val = lateout(reg) val,
            options(nostack, readonly),
        );
    }
    (err == 0).then_some(val)
}

/// Boot-time check of [`get_unsafe_u64`]'s exception-table entry: a load
/// from a non-canonical address (#GP) must come back as `None`, a load
/// from a local as its value.  False if either does not.
pub fn get_unsafe_self_test() -> bool {
    let local: u64 = 0x5a5a_1234_8765_a5a5;
    let addr = addr_of!(local) as usize as u64;
    // SAFETY: the first address is non-canonical (nothing mapped, no
    // device), the second a live local.
    unsafe {
        get_unsafe_u64(0x8000_0000_0000_0000).is_none() && get_unsafe_u64(addr) == Some(local)
    }
}

/// `block_lock_speculation()` (xen/spinlock.h): an `lfence`
/// (CONFIG_SPECULATIVE_HARDEN_LOCK) with the `.altinstructions` record of
/// C's `alternative("lfence", "", X86_FEATURE_SC_NO_LOCK_HARDEN)`, so that
/// no code of a critical section runs speculatively before its lock is
/// held.  Every lock taken inline here ends with it, as C's do.
#[inline(always)]
fn block_lock_speculation() {
    if k::CONFIG_SPECULATIVE_HARDEN_LOCK != 0 {
        // SAFETY: no register, memory or flag is touched; the record is
        // read by apply_alternatives() at boot.
        unsafe {
            asm!(
                alt_lfence!("7770", "7771", "7772"),
                feat = const k::X86_FEATURE_SC_NO_LOCK_HARDEN,
                options(nostack, preserves_flags),
            );
        }
    }
}

/// `spin_lock(l)` (xen/spinlock.h): `_spin_lock(l)`, then
/// [`block_lock_speculation`].
///
/// # Safety
/// `l` must be a live, initialised spin lock not held by this CPU.
#[inline(always)]
unsafe fn spin_lock(l: *mut spinlock_t) {
    // SAFETY: forwarded to the caller.
    unsafe { _spin_lock(l) };
    block_lock_speculation();
}

// ---- per-vCPU emulation state (asm/domain.h, struct paging_vcpu) ---------
//
// `last_write_was_pt` and `last_write_emul_ok` are one-bit bitfields, read
// and written through bindgen's raw accessors (no reference to the vCPU is
// formed); the debug build checks each against the C shims of
// ffi/c/fault.c.  The vCPU's own context is their only user, as in C.

/// `v->arch.paging.last_write_emul_ok`.
///
/// # Safety
/// `v` must be a live HVM vCPU (the field exists with CONFIG_HVM).
#[inline(always)]
pub unsafe fn last_write_emul_ok(v: *const vcpu) -> bool {
    // SAFETY: forwarded to the caller.
    unsafe { paging_vcpu::last_write_emul_ok_raw(addr_of!((*v).arch.paging)) != 0 }
}

/// `v->arch.paging.last_write_emul_ok = ok`.
///
/// # Safety
/// As for [`last_write_emul_ok`].
#[inline(always)]
pub unsafe fn set_last_write_emul_ok(v: *mut vcpu, ok: bool) {
    // SAFETY: forwarded to the caller.
    unsafe { paging_vcpu::set_last_write_emul_ok_raw(addr_of_mut!((*v).arch.paging), ok.into()) }
}

/// `v->arch.paging.last_write_was_pt`.
///
/// # Safety
/// As for [`last_write_emul_ok`].
#[inline(always)]
pub unsafe fn last_write_was_pt(v: *const vcpu) -> bool {
    // SAFETY: forwarded to the caller.
    unsafe { paging_vcpu::last_write_was_pt_raw(addr_of!((*v).arch.paging)) != 0 }
}

/// `v->arch.paging.last_write_was_pt = was_pt`.
///
/// # Safety
/// As for [`last_write_emul_ok`].
#[inline(always)]
pub unsafe fn set_last_write_was_pt(v: *mut vcpu, was_pt: bool) {
    // SAFETY: forwarded to the caller.
    unsafe { paging_vcpu::set_last_write_was_pt_raw(addr_of_mut!((*v).arch.paging), was_pt.into()) }
}

/// `v->arch.paging.shadow.last_emulated_frame`.
///
/// # Safety
/// `v` must be a live vCPU.
#[inline(always)]
pub unsafe fn last_emulated_frame(v: *const vcpu) -> u64 {
    // SAFETY: forwarded to the caller.
    unsafe { (*v).arch.paging.shadow.last_emulated_frame }
}

/// `v->arch.paging.shadow.last_emulated_frame = frame`.
///
/// # Safety
/// As for [`last_emulated_frame`].
#[inline(always)]
pub unsafe fn set_last_emulated_frame(v: *mut vcpu, frame: u64) {
    // SAFETY: forwarded to the caller.
    unsafe { (*v).arch.paging.shadow.last_emulated_frame = frame }
}

/// `v->arch.paging.shadow.last_emulated_mfn`.
///
/// # Safety
/// As for [`last_emulated_frame`].
#[inline(always)]
pub unsafe fn last_emulated_mfn(v: *const vcpu) -> u64 {
    // SAFETY: forwarded to the caller.
    unsafe { (*v).arch.paging.shadow.last_emulated_mfn }
}

/// `v->arch.paging.shadow.last_emulated_mfn = mfn`.
///
/// # Safety
/// As for [`last_emulated_frame`].
#[inline(always)]
pub unsafe fn set_last_emulated_mfn(v: *mut vcpu, mfn: u64) {
    // SAFETY: forwarded to the caller.
    unsafe { (*v).arch.paging.shadow.last_emulated_mfn = mfn }
}

/// `sh_reset_early_unshadow(v)` (shadow/private.h; SHOPT_EARLY_UNSHADOW is
/// in every build's SHADOW_OPTIMIZATIONS, checked by ffi::consts).
///
/// # Safety
/// As for [`last_emulated_frame`].
#[inline(always)]
pub unsafe fn sh_reset_early_unshadow(v: *mut vcpu) {
    const _: () = assert!(k::SHOPT_EARLY_UNSHADOW_ON == 1);
    // SAFETY: forwarded to the caller.
    unsafe { (*v).arch.paging.shadow.last_emulated_mfn_for_unshadow = k::INVALID_MFN }
}

/// `put_gfn(d, gfn)` (asm/p2m.h): nothing for a domain without a
/// translated p2m, else `p2m_put_gfn()`, called directly.
///
/// # Safety
/// `d` must be a live domain and `gfn` a gfn this CPU locked by `get_gfn`.
#[inline(always)]
pub unsafe fn put_gfn(d: *const domain, gfn: u64) {
    // SAFETY: forwarded to the caller.
    unsafe {
        if paging_mode_translate(d) {
            ffi::xen::core_shims::p2m_put_gfn(p2m_get_hostp2m(d), gfn);
        }
    }
}

/// `tb_init_done` (xen/trace.h): trace buffers are set up.
#[inline(always)]
pub fn tb_init_done() -> bool {
    // SAFETY: a plain read of an int Xen sets once (as C's readers do);
    // without CONFIG_TRACEBUFFER the macro is `false` and the variable is
    // never referenced.
    k::CONFIG_TRACEBUFFER != 0 && unsafe { read_volatile(addr_of!(TB_INIT_DONE)) } != 0
}

/// `d->arch.cpuid->extd.maxphysaddr`.
///
/// # Safety
/// `d` must be a live domain (its policy is allocated at creation).
#[inline(always)]
pub unsafe fn cpuid_maxphysaddr(d: *const domain) -> u32 {
    // SAFETY: forwarded to the caller; the policy changes only while the
    // domain is paused (domctl), as C reads it.
    unsafe {
        u32::from(
            (*(*d).arch.__bindgen_anon_2.cpuid)
                .extd
                .__bindgen_anon_1
                .maxphysaddr,
        )
    }
}

/// `pagetable_get_pfn(v->arch.paging.shadow.shadow_table[i & 3])`.
///
/// # Safety
/// `v` must be a live vCPU.
#[inline(always)]
pub unsafe fn shadow_table_pfn(v: *const vcpu, i: usize) -> u64 {
    // SAFETY: forwarded to the caller; the index is below the array's 4.
    unsafe { (*v).arch.paging.shadow.shadow_table[i & 3].pfn }
}

/// `_PAGE_NX` (asm/page.h): `_PAGE_NX_BIT` if the CPU has NX
/// (`cpu_has_nx`, a test of `boot_cpu_data`'s feature words), else 0.
#[inline(always)]
pub fn page_nx() -> u32 {
    const WORD: usize = (k::X86_FEATURE_NX / 32) as usize;
    // SAFETY: a plain read of a word of boot_cpu_data, which Xen fills
    // before any domain exists (C's test_bit reads it the same way); the
    // index is a constant inside the array (a violation fails to compile).
    let w = unsafe { read_volatile(addr_of!(boot_cpu_data.x86_capability[WORD])) };
    if w & (1 << (k::X86_FEATURE_NX % 32)) != 0 {
        k::PAGE_NX_BIT as u32
    } else {
        0
    }
}

// ---- the paging lock (arch/x86/mm/mm-locks.h) ------------------------------
//
// `paging_lock(d)`, `paging_lock_recursive(d)`, `paging_unlock(d)` and
// `paging_locked_by_me(d)` are static inlines of mm-locks.h around
// `d->arch.paging.lock` (an `mm_lock_t`: a recursive spin lock, the lock
// order to restore on unlock and the locker's name) and the per-CPU
// `mm_lock_level`.  They were C shims, 47 + 15 + 8 instructions a shadow
// fault more than C's inline code (docs/benchmarks.md, round 5).  The
// sequence here is `_mm_lock()` / `mm_unlock()` step for step:
//
// * the per-CPU block is found from the stack pointer as
//   `get_cpu_info()` does (STACK_SIZE and `cpu_info`'s layout from GCC);
// * `recurse_cpu` / `recurse_cnt` are the 16-bit bitfield unit after the
//   ticket pair (SPINLOCK_RECURSE_OFF, SPINLOCK_CPU_BITS from GCC);
// * `is_control_domain()` keeps its `evaluate_nospec()` barrier and
//   `spin_lock_recursive()` its `block_lock_speculation()`;
// * the two cases C reports (a lock-order violation, a non-recursive lock
//   already held by this CPU) call C's own `paging_lock()` (the shim),
//   which prints C's message and BUG()s / panics.
//
// `check_lock_layout()` (run by xen_shadow_rs_init before any guest)
// compares the bitfield reads and the per-CPU address with C's.

/// mm-locks.h's MM_LOCK_ORDER_paging and MM_LOCK_ORDER_MAX (checked by a
/// BUILD_BUG_ON in ffi/c/core.c's `xsr_lock_layout_probe`).
const MM_LOCK_ORDER_PAGING: i32 = 64;
const MM_LOCK_ORDER_MAX: i32 = 64;

/// `get_cpu_info()` (asm/current.h): the block at the top of this CPU's
/// stack.
#[inline(always)]
fn cpu_info() -> *mut cpu_info {
    let sp: usize;
    // SAFETY: copies RSP into a register.
    unsafe { asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    // (Wrapping: the top of a stack is never the top of the address space.)
    (sp | (k::STACK_SIZE as usize - 1))
        .wrapping_add(1)
        .wrapping_sub(::core::mem::size_of::<cpu_info>()) as *mut cpu_info
}

/// `current`: the vCPU running on this CPU (`get_cpu_info()->current_vcpu`).
#[inline(always)]
pub fn current() -> *mut vcpu {
    // SAFETY: the per-CPU block of the running CPU is always mapped, and
    // `current_vcpu` is set before any guest or hypercall runs.
    let v = unsafe { read_volatile(addr_of!((*cpu_info()).current_vcpu)) };
    #[cfg(xen_debug)]
    // SAFETY: as above.
    debug_assert_eq!(v, unsafe { ffi::xen::core_shims::xsr_current() });
    v
}

/// `&this_cpu(mm_lock_level)`.
#[inline(always)]
fn mm_lock_level() -> *mut i32 {
    this_cpu(addr_of_mut!(per_cpu__mm_lock_level))
}

/// `&this_cpu(var)` (asm/percpu.h) for the address of a `per_cpu__var`:
/// the running CPU's copy.
#[inline(always)]
fn this_cpu<T>(var: *mut T) -> *mut T {
    // SAFETY: the per-CPU block of the running CPU is always mapped;
    // `per_cpu_offset` is set before the CPU runs any guest.
    let off = unsafe { read_volatile(addr_of!((*cpu_info()).per_cpu_offset)) } as usize;
    (var as usize).wrapping_add(off) as *mut T
}

/// `d->arch.paging.log_dirty.fault_count++` (a plain increment: its
/// writers hold the paging lock).
///
/// # Safety
/// `d` must be a live domain whose paging lock this CPU holds.
#[inline(always)]
pub unsafe fn log_dirty_fault_count_inc(d: *mut domain) {
    // SAFETY: forwarded to the caller.
    unsafe {
        let c = addr_of_mut!((*d).arch.paging.log_dirty.fault_count);
        c.write(c.read().wrapping_add(1));
    }
}

/// `&this_cpu(trace_shadow_path_flags)`: this CPU's copy, which only code
/// running on it touches (no atomics, as in C).
#[inline(always)]
pub fn trace_shadow_path_flags() -> *mut u32 {
    this_cpu(addr_of_mut!(per_cpu__trace_shadow_path_flags))
}

/// The lock's `recurse_cpu:SPINLOCK_CPU_BITS, recurse_cnt` unit.
///
/// # Safety
/// `l` must be a live spin lock.
#[inline(always)]
unsafe fn recurse_word(l: *const spinlock_t) -> u16 {
    // SAFETY: forwarded to the caller; the unit is inside the lock.  C reads
    // it unlocked too (mm_locked_by_me).
    unsafe { read_volatile((l as *const u8).add(k::SPINLOCK_RECURSE_OFF as usize) as *const u16) }
}

#[inline(always)]
fn recurse_cpu(word: u16) -> u32 {
    u32::from(word) & ((1 << k::SPINLOCK_CPU_BITS) - 1)
}

#[inline(always)]
fn recurse_cnt(word: u16) -> u32 {
    u32::from(word) >> k::SPINLOCK_CPU_BITS
}

/// `mm_locked_by_me(l)`: `l->lock.recurse_cpu == current->processor`.
///
/// # Safety
/// `l` must be a live mm lock.
#[inline(always)]
unsafe fn mm_locked_by_me(l: *const mm_lock_t) -> bool {
    // SAFETY: forwarded to the caller; `current` is a live vCPU.
    unsafe { recurse_cpu(recurse_word(addr_of!((*l).lock))) as i32 == (*current()).processor }
}

/// `_lock_level(d, MM_LOCK_ORDER_paging)`: the order, raised by
/// MM_LOCK_ORDER_MAX for the control domain.
///
/// # Safety
/// `d` must be a live domain.
#[inline(always)]
unsafe fn paging_lock_level(d: *const domain) -> i32 {
    // SAFETY: forwarded to the caller; `is_privileged` is a plain bool.
    let privileged = unsafe { read_volatile(addr_of!((*d).is_privileged)) };
    MM_LOCK_ORDER_PAGING
        + if evaluate_nospec(privileged) {
            MM_LOCK_ORDER_MAX
        } else {
            0
        }
}

/// `paging_lock(d)` (`rec` false) or `paging_lock_recursive(d)` (true).
///
/// # Safety
/// `d` must be a live domain; the caller follows mm-locks.h's order.
#[inline(always)]
pub unsafe fn paging_lock(d: *mut domain, rec: bool) {
    // SAFETY: forwarded to the caller.
    unsafe {
        let l = addr_of_mut!((*d).arch.paging.lock);
        let level = mm_lock_level();
        let order = paging_lock_level(d);
        if !(rec && mm_locked_by_me(l)) && *level > order {
            // C prints the two levels and BUG()s.
            ffi::xen::core_shims::xsr_paging_lock(d);
        }
        // spin_lock_recursive().
        let lock = addr_of_mut!((*l).lock);
        _spin_lock_recursive(lock);
        block_lock_speculation();
        if recurse_cnt(recurse_word(lock)) == 1 {
            (*l).locker_function = c"paging_lock (xen-shadow-rs)".as_ptr();
            (*l).unlock_level = *level;
        } else if !rec {
            // Already held by this CPU: C panics with the holder's name.
            ffi::xen::core_shims::xsr_paging_lock(d);
        }
        *level = order;
    }
}

/// `paging_unlock(d)`.
///
/// # Safety
/// The current CPU must hold `d`'s paging lock.
#[inline(always)]
pub unsafe fn paging_unlock(d: *mut domain) {
    // SAFETY: forwarded to the caller.
    unsafe {
        let l = addr_of_mut!((*d).arch.paging.lock);
        let lock = addr_of_mut!((*l).lock);
        if recurse_cnt(recurse_word(lock)) == 1 {
            (*l).locker_function = c"nobody".as_ptr();
            *mm_lock_level() = (*l).unlock_level;
        }
        _spin_unlock_recursive(lock);
    }
}

/// `paging_locked_by_me(d)`.
///
/// # Safety
/// `d` must be a live domain.
#[inline(always)]
pub unsafe fn paging_locked_by_me(d: *mut domain) -> bool {
    // SAFETY: forwarded to the caller.
    let mine = unsafe { mm_locked_by_me(addr_of!((*d).arch.paging.lock)) };
    #[cfg(xen_debug)]
    // SAFETY: as above.
    debug_assert_eq!(mine, unsafe {
        ffi::xen::core_shims::xsr_paging_locked_by_me(d)
    });
    mine
}

/// Boot check of the layout the inline lock relies on: C sets a lock's
/// `recurse_cpu` and `recurse_cnt` and reports `&this_cpu(mm_lock_level)`;
/// the Rust reads must agree.
pub fn check_lock_layout() -> bool {
    let mut l = ::core::mem::MaybeUninit::<spinlock_t>::zeroed();
    let mut level: *mut ::core::ffi::c_int = ::core::ptr::null_mut();
    // SAFETY: C initialises the local lock and writes the pointer.
    unsafe { ffi::xen::core_shims::xsr_lock_layout_probe(l.as_mut_ptr(), &mut level) };
    // SAFETY: the lock was initialised by C above.
    let w = unsafe { recurse_word(l.as_ptr()) };
    let cpu_mask = (1u32 << k::SPINLOCK_CPU_BITS) - 1;
    recurse_cpu(w) == 0x2a5 & cpu_mask
        && recurse_cnt(w) == 0x9 & (0xffff >> k::SPINLOCK_CPU_BITS)
        && level == mm_lock_level()
}
