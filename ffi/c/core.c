/*
 * C shims behind `impl Core for Xen` (src/xen/core.rs).
 *
 * Each shim stands for one Xen macro, static inline or struct access and is
 * named xsr_<that name>.  They exist so that Rust never hard-codes a field
 * offset, a bitfield position or an inline-asm sequence: GCC compiles them
 * with Xen's own CFLAGS, so speculation barriers (evaluate_nospec), lock
 * hardening, the lock-level checks of mm-locks.h, exception-table entries
 * (get_unsafe) and debug ASSERTs come exactly as in multi.c.
 *
 * Conventions: frame numbers cross the boundary as `unsigned long` and are
 * wrapped with _mfn()/_gfn() here (so the shims do not depend on whether
 * mfn_t is a struct, i.e. on NDEBUG); p2m types as `unsigned int`;
 * page-table entries as `uint64_t`.
 *
 * Like set.c, this file is level-independent: GUEST_PAGING_LEVELS is 0 so
 * that types.h only provides the shadow_set_lNe() prototypes and the
 * shadow_lNe_t types.
 */
#define GUEST_PAGING_LEVELS 0

#include "bindings.h"
#include <xen/init.h>
#include <asm/uaccess.h>
#include "types.h"

/* ---- domains and vCPUs ------------------------------------------------ */

/* `d->vcpu[i]`, NULL for holes and for i >= d->max_vcpus. */
struct vcpu *xsr_domain_vcpu(const struct domain *d, unsigned int i);
struct vcpu *xsr_domain_vcpu(const struct domain *d, unsigned int i)
{
    return i < d->max_vcpus ? d->vcpu[i] : NULL;
}

/* `d->max_vcpus`. */
unsigned int xsr_max_vcpus(const struct domain *d);
unsigned int xsr_max_vcpus(const struct domain *d)
{
    return d->max_vcpus;
}

/* `d->domain_id`. */
uint16_t xsr_domain_id(const struct domain *d);
uint16_t xsr_domain_id(const struct domain *d)
{
    return d->domain_id;
}

/* `v->vcpu_id`. */
unsigned int xsr_vcpu_id(const struct vcpu *v);
unsigned int xsr_vcpu_id(const struct vcpu *v)
{
    return v->vcpu_id;
}

/* `d->is_dying` (any state other than DOMDYING_alive). */
bool xsr_domain_is_dying(const struct domain *d);
bool xsr_domain_is_dying(const struct domain *d)
{
    return d->is_dying != DOMDYING_alive;
}

/* `d->is_shutting_down`. */
bool xsr_domain_is_shutting_down(const struct domain *d);
bool xsr_domain_is_shutting_down(const struct domain *d)
{
    return d->is_shutting_down;
}

/* `d->arch.paging.shadow.opt_flags`. */
unsigned int xsr_shadow_opt_flags(const struct domain *d);
unsigned int xsr_shadow_opt_flags(const struct domain *d)
{
    return d->arch.paging.shadow.opt_flags;
}

/* `d->arch.paging.shadow.opt_flags = f`. */
void xsr_set_shadow_opt_flags(struct domain *d, unsigned int f);
void xsr_set_shadow_opt_flags(struct domain *d, unsigned int f)
{
    d->arch.paging.shadow.opt_flags = f;
}

/*
 * `domain_crash(d)` naming the Rust caller; `who` is not NUL-terminated
 * (a Rust &str), hence the precision.
 */
void xsr_domain_crash_str(struct domain *d, const char *who, unsigned int len);
void xsr_domain_crash_str(struct domain *d, const char *who, unsigned int len)
{
    printk(XENLOG_G_ERR "xen-shadow-rs: %.*s: crashing d%d\n",
           (int)len, who, d->domain_id);
    __domain_crash(d);
}

/* ---- machine frames ---------------------------------------------------- */

#ifdef CONFIG_DEBUG
/*
 * `_PAGE_NX`: the NX bit in get_pte_flags() layout, 0 without NX.  Rust
 * reads it inline (src/xen/fast.rs); the debug build checks each read.
 */
unsigned int xsr_page_nx(void);
unsigned int xsr_page_nx(void)
{
    return _PAGE_NX;
}
#endif

