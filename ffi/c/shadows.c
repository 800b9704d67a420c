/*
 * C shims for shadow creation, destruction, unhooking, revocation and
 * removal (multi.c blocks B, G-K, U, V): the fields, macros and static
 * inlines the Rust `impl ShadowOps for Xen` (src/xen/shadows.rs) needs.
 * One-liners only; the decisions are made in Rust.
 */
#include "bindings.h"

/* Constants the Rust side hard-codes (xen-shadow-rs/src/iter.rs). */
_Static_assert(ROOT_PAGETABLE_FIRST_XEN_SLOT == 256 &&
               ROOT_PAGETABLE_LAST_XEN_SLOT == 271,
               "PV Xen L4 slots moved: update iter.rs");

void xsr_sh_set_last_writeable_pte_smfn(struct vcpu *v, unsigned long smfn);
void xsr_sh_set_last_writeable_pte_smfn(struct vcpu *v, unsigned long smfn)
{
    v->arch.paging.shadow.last_writeable_pte_smfn = smfn;
}

void xsr_sh_init_xen_l4_slots(void *l4t, unsigned long l4mfn,
                              const struct domain *d, unsigned long sl4mfn,
                              bool ro_mpt);
void xsr_sh_init_xen_l4_slots(void *l4t, unsigned long l4mfn,
                              const struct domain *d, unsigned long sl4mfn,
                              bool ro_mpt)
{
    init_xen_l4_slots(l4t, _mfn(l4mfn), d, _mfn(sl4mfn), ro_mpt);
}

void xsr_sh_init_xen_pae_l2_slots(void *l2t, const struct domain *d);
void xsr_sh_init_xen_pae_l2_slots(void *l2t, const struct domain *d)
{
    init_xen_pae_l2_slots(l2t, d);
}

void xsr_sh_reset_l3_up_pointers(struct vcpu *v);
void xsr_sh_reset_l3_up_pointers(struct vcpu *v)
{
    sh_reset_l3_up_pointers(v);
}

#ifdef CONFIG_DEBUG
/* The page after `mfn` in d's pinned-shadow list (the first if `mfn` is
 * INVALID_MFN); INVALID_MFN at the end.  Rust walks the list inline
 * (src/xen/fast.rs); the debug build checks each step against this. */
unsigned long xsr_sh_pinned_shadows_next(struct domain *d, unsigned long mfn);
unsigned long xsr_sh_pinned_shadows_next(struct domain *d, unsigned long mfn)
{
    struct page_list_head *h = &d->arch.paging.shadow.pinned_shadows;
    struct page_info *pg = mfn_eq(_mfn(mfn), INVALID_MFN)
                           ? page_list_first(h)
                           : page_list_next(mfn_to_page(_mfn(mfn)), h);

    return pg ? mfn_x(page_to_mfn(pg)) : mfn_x(INVALID_MFN);
}
#endif

unsigned int xsr_sh_compat_l2_first_xen_slot(const struct domain *d);
unsigned int xsr_sh_compat_l2_first_xen_slot(const struct domain *d)
{
    return COMPAT_L2_PAGETABLE_FIRST_XEN_SLOT(d);
}

bool xsr_sh_check_page_has_no_refs(unsigned long mfn);
bool xsr_sh_check_page_has_no_refs(unsigned long mfn)
{
    return sh_check_page_has_no_refs(mfn_to_page(_mfn(mfn)));
}

unsigned long xsr_sh_page_type_count(unsigned long mfn);
unsigned long xsr_sh_page_type_count(unsigned long mfn)
{
    return mfn_to_page(_mfn(mfn))->u.inuse.type_info & PGT_count_mask;
}

unsigned long xsr_sh_linear_l4e_of_sh_linear(void);
unsigned long xsr_sh_linear_l4e_of_sh_linear(void)
{
    return (unsigned long)(__linear_l4_table +
                           l4_linear_offset(SH_LINEAR_PT_VIRT_START));
}
