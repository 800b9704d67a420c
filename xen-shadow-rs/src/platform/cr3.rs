//! What CR3 updates, linear entries, out-of-sync resync and pagetable_dying
//! (multi.c blocks M, T, W) need from the platform beyond [`Core`].
//!
//! The guest-table roots (`guest_table`, `TF_kernel_mode`, `guest_cr[3]`,
//! reading `gl3e`) come from [`crate::platform::WalkOps`].
//!
//! Most methods are accessors of `struct vcpu` fields (`v->arch...`) that C
//! reads and writes directly; their names start with `vcpu_` to say so.
//! Top-level shadow slots travel as frame numbers: `pagetable_t` is a pfn,
//! and pfn 0 means "no table" (`pagetable_null()`).

use crate::level::GuestLevel;
use crate::platform::{Core, Table};
use crate::types::Mfn;

/// Platform needs of CR3 updates, linear entries, out-of-sync resync and
/// pagetable_dying (multi.c blocks M, T, W).
pub trait Cr3Ops: Core {
    /// `v->is_initialised`.
    fn vcpu_is_initialised(&self, v: Self::Vcpu) -> bool;
    /// `pagetable_get_mfn(v->arch.guest_table)` (the same as
    /// `WalkOps::guest_table_pfn`, as an `Mfn`).
    fn vcpu_guest_table(&self, v: Self::Vcpu) -> Mfn;
    /// `pagetable_get_pfn(v->arch.hvm.monitor_table)` (0: no monitor table).
    fn vcpu_monitor_table(&self, v: Self::Vcpu) -> Mfn;

    /// `pagetable_get_pfn(v->arch.paging.shadow.shadow_table[i])` (0: null).
    /// `i` < 4 with 3-level shadows, < 1 with 4-level ones.
    fn vcpu_shadow_table(&self, v: Self::Vcpu, i: usize) -> Mfn;
    /// `v->arch.paging.shadow.shadow_table[i] = pagetable_from_mfn(smfn)`
    /// (`Mfn(0)` stores `pagetable_null()`).
    fn vcpu_set_shadow_table(&self, v: Self::Vcpu, i: usize, smfn: Mfn);
    /// `v->arch.paging.shadow.l3table[i]` (i < 4): the PAE top level that
    /// 2- and 3-level shadows run on.
    fn vcpu_set_l3table(&self, v: Self::Vcpu, i: usize, e: u64);
    fn vcpu_l3table(&self, v: Self::Vcpu, i: usize) -> u64;
    /// `virt_to_maddr(&v->arch.paging.shadow.l3table)`.
    fn vcpu_l3table_maddr(&self, v: Self::Vcpu) -> u64;
    /// `v->arch.paging.shadow.gl3e[i] = e` (i < 4): the cached guest PAE
    /// l3es (read with `WalkOps::shadow_gl3e`).
    fn vcpu_set_gl3e(&self, v: Self::Vcpu, i: usize, e: u64);
    /// `v->arch.paging.shadow.pagetable_dying = dying`.
    fn vcpu_set_sh_pagetable_dying(&self, v: Self::Vcpu, dying: bool);
    /// `d->arch.paging.shadow.pagetable_dying_op = 1`.
    fn set_pagetable_dying_op(&self, d: Self::Dom);

    /// `sh_set_toplevel_shadow(v, slot, gmfn, root_type, sh_make_shadow)`
    /// (common.c) with this level's `sh_make_shadow` as the constructor.
    /// Returns the pfn of the old entry still to be released (0 if none).
    fn sh_set_toplevel_shadow<L: GuestLevel>(
        &self,
        v: Self::Vcpu,
        slot: usize,
        gmfn: Mfn,
        root_type: u32,
    ) -> u64;

    /// `VM_ASSIST(d, m2p_strict)`.
    fn vm_assist_m2p_strict(&self, d: Self::Dom) -> bool;
    /// `fill_ro_mpt(mfn)`, `zap_ro_mpt(mfn)`: the read-only M2P slot of a
    /// 64-bit PV top-level table.
    fn fill_ro_mpt(&self, mfn: Mfn);
    fn zap_ro_mpt(&self, mfn: Mfn);
    /// `make_cr3(v, mfn)`: sets `v->arch.cr3`.
    fn make_cr3(&self, v: Self::Vcpu, mfn: Mfn);
    /// `v->arch.hvm.hw_cr[3] = value`.
    fn vcpu_set_hvm_hw_cr3(&self, v: Self::Vcpu, value: u64);
    /// `hvm_update_guest_cr3(v, noflush)` (through a C shim: never call
    /// `hvm_funcs` through a pointer from Rust).
    fn hvm_update_guest_cr3(&self, v: Self::Vcpu, noflush: bool);
    /// `vtlb_flush(v)` (private.h).
    fn vtlb_flush(&self, v: Self::Vcpu);

    /// The page of Xen's own linear page table (`__linear_l<level>_table`)
    /// holding the level-`level` entry that maps `va`: that is the current
    /// monitor table's level-`level` table covering `va`, seen through the
    /// linear map.  Valid only while the vCPU whose monitor table is loaded
    /// is `current`, and only for `level` 2 and 4.
    fn current_linear_table(&self, level: u32, va: u64) -> Table;
}