/* `paddr_bits`. */
unsigned int xsr_paddr_bits(void);
unsigned int xsr_paddr_bits(void)
{
    return paddr_bits;
}

/* ---- frame table: shadow pages ----------------------------------------- */

#ifdef CONFIG_DEBUG
/*
 * `mfn_to_page(smfn)->u.sh.type` and `__backpointer()`: Rust reads both
 * inline (src/xen/fast.rs); the debug build checks each read against these.
 */
unsigned int xsr_sp_type(unsigned long smfn);
unsigned int xsr_sp_type(unsigned long smfn)
{
    return mfn_to_page(_mfn(smfn))->u.sh.type;
}

unsigned long xsr_sp_backpointer(unsigned long smfn);
unsigned long xsr_sp_backpointer(unsigned long smfn)
{
    return __backpointer(mfn_to_page(_mfn(smfn)));
}
#endif

/* `mfn_to_page(smfn)->u.sh.head`. */
bool xsr_sp_head(unsigned long smfn);
bool xsr_sp_head(unsigned long smfn)
{
    return mfn_to_page(_mfn(smfn))->u.sh.head;
}

/* `mfn_to_page(smfn)->u.sh.pinned`. */
bool xsr_sp_pinned(unsigned long smfn);
bool xsr_sp_pinned(unsigned long smfn)
{
    return mfn_to_page(_mfn(smfn))->u.sh.pinned;
}

/* `mfn_to_page(smfn)->u.sh.count`. */
unsigned int xsr_sp_count(unsigned long smfn);
unsigned int xsr_sp_count(unsigned long smfn)
{
    return mfn_to_page(_mfn(smfn))->u.sh.count;
}

/* `mfn_to_page(smfn)->up`. */
uint64_t xsr_sp_up(unsigned long smfn);
uint64_t xsr_sp_up(unsigned long smfn)
{
    return mfn_to_page(_mfn(smfn))->up;
}

/* `mfn_to_page(smfn)->up = up`. */
void xsr_set_sp_up(unsigned long smfn, uint64_t up);
void xsr_set_sp_up(unsigned long smfn, uint64_t up)
{
    mfn_to_page(_mfn(smfn))->up = up;
}

/*
 * multi.c's sh_next_page() (static there, so rewritten here): the next page
 * of a multi-page shadow of a 2-level guest.  The pages of such a shadow are
 * consecutive on a page list; the empty local head only serves as the list
 * terminator page_list_next() compares against.  cf_check because set.c
 * calls it through shadow_set_l2e()'s next_page pointer.
 */
mfn_t cf_check xsr_sh_next_page(mfn_t smfn);
mfn_t cf_check xsr_sh_next_page(mfn_t smfn)
{
    struct page_info *pg = mfn_to_page(smfn), *next;
    struct page_list_head h = PAGE_LIST_HEAD_INIT(h);

    ASSERT(pg->u.sh.type == SH_type_l1_32_shadow
           || pg->u.sh.type == SH_type_fl1_32_shadow
           || pg->u.sh.type == SH_type_l2_32_shadow);
    ASSERT(pg->u.sh.type == SH_type_l2_32_shadow || pg->u.sh.head);

    next = page_list_next(pg, &h);

    ASSERT(next);
    ASSERT(next->u.sh.type == pg->u.sh.type);
    ASSERT(!next->u.sh.head);
    return page_to_mfn(next);
}

/* ---- frame table: guest pages ------------------------------------------ */

/* `mfn_to_page(gmfn)->shadow_flags`. */
unsigned int xsr_page_shadow_flags(unsigned long gmfn);
unsigned int xsr_page_shadow_flags(unsigned long gmfn)
{
    return mfn_to_page(_mfn(gmfn))->shadow_flags;
}

/* `mfn_to_page(gmfn)->pagetable_dying`. */
bool xsr_page_pagetable_dying(unsigned long gmfn);
bool xsr_page_pagetable_dying(unsigned long gmfn)
{
    return mfn_to_page(_mfn(gmfn))->pagetable_dying;
}

