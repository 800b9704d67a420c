/*
 * guest_walk_tables_4_levels() for Rust (Core::guest_walk_tables::<G4>),
 * and the shadow linear-map bases, which need SHADOW_PAGING_LEVELS 4.
 * See guestwalk2.c for why there is one file per level.
 */
#define GUEST_PAGING_LEVELS 4

#include "bindings.h"
#include <asm/guest_pt.h>
#include "types.h"

/*
 * guest_walk_tables(v, hostp2m, va, &gw, pfec, top_gfn, top_mfn, top_map).
 * 4-level walks fill every entry and frame.
 */
bool xsr_guest_walk_4(const struct vcpu *v, unsigned long va,
                      struct xsr_guest_walk *out, uint32_t pfec,
                      unsigned long top_gfn, unsigned long top_mfn,
                      void *top_map);
bool xsr_guest_walk_4(const struct vcpu *v, unsigned long va,
                      struct xsr_guest_walk *out, uint32_t pfec,
                      unsigned long top_gfn, unsigned long top_mfn,
                      void *top_map)
{
    walk_t gw;
    bool ok = guest_walk_tables(v, p2m_get_hostp2m(v->domain), va, &gw, pfec,
                                _gfn(top_gfn), _mfn(top_mfn), top_map);

    out->va = gw.va;
    out->l4e = l4e_get_intpte(gw.l4e);
    out->l3e = l3e_get_intpte(gw.l3e);
    out->l2e = l2e_get_intpte(gw.l2e);
    out->l1e = l1e_get_intpte(gw.l1e);
    out->l4mfn = mfn_x(gw.l4mfn);
    out->l3mfn = mfn_x(gw.l3mfn);
    out->l2mfn = mfn_x(gw.l2mfn);
    out->l1mfn = mfn_x(gw.l1mfn);
    out->pfec = gw.pfec;
    return ok;
}

/*
 * The address of `sh_linear_lN_table(v)` (types.h), N = 1..4; 0 for any
 * other N.  HVM vCPUs reach their shadows through the monitor table's
 * linear map, PV vCPUs through the shadow's own self-map: the macros pick.
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
