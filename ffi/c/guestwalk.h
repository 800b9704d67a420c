/*
 * guest_walk_tables_N_levels() for Rust (Core::guest_walk_tables::<GN>),
 * for 2 and 3 levels (4 is called directly, see below):
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

#if GUEST_PAGING_LEVELS == 4
/*
 * The 4-level walk_t is field for field struct xsr_guest_walk, so Rust
 * calls guest_walk_tables_4_levels() directly on its GuestWalk (no copy);
 * these asserts are what that call relies on.
 */
#define XSR_SAME_FIELD(w, x) \
    _Static_assert(offsetof(walk_t, w) == offsetof(struct xsr_guest_walk, x) && \
                   sizeof(((walk_t *)0)->w) == sizeof(((struct xsr_guest_walk *)0)->x), \
                   "walk_t." #w " is not xsr_guest_walk." #x)
XSR_SAME_FIELD(va, va);
XSR_SAME_FIELD(l4e, l4e);
XSR_SAME_FIELD(l3e, l3e);
XSR_SAME_FIELD(l2e, l2e);
XSR_SAME_FIELD(l1e, l1e);
XSR_SAME_FIELD(l4mfn, l4mfn);
XSR_SAME_FIELD(l3mfn, l3mfn);
XSR_SAME_FIELD(l2mfn, l2mfn);
XSR_SAME_FIELD(l1mfn, l1mfn);
XSR_SAME_FIELD(pfec, pfec);
_Static_assert(sizeof(walk_t) == sizeof(struct xsr_guest_walk),
               "walk_t is not struct xsr_guest_walk");
#undef XSR_SAME_FIELD
#else /* 2 and 3 levels: copied out by a shim */

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
#endif /* GUEST_PAGING_LEVELS */
