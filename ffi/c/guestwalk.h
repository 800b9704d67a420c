/*
 * guest_walk_tables_N_levels() for Rust (Core::guest_walk_tables::<GN>):
 * included by guestwalk{2,3,4}.c after they define GUEST_PAGING_LEVELS,
 * because walk_t's layout depends on it (as Xen compiles mm/guest_walk.c
 * and shadow/multi.c once per level).  The walk is copied out into the
 * level-independent struct xsr_guest_walk (bindings.h): entries a level
 * does not have are 0, their frames INVALID_MFN.  PAE walks record no
 * l3mfn (the top is the vCPU's cached gl3e[] copy).  For 2-level guests
 * l1e is the 64-bit `el1e` view of the union (walk_t is zeroed by the
 * walker, so it is the zero-extended 32-bit l1e unless a PSE36 superpage
 * was fabricated).
 */
#include "bindings.h"
#include <asm/guest_pt.h>

#define XSR_WALK_FN__(n) xsr_guest_walk_ ## n
#define XSR_WALK_FN_(n) XSR_WALK_FN__(n)
#define XSR_WALK_FN XSR_WALK_FN_(GUEST_PAGING_LEVELS)

bool XSR_WALK_FN(const struct vcpu *v, unsigned long va,
                 struct xsr_guest_walk *out, uint32_t pfec,
                 unsigned long top_gfn, unsigned long top_mfn, void *top_map);
bool XSR_WALK_FN(const struct vcpu *v, unsigned long va,
                 struct xsr_guest_walk *out, uint32_t pfec,
                 unsigned long top_gfn, unsigned long top_mfn, void *top_map)
{
    walk_t gw;
    bool ok = guest_walk_tables(v, p2m_get_hostp2m(v->domain), va, &gw, pfec,
                                _gfn(top_gfn), _mfn(top_mfn), top_map);

    out->va = gw.va;
#if GUEST_PAGING_LEVELS >= 4
    out->l4e = gw.l4e.l4;
    out->l4mfn = mfn_x(gw.l4mfn);
    out->l3mfn = mfn_x(gw.l3mfn);
#else
    out->l4e = 0;
    out->l4mfn = mfn_x(INVALID_MFN);
    out->l3mfn = mfn_x(INVALID_MFN);
#endif
#if GUEST_PAGING_LEVELS >= 3
    out->l3e = gw.l3e.l3;
    out->l1e = gw.l1e.l1;
#else
    out->l3e = 0;
    out->l1e = gw.el1e;
#endif
    out->l2e = gw.l2e.l2;
    out->l2mfn = mfn_x(gw.l2mfn);
    out->l1mfn = mfn_x(gw.l1mfn);
    out->pfec = gw.pfec;
    return ok;
}