/* `mfn_to_page(gmfn)->pagetable_dying = dying`. */
void xsr_set_page_pagetable_dying(unsigned long gmfn, bool dying);
void xsr_set_page_pagetable_dying(unsigned long gmfn, bool dying)
{
    mfn_to_page(_mfn(gmfn))->pagetable_dying = dying;
}

/* `page_get_owner(mfn_to_page(mfn)) == d`. */
bool xsr_page_owned_by(unsigned long mfn, const struct domain *d);
bool xsr_page_owned_by(unsigned long mfn, const struct domain *d)
{
    return page_get_owner(mfn_to_page(_mfn(mfn))) == d;
}

/* ---- shadow refcounts, pins, hash, pool (private.h inlines) ------------- */

/* `sh_get_ref(d, smfn, entry_pa)`. */
bool xsr_sh_get_ref(struct domain *d, unsigned long smfn, uint64_t entry_pa);
bool xsr_sh_get_ref(struct domain *d, unsigned long smfn, uint64_t entry_pa)
{
    return sh_get_ref(d, _mfn(smfn), entry_pa);
}

/* `sh_put_ref(d, smfn, entry_pa)` (may call sh_destroy_shadow()). */
void xsr_sh_put_ref(struct domain *d, unsigned long smfn, uint64_t entry_pa);
void xsr_sh_put_ref(struct domain *d, unsigned long smfn, uint64_t entry_pa)
{
    sh_put_ref(d, _mfn(smfn), entry_pa);
}

/* `sh_pin(d, smfn)`. */
bool xsr_sh_pin(struct domain *d, unsigned long smfn);
bool xsr_sh_pin(struct domain *d, unsigned long smfn)
{
    return sh_pin(d, _mfn(smfn));
}

/* `sh_unpin(d, smfn)`. */
void xsr_sh_unpin(struct domain *d, unsigned long smfn);
void xsr_sh_unpin(struct domain *d, unsigned long smfn)
{
    sh_unpin(d, _mfn(smfn));
}

/* `get_shadow_status(d, gmfn, t)`. */
unsigned long xsr_get_shadow_status(struct domain *d, unsigned long gmfn,
                                    unsigned int t);
unsigned long xsr_get_shadow_status(struct domain *d, unsigned long gmfn,
                                    unsigned int t)
{
    return mfn_x(get_shadow_status(d, _mfn(gmfn), t));
}

/* `set_shadow_status(d, gmfn, t, smfn)`. */
void xsr_set_shadow_status(struct domain *d, unsigned long gmfn,
                           unsigned int t, unsigned long smfn);
void xsr_set_shadow_status(struct domain *d, unsigned long gmfn,
                           unsigned int t, unsigned long smfn)
{
    set_shadow_status(d, _mfn(gmfn), t, _mfn(smfn));
}

/* `delete_shadow_status(d, gmfn, t, smfn)`. */
void xsr_delete_shadow_status(struct domain *d, unsigned long gmfn,
                              unsigned int t, unsigned long smfn);
void xsr_delete_shadow_status(struct domain *d, unsigned long gmfn,
                              unsigned int t, unsigned long smfn)
{
    delete_shadow_status(d, _mfn(gmfn), t, _mfn(smfn));
}

/* `shadow_hash_lookup(d, n, t)`. */
unsigned long xsr_shadow_hash_lookup(struct domain *d, unsigned long n,
                                     unsigned int t);
unsigned long xsr_shadow_hash_lookup(struct domain *d, unsigned long n,
                                     unsigned int t)
{
    return mfn_x(shadow_hash_lookup(d, n, t));
}

/* `shadow_hash_insert(d, n, t, smfn)`. */
void xsr_shadow_hash_insert(struct domain *d, unsigned long n, unsigned int t,
                            unsigned long smfn);
void xsr_shadow_hash_insert(struct domain *d, unsigned long n, unsigned int t,
                            unsigned long smfn)
{
    shadow_hash_insert(d, n, t, _mfn(smfn));
}

/* `shadow_hash_delete(d, n, t, smfn)`. */
bool xsr_shadow_hash_delete(struct domain *d, unsigned long n, unsigned int t,
                            unsigned long smfn);
bool xsr_shadow_hash_delete(struct domain *d, unsigned long n, unsigned int t,
                            unsigned long smfn)
{
    return shadow_hash_delete(d, n, t, _mfn(smfn));
}

