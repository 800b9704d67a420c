/*
 * C shims for the shadow audit (xen-shadow-rs/src/audit.rs): the switch,
 * the hash walk and the OOS hash check.  The checks themselves are Rust.
 *
 * The switch: debug builds keep common.c's `shadow_audit_enable` (debug key
 * 'O', and the `shadow-audit` boot option patch 0002 adds there); release
 * builds, where C compiles the audit out, get the same option and key here.
 */
#include "bindings.h"
#include <xen/init.h>
#include <xen/keyhandler.h>
#include <xen/param.h>

#if SHADOW_AUDIT & SHADOW_AUDIT_ENTRIES

#else /* release: the port's own switch */

static bool __initdata opt_shadow_audit;
boolean_param("shadow-audit", opt_shadow_audit);

/* Read directly by Rust (src/xen/core.rs, shadow_audit_enabled). */
bool __read_mostly xsr_audit_on;

static void cf_check xsr_audit_key(unsigned char key)
{
    xsr_audit_on = !xsr_audit_on;
    printk("%s shadow_audit_enable=%d\n", __func__, xsr_audit_on);
}

static int __init cf_check xsr_audit_init(void)
{
    xsr_audit_on = opt_shadow_audit;
    register_keyhandler('O', xsr_audit_key, "toggle shadow audits", 0);
    return 0;
}

__initcall(xsr_audit_init);

#endif

/*
 * The shadow hash walk of common.c's hash_vcpu_foreach, as a cursor: begin
 * (false if the domain has no hash), next until INVALID_MFN, end.  While
 * walking, `hash_walking` keeps lookups from reordering the chains.
 */
bool xsr_hash_walk_begin(struct domain *d);
bool xsr_hash_walk_begin(struct domain *d)
{
    ASSERT(paging_locked_by_me(d));
    if ( unlikely(!d->arch.paging.shadow.hash_table) )
        return false;
    ASSERT(d->arch.paging.shadow.hash_walking == 0);
    d->arch.paging.shadow.hash_walking = 1;
    return true;
}

void xsr_hash_walk_end(struct domain *d);
void xsr_hash_walk_end(struct domain *d)
{
    d->arch.paging.shadow.hash_walking = 0;
}

/* *bucket and *pos start at 0 and NULL. */
unsigned long xsr_hash_walk_next(const struct domain *d, unsigned int *bucket,
                                 struct page_info **pos, unsigned int *type);
unsigned long xsr_hash_walk_next(const struct domain *d, unsigned int *bucket,
                                 struct page_info **pos, unsigned int *type)
{
    struct page_info *x;

    if ( *bucket >= SHADOW_HASH_BUCKETS )
        return mfn_x(INVALID_MFN);
    x = *pos ? next_shadow(*pos) : d->arch.paging.shadow.hash_table[*bucket];
    while ( !x && ++*bucket < SHADOW_HASH_BUCKETS )
        x = d->arch.paging.shadow.hash_table[*bucket];
    *pos = x;
    if ( !x )
        return mfn_x(INVALID_MFN);
    *type = x->u.sh.type;
    return mfn_x(page_to_mfn(x));
}

/* The lookup of common.c's oos_audit_hash_is_present, without its BUG(). */
bool xsr_oos_hash_is_present(const struct domain *d, unsigned long gmfn);
bool xsr_oos_hash_is_present(const struct domain *d, unsigned long gmfn)
{
    const struct vcpu *v;

    for_each_vcpu ( d, v )
    {
        const mfn_t *oos = v->arch.paging.shadow.oos;
        unsigned int idx = gmfn % SHADOW_OOS_PAGES;

        if ( mfn_x(oos[idx]) != gmfn )
            idx = (idx + 1) % SHADOW_OOS_PAGES;
        if ( mfn_x(oos[idx]) == gmfn )
            return true;
    }
    return false;
}
