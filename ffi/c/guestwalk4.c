/*
 * The layout checks of the 4-level walk Rust calls directly (see
 * guestwalk.h), and (debug builds) the shadow linear-map bases, which need
 * SHADOW_PAGING_LEVELS 4.
 */
#define GUEST_PAGING_LEVELS 4
#include "guestwalk.h"
#include "types.h"

#ifdef CONFIG_DEBUG
/*
 * The address of `sh_linear_lN_table(v)` (types.h), N = 1..4; 0 for any
 * other N.  Rust computes it inline from ffi::consts (src/xen/fast.rs); the
 * debug build checks every use against this.  HVM vCPUs reach their
 * shadows through the monitor table's linear map, PV vCPUs through the
 * shadow's own self-map: the macros pick.
 * Compiled here because only SHADOW_PAGING_LEVELS 4 defines all four
 * levels; levels 1 and 2 are the same addresses for 3-level (PAE) shadows,
 * whose shifts and entry size are those of 4-level ones.
 */
unsigned long xsr_sh_linear_table_base(const struct vcpu *v,
                                       unsigned int level);
unsigned long xsr_sh_linear_table_base(const struct vcpu *v,
                                       unsigned int level)
{
    switch ( level )
    {
    case 1: return (unsigned long)sh_linear_l1_table(v);
    case 2: return (unsigned long)sh_linear_l2_table(v);
    case 3: return (unsigned long)sh_linear_l3_table(v);
    case 4: return (unsigned long)sh_linear_l4_table(v);
    }
    return 0;
}

/*
 * The frame this CPU's page tables (CR3) map at `va` with a 4 KiB entry,
 * or INVALID_MFN: the debug build checks with it that every shadow-entry
 * slot Rust takes through the shadow linear map (src/xen/core.rs,
 * `sh_linear_page`) is in the shadow page the walk expects.
 */
unsigned long xsr_debug_va_to_mfn(unsigned long va);
unsigned long xsr_debug_va_to_mfn(unsigned long va)
{
    mfn_t mfn = maddr_to_mfn(read_cr3() & PADDR_MASK & PAGE_MASK);
    unsigned int shift = L4_PAGETABLE_SHIFT;

    for ( ; ; shift -= PAGETABLE_ORDER )
    {
        const intpte_t *t = map_domain_page(mfn);
        intpte_t e = t[(va >> shift) & (L1_PAGETABLE_ENTRIES - 1)];

        unmap_domain_page(t);
        if ( !(e & _PAGE_PRESENT) ||
             (shift != L1_PAGETABLE_SHIFT && (e & _PAGE_PSE)) )
            return mfn_x(INVALID_MFN);
        mfn = maddr_to_mfn(e & PADDR_MASK & PAGE_MASK);
        if ( shift == L1_PAGETABLE_SHIFT )
            return mfn_x(mfn);
    }
}
#endif