/* `shadow_alloc(d, t, back)`. */
unsigned long xsr_shadow_alloc(struct domain *d, unsigned int t,
                               unsigned long back);
unsigned long xsr_shadow_alloc(struct domain *d, unsigned int t,
                               unsigned long back)
{
    return mfn_x(shadow_alloc(d, t, back));
}

/* `shadow_free(d, smfn)`. */
void xsr_shadow_free(struct domain *d, unsigned long smfn);
void xsr_shadow_free(struct domain *d, unsigned long smfn)
{
    shadow_free(d, _mfn(smfn));
}

/* `shadow_prealloc(d, t, count)`. */
bool xsr_shadow_prealloc(struct domain *d, unsigned int t, unsigned int count);
bool xsr_shadow_prealloc(struct domain *d, unsigned int t, unsigned int count)
{
    return shadow_prealloc(d, t, count);
}

/* `shadow_promote(d, gmfn, t)`. */
void xsr_shadow_promote(struct domain *d, unsigned long gmfn, unsigned int t);
void xsr_shadow_promote(struct domain *d, unsigned long gmfn, unsigned int t)
{
    shadow_promote(d, _mfn(gmfn), t);
}

/* `shadow_demote(d, gmfn, t)`. */
void xsr_shadow_demote(struct domain *d, unsigned long gmfn, unsigned int t);
void xsr_shadow_demote(struct domain *d, unsigned long gmfn, unsigned int t)
{
    shadow_demote(d, _mfn(gmfn), t);
}

/* ---- writing shadow entries (set.c) ------------------------------------ */

/* `shadow_set_l1e(d, sl1e, new, p2mt, sl1mfn)`. */
int xsr_shadow_set_l1e(struct domain *d, uint64_t *sl1e, uint64_t new,
                       unsigned int p2mt, unsigned long sl1mfn);
int xsr_shadow_set_l1e(struct domain *d, uint64_t *sl1e, uint64_t new,
                       unsigned int p2mt, unsigned long sl1mfn)
{
    return shadow_set_l1e(d, (shadow_l1e_t *)sl1e, l1e_from_intpte(new),
                          (p2m_type_t)p2mt, _mfn(sl1mfn));
}

/*
 * `shadow_set_l2e(d, sl2e, new, sl2mfn, fl1_type, next_page)`; next_page
 * is xsr_sh_next_page for 2-level guests (multi_page true), else NULL,
 * as multi.c's wrapper macro passes.
 */
int xsr_shadow_set_l2e(struct domain *d, uint64_t *sl2e, uint64_t new,
                       unsigned long sl2mfn, unsigned int fl1_type,
                       bool multi_page);
int xsr_shadow_set_l2e(struct domain *d, uint64_t *sl2e, uint64_t new,
                       unsigned long sl2mfn, unsigned int fl1_type,
                       bool multi_page)
{
    return shadow_set_l2e(d, (shadow_l2e_t *)sl2e, l2e_from_intpte(new),
                          _mfn(sl2mfn), fl1_type,
                          multi_page ? xsr_sh_next_page : NULL);
}

/* `shadow_set_l3e(d, sl3e, new, sl3mfn)`. */
int xsr_shadow_set_l3e(struct domain *d, uint64_t *sl3e, uint64_t new,
                       unsigned long sl3mfn);
int xsr_shadow_set_l3e(struct domain *d, uint64_t *sl3e, uint64_t new,
                       unsigned long sl3mfn)
{
    return shadow_set_l3e(d, (shadow_l3e_t *)sl3e, l3e_from_intpte(new),
                          _mfn(sl3mfn));
}

/* `shadow_set_l4e(d, sl4e, new, sl4mfn)`. */
int xsr_shadow_set_l4e(struct domain *d, uint64_t *sl4e, uint64_t new,
                       unsigned long sl4mfn);
int xsr_shadow_set_l4e(struct domain *d, uint64_t *sl4e, uint64_t new,
                       unsigned long sl4mfn)
{
    return shadow_set_l4e(d, (shadow_l4e_t *)sl4e, l4e_from_intpte(new),
                          _mfn(sl4mfn));
}

