/*
 * guest_walk_tables_2_levels() for Rust (Core::guest_walk_tables::<G2>).
 * walk_t's layout depends on GUEST_PAGING_LEVELS, so each level gets its own
 * file, as Xen's mm/guest_walk_N.c and shadow/guest_N.c do; the walk is
 * copied out into the level-independent struct xsr_guest_walk (bindings.h).
 */
#define GUEST_PAGING_LEVELS 2

#include "bindings.h"
#include <asm/guest_pt.h>

/*
 * guest_walk_tables(v, hostp2m, va, &gw, pfec, top_gfn, top_mfn, top_map).
 * 2-level walks have no L3/L4: those entries are 0, their frames
 * INVALID_MFN.  l1e is taken from the 64-bit `el1e` view of the union
 * (walk_t is zeroed by the walker, so it is the zero-extended 32-bit l1e
 * unless a PSE36 superpage was fabricated).
 */
bool xsr_guest_walk_2(const struct vcpu *v, unsigned long va,
                      struct xsr_guest_walk *out, uint32_t pfec,
                      unsigned long top_gfn, unsigned long top_mfn,
                      void *top_map);
bool xsr_guest_walk_2(const struct vcpu *v, unsigned long va,
                      struct xsr_guest_walk *out, uint32_t pfec,
                      unsigned long top_gfn, unsigned long top_mfn,
                      void *top_map)
{
    walk_t gw;
    bool ok = guest_walk_tables(v, p2m_get_hostp2m(v->domain), va, &gw, pfec,
                                _gfn(top_gfn), _mfn(top_mfn), top_map);

    out->va = gw.va;
    out->l4e = 0;
    out->l3e = 0;
    out->l2e = gw.l2e.l2;
    out->l1e = gw.el1e;
    out->l4mfn = mfn_x(INVALID_MFN);
    out->l3mfn = mfn_x(INVALID_MFN);
    out->l2mfn = mfn_x(gw.l2mfn);
    out->l1mfn = mfn_x(gw.l1mfn);
    out->pfec = gw.pfec;
    return ok;
}
