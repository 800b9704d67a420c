/*
 * The Xen headers bindgen reads (and the layout probe includes): the same
 * set multi.c includes, minus <asm/guest_pt.h> and "types.h", which depend on
 * GUEST_PAGING_LEVELS and are mirrored per level in Rust instead.
 */
#include <xen/types.h>
#include <xen/mm.h>
#include <xen/trace.h>
#include <xen/sched.h>
#include <xen/perfc.h>
#include <xen/domain_page.h>
#include <xen/iocap.h>
#include <asm/page.h>
#include <asm/current.h>
#include <asm/shadow.h>
#include <asm/flushtlb.h>
#include <asm/hvm/hvm.h>
#include <asm/hvm/cacheattr.h>
#include <asm/mtrr.h>
#include <public/sched.h>
#include "private.h"

/*
 * walk_t (asm/guest_pt.h) flattened: its layout depends on
 * GUEST_PAGING_LEVELS, so c/guestwalk{2,3,4}.c copy each level's walk_t into
 * this one level-independent struct, whose Rust twin bindgen generates (and
 * layout.rs checks against GCC).  Entries a level lacks are 0, their frames
 * INVALID_MFN; for 2-level guests l1e is the 64-bit `el1e` view (a PSE36
 * superpage's fabricated l1e may exceed 32 bits).
 */
struct xsr_guest_walk {
    uint64_t va;
    uint64_t l4e, l3e, l2e, l1e;
    uint64_t l4mfn, l3mfn, l2mfn, l1mfn;
    uint32_t pfec;
};