/* `shadow_put_page_from_l1e(sl1e, d)` (types.h). */
void xsr_shadow_put_page_from_l1e(struct domain *d, uint64_t sl1e);
void xsr_shadow_put_page_from_l1e(struct domain *d, uint64_t sl1e)
{
    shadow_put_page_from_l1e(l1e_from_intpte(sl1e), d);
}

/* `shadow_vram_put_mfn(mfn, l1f, sl1mfn, sl1e, d)`. */
void xsr_shadow_vram_put_mfn(const struct domain *d, unsigned long mfn,
                             unsigned int l1f, unsigned long sl1mfn,
                             const uint64_t *sl1e);
void xsr_shadow_vram_put_mfn(const struct domain *d, unsigned long mfn,
                             unsigned int l1f, unsigned long sl1mfn,
                             const uint64_t *sl1e)
{
    shadow_vram_put_mfn(_mfn(mfn), l1f, _mfn(sl1mfn), sl1e, d);
}

/* ---- the rest of common.c ---------------------------------------------- */

/* `sh_remove_write_access(d, gmfn, level, fault_addr)`. */
int xsr_sh_remove_write_access(struct domain *d, unsigned long gmfn,
                               unsigned int level, unsigned long fault_addr);
int xsr_sh_remove_write_access(struct domain *d, unsigned long gmfn,
                               unsigned int level, unsigned long fault_addr)
{
    return sh_remove_write_access(d, _mfn(gmfn), level, fault_addr);
}

/* `sh_remove_shadows(d, gmfn, fast, all)`. */
void xsr_sh_remove_shadows(struct domain *d, unsigned long gmfn, bool fast,
                           bool all);
void xsr_sh_remove_shadows(struct domain *d, unsigned long gmfn, bool fast,
                           bool all)
{
    sh_remove_shadows(d, _mfn(gmfn), fast, all);
}

/* `shadow_unhook_mappings(d, smfn, user_only)`. */
void xsr_shadow_unhook_mappings(struct domain *d, unsigned long smfn,
                                bool user_only);
void xsr_shadow_unhook_mappings(struct domain *d, unsigned long smfn,
                                bool user_only)
{
    shadow_unhook_mappings(d, _mfn(smfn), user_only);
}

/* `sh_unsync(v, gmfn)`: non-zero if the page went out of sync. */
bool xsr_sh_unsync(struct vcpu *v, unsigned long gmfn);
bool xsr_sh_unsync(struct vcpu *v, unsigned long gmfn)
{
    return sh_unsync(v, _mfn(gmfn));
}

/* `sh_resync(d, gmfn)`. */
void xsr_sh_resync(struct domain *d, unsigned long gmfn);
void xsr_sh_resync(struct domain *d, unsigned long gmfn)
{
    sh_resync(d, _mfn(gmfn));
}

/* `sh_resync_all(v, skip, this, others)`. */
void xsr_sh_resync_all(struct vcpu *v, bool skip, bool this, bool others);
void xsr_sh_resync_all(struct vcpu *v, bool skip, bool this, bool others)
{
    sh_resync_all(v, skip, this, others);
}

/* `oos_snapshot_lookup(d, gmfn)`. */
unsigned long xsr_oos_snapshot_lookup(struct domain *d, unsigned long gmfn);
unsigned long xsr_oos_snapshot_lookup(struct domain *d, unsigned long gmfn)
{
    return mfn_x(oos_snapshot_lookup(d, _mfn(gmfn)));
}

/* `oos_fixup_add(d, gmfn, smfn, off)`. */
void xsr_oos_fixup_add(struct domain *d, unsigned long gmfn,
                       unsigned long smfn, unsigned long off);
void xsr_oos_fixup_add(struct domain *d, unsigned long gmfn,
                       unsigned long smfn, unsigned long off)
{
    oos_fixup_add(d, _mfn(gmfn), _mfn(smfn), off);
}

/* ---- locks (mm-locks.h: lock-level checks, locker recorded) ------------- */

/*
 * `paging_lock(d)`.  The paging lock is inline in Rust (src/xen/fast.rs);
 * it calls this only where C's own code reports an error: a lock-order
 * violation (printk and BUG()) or a non-recursive lock already held by
 * this CPU (panic with the holder's name).
 */
