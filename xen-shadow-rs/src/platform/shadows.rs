//! What shadow creation, destruction, unhooking, revocation and removal
//! (multi.c blocks B, G-K, U, V) need from the platform beyond [`Core`].

use crate::platform::{Core, Table};
use crate::types::Mfn;

/// Platform needs of shadow creation, destruction, unhooking, revocation
/// and removal (multi.c blocks B, G-K, U, V).  (The vCPU's
/// `shadow_table[]`, `l3table[]` and `VM_ASSIST(m2p_strict)` come from
/// [`crate::platform::Cr3Ops`].)
pub trait ShadowOps: Core {
    /// `v->arch.paging.shadow.last_writeable_pte_smfn = mfn_x(smfn)`.
    fn set_last_writeable_pte_smfn(&self, v: Self::Vcpu, smfn: Mfn);
    /// `init_xen_l4_slots(l4t, l4mfn, d, sl4mfn, ro_mpt)`: Xen's slots of a
    /// PV shadow L4 (`l4t` maps `sl4mfn`).
    fn init_xen_l4_slots(&self, l4t: Table, l4mfn: Mfn, d: Self::Dom, sl4mfn: Mfn, ro_mpt: bool);
    /// `init_xen_pae_l2_slots(l2t, d)`: the compat M2P slots of a 32-bit PV
    /// guest's L2h shadow.
    fn init_xen_pae_l2_slots(&self, l2t: Table, d: Self::Dom);
    /// `sh_reset_l3_up_pointers(v)` (common.c).
    fn sh_reset_l3_up_pointers(&self, v: Self::Vcpu);
    /// Walks `d->arch.paging.shadow.pinned_shadows`: the page after `smfn`
    /// (the first one if `smfn` is `INVALID_MFN`), `INVALID_MFN` at the end
    /// (`page_list_first` / `page_list_next`).
    fn pinned_shadows_next(&self, d: Self::Dom, smfn: Mfn) -> Mfn;
    /// `COMPAT_L2_PAGETABLE_FIRST_XEN_SLOT(d)`.
    fn compat_l2_first_xen_slot(&self, d: Self::Dom) -> usize;
    /// `sh_check_page_has_no_refs(mfn_to_page(mfn))`: the page's only
    /// reference (if any) is the allocation one.
    fn sh_check_page_has_no_refs(&self, mfn: Mfn) -> bool;
    /// `mfn_to_page(mfn)->u.inuse.type_info & PGT_count_mask`.
    fn page_type_count(&self, mfn: Mfn) -> u64;
    /// Address of `__linear_l4_table[l4_linear_offset(SH_LINEAR_PT_VIRT_START)]`:
    /// the entry of the current L4 that holds the shadow linear map.
    fn linear_l4e_of_sh_linear_addr(&self) -> u64;
}
