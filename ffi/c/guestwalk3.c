/*
 * guest_walk_tables_3_levels() for Rust (Core::guest_walk_tables::<G3>).
 * See guestwalk2.c for why there is one file per level.
 */
#define GUEST_PAGING_LEVELS 3

#include "bindings.h"
#include <asm/guest_pt.h>

/*
 * guest_walk_tables(v, hostp2m, va, &gw, pfec, top_gfn, top_mfn, top_map).
 * PAE walks have an l3e but no L4 and record no l3mfn (the top is the
 * vCPU's cached gl3e[] copy): l4e is 0, l4mfn and l3mfn INVALID_MFN.
 */
bool xsr_guest_walk_3(const struct vcpu *v, unsigned long va,
                      struct xsr_guest_walk *out, uint32_t pfec,
                      unsigned long top_gfn, unsigned long top_mfn,
                      void *top_map);
bool xsr_guest_walk_3(const struct vcpu *v, unsigned long va,
                      struct xsr_guest_walk *out, uint32_t pfec,
                      unsigned long top_gfn, unsigned long top_mfn,
                      void *top_map)
{
    walk_t gw;
    bool ok = guest_walk_tables(v, p2m_get_hostp2m(v->domain), va, &gw, pfec,
                                _gfn(top_gfn), _mfn(top_mfn), top_map);

    out->va = gw.va;
    out->l4e = 0;
    out->l3e = l3e_get_intpte(gw.l3e);
    out->l2e = l2e_get_intpte(gw.l2e);
    out->l1e = l1e_get_intpte(gw.l1e);
    out->l4mfn = mfn_x(INVALID_MFN);
    out->l3mfn = mfn_x(INVALID_MFN);
    out->l2mfn = mfn_x(gw.l2mfn);
    out->l1mfn = mfn_x(gw.l1mfn);
    out->pfec = gw.pfec;
    return ok;
}