void xsr_paging_lock(struct domain *d);
void xsr_paging_lock(struct domain *d)
{
    paging_lock(d);
}

/*
 * Boot-time check of the inline paging lock (src/xen/fast.rs): a lock whose
 * recurse_cpu and recurse_cnt C sets to known values, and this CPU's
 * mm_lock_level as C addresses it.  The lock orders Rust assumes are
 * checked at build time.
 */
void xsr_lock_layout_probe(spinlock_t *l, int **level);
void xsr_lock_layout_probe(spinlock_t *l, int **level)
{
    BUILD_BUG_ON(MM_LOCK_ORDER_paging != 64);
    BUILD_BUG_ON(MM_LOCK_ORDER_MAX != 64);
    spin_lock_init(l);
    l->recurse_cpu = 0x2a5 & SPINLOCK_NO_CPU;
    l->recurse_cnt = 0x9 & SPINLOCK_MAX_RECURSE;
    *level = &this_cpu(mm_lock_level);
}

#ifdef CONFIG_DEBUG
/* `paging_locked_by_me(d)`: the debug build checks fast.rs's against it. */
bool xsr_paging_locked_by_me(struct domain *d);
bool xsr_paging_locked_by_me(struct domain *d)
{
    return paging_locked_by_me(d);
}
#endif

/* ---- p2m ------------------------------------------------------------------ */

/*
 * `get_gfn_type(d, gfn, &t, q)` with q = P2M_ALLOC (multi.c's get_gfn) or
 * 0 (its get_gfn_query): the host p2m, locked until put_gfn(); identity
 * with p2m_ram_rw for a non-translated domain.
 */
unsigned long xsr_get_gfn(struct domain *d, unsigned long gfn, bool alloc,
                          unsigned int *t);
unsigned long xsr_get_gfn(struct domain *d, unsigned long gfn, bool alloc,
                          unsigned int *t)
{
    p2m_type_t p2mt;
    mfn_t mfn = get_gfn_type(d, gfn, &p2mt, alloc ? P2M_ALLOC : 0);

    *t = p2mt;
    return mfn_x(mfn);
}

/* `get_gfn_query_unlocked(d, gfn, &t)`. */
unsigned long xsr_get_gfn_query_unlocked(struct domain *d, unsigned long gfn,
                                         unsigned int *t);
unsigned long xsr_get_gfn_query_unlocked(struct domain *d, unsigned long gfn,
                                         unsigned int *t)
{
    p2m_type_t p2mt;
    mfn_t mfn = get_gfn_query_unlocked(d, gfn, &p2mt);

    *t = p2mt;
    return mfn_x(mfn);
}

/* ---- TLB ------------------------------------------------------------------ */

/* `guest_flush_tlb_mask(d, d->dirty_cpumask)`. */
void xsr_flush_tlb_mask_dirty(const struct domain *d);
void xsr_flush_tlb_mask_dirty(const struct domain *d)
{
    guest_flush_tlb_mask(d, d->dirty_cpumask);
}

/* multi.c's sh_flush_local(d): `flush_local(guest_flush_tlb_flags(d))`. */
void xsr_sh_flush_local(const struct domain *d);
void xsr_sh_flush_local(const struct domain *d)
{
    flush_local(guest_flush_tlb_flags(d));
}

/* ---- map_domain_page()'s direct-map fast path ------------------------------ */

/*
 * The last frame map_domain_page() returns from the direct map in release
 * builds (domain_page.c: `mfn <= PFN_DOWN(__pa(HYPERVISOR_VIRT_END - 1))`),
 * computed with Xen's own macros once the pdx masks are final (they are set
 * while parsing the memory map, long before initcalls).  Rust's inline copy
 * of that fast path (src/xen/fast.rs) reads it; while it is still 0 every
 * mapping goes to map_domain_page() itself.
 */
unsigned long __read_mostly xsr_directmap_mfn_limit;

static int __init cf_check xsr_directmap_init(void)
{
    xsr_directmap_mfn_limit = PFN_DOWN(__pa(HYPERVISOR_VIRT_END - 1));
    return 0;
}
presmp_initcall(xsr_directmap_init);
