/*
 * C shims for the log-dirty code (xen-shadow-rs/src/logdirty/, glue in
 * src/xen/logdirty.rs): fields of d->arch.paging.log_dirty and .preempt
 * (bitfields), the paging pool hooks, guest-handle copies, the preemption
 * check, locks and the functions paging.c's bitmap code calls.  One-liners;
 * the logic is Rust.
 */
#include "bindings.h"
#include <xen/guest_access.h>
#include <asm/event.h>
#include <asm/p2m.h>
#include <asm/hvm/hvm.h>
#include <public/domctl.h>

/* ---- struct log_dirty_domain fields (order: Rust's logdirty::Field) ----- */

unsigned long xsr_ld_field(const struct domain *d, unsigned int f);
unsigned long xsr_ld_field(const struct domain *d, unsigned int f)
{
    const struct log_dirty_domain *ld = &d->arch.paging.log_dirty;

    switch ( f )
    {
    case 0: return mfn_x(ld->top);
    case 1: return ld->allocs;
    case 2: return ld->failed_allocs;
    case 3: return ld->fault_count;
    case 4: return ld->dirty_count;
    }
    return 0;
}

void xsr_ld_set_field(struct domain *d, unsigned int f, unsigned long v);
void xsr_ld_set_field(struct domain *d, unsigned int f, unsigned long v)
{
    struct log_dirty_domain *ld = &d->arch.paging.log_dirty;

    switch ( f )
    {
    case 0: ld->top = _mfn(v); break;
    case 1: ld->allocs = v; break;
    case 2: ld->failed_allocs = v; break;
    case 3: ld->fault_count = v; break;
    case 4: ld->dirty_count = v; break;
    }
}

/* ---- d->arch.paging.preempt ----------------------------------------------- */

/* Returns preempt.dom (NULL: no continuation pending). */
const struct domain *xsr_ld_preempt(const struct domain *d, unsigned int *op,
                                    unsigned long *done, unsigned int *i4,
                                    unsigned int *i3);
const struct domain *xsr_ld_preempt(const struct domain *d, unsigned int *op,
                                    unsigned long *done, unsigned int *i4,
                                    unsigned int *i3)
{
    *op = d->arch.paging.preempt.op;
    *done = d->arch.paging.preempt.log_dirty.done;
    *i4 = d->arch.paging.preempt.log_dirty.i4;
    *i3 = d->arch.paging.preempt.log_dirty.i3;
    return d->arch.paging.preempt.dom;
}

void xsr_ld_set_preempt(struct domain *d, const struct domain *dom,
                        unsigned int op, unsigned long done, unsigned int i4,
                        unsigned int i3);
void xsr_ld_set_preempt(struct domain *d, const struct domain *dom,
                        unsigned int op, unsigned long done, unsigned int i4,
                        unsigned int i3)
{
    d->arch.paging.preempt.dom = dom;
    d->arch.paging.preempt.op = op;
    /* Bitfields: `done` keeps its low PADDR_BITS - PAGE_SHIFT bits, as C. */
    d->arch.paging.preempt.log_dirty.done = done;
    d->arch.paging.preempt.log_dirty.i4 = i4;
    d->arch.paging.preempt.log_dirty.i3 = i3;
}

/* `current->domain`. */
const struct domain *xsr_ld_current_domain(void);
const struct domain *xsr_ld_current_domain(void)
{
    return current->domain;
}

/* ---- the paging pool: d->arch.paging.{alloc,free}_page -------------------- */

/* A pool page's frame, or INVALID_MFN. */
unsigned long xsr_ld_alloc_page(struct domain *d);
unsigned long xsr_ld_alloc_page(struct domain *d)
{
    struct page_info *pg = d->arch.paging.alloc_page(d);

    return pg ? mfn_x(page_to_mfn(pg)) : mfn_x(INVALID_MFN);
}

void xsr_ld_free_page(struct domain *d, unsigned long mfn);
void xsr_ld_free_page(struct domain *d, unsigned long mfn)
{
    d->arch.paging.free_page(d, mfn_to_page(_mfn(mfn)));
}

/* `get_gpfn_from_mfn(mfn)` (the M2P). */
unsigned long xsr_ld_gpfn_from_mfn(unsigned long mfn);
unsigned long xsr_ld_gpfn_from_mfn(unsigned long mfn)
{
    return get_gpfn_from_mfn(mfn);
}

/* ---- the domctl: struct xen_domctl_shadow_op ------------------------------- */

/* Reads op, mode, pages; returns whether dirty_bitmap is a null handle. */
bool xsr_ld_sc_get(const struct xen_domctl_shadow_op *sc, unsigned int *op,
                   unsigned int *mode, uint64_t *pages);
bool xsr_ld_sc_get(const struct xen_domctl_shadow_op *sc, unsigned int *op,
                   unsigned int *mode, uint64_t *pages)
{
    *op = sc->op;
    *mode = sc->mode;
    *pages = sc->pages;
    return guest_handle_is_null(sc->dirty_bitmap);
}

void xsr_ld_sc_set(struct xen_domctl_shadow_op *sc, uint64_t pages,
                   uint32_t fault_count, uint32_t dirty_count);
void xsr_ld_sc_set(struct xen_domctl_shadow_op *sc, uint64_t pages,
                   uint32_t fault_count, uint32_t dirty_count)
{
    sc->pages = pages;
    sc->stats.fault_count = fault_count;
    sc->stats.dirty_count = dirty_count;
}

/* `copy_to_guest_offset(sc->dirty_bitmap, off, data, len)`: 0 on success. */
unsigned long xsr_ld_copy_to_bitmap(struct xen_domctl_shadow_op *sc,
                                    unsigned long off, const uint8_t *data,
                                    unsigned int len);
unsigned long xsr_ld_copy_to_bitmap(struct xen_domctl_shadow_op *sc,
                                    unsigned long off, const uint8_t *data,
                                    unsigned int len)
{
    return copy_to_guest_offset(sc->dirty_bitmap, off, data, len);
}

/* `clear_guest_offset(sc->dirty_bitmap, off, len)`: 0 on success. */
unsigned long xsr_ld_clear_bitmap(struct xen_domctl_shadow_op *sc,
                                  unsigned long off, unsigned int len);
unsigned long xsr_ld_clear_bitmap(struct xen_domctl_shadow_op *sc,
                                  unsigned long off, unsigned int len)
{
    return clear_guest_offset(sc->dirty_bitmap, off, len);
}

/* `hypercall_preempt_check()`. */
bool xsr_ld_hypercall_preempt_check(void);
bool xsr_ld_hypercall_preempt_check(void)
{
    return hypercall_preempt_check();
}

/* ---- what paging_log_dirty_op calls around the bitmap ---------------------- */

void xsr_ld_domain_pause(struct domain *d);
void xsr_ld_domain_pause(struct domain *d)
{
    domain_pause(d);
}

void xsr_ld_domain_unpause(struct domain *d);
void xsr_ld_domain_unpause(struct domain *d)
{
    domain_unpause(d);
}

void xsr_ld_mapped_frames_mark_dirty(struct domain *d);
void xsr_ld_mapped_frames_mark_dirty(struct domain *d)
{
    hvm_mapped_guest_frames_mark_dirty(d);
}

void xsr_ld_flush_hardware_cached_dirty(struct domain *d);
void xsr_ld_flush_hardware_cached_dirty(struct domain *d)
{
    p2m_flush_hardware_cached_dirty(d);
}

/* `d->arch.paging.log_dirty.ops->clean(d)` (never with the lock held). */
void xsr_ld_ops_clean(struct domain *d);
void xsr_ld_ops_clean(struct domain *d)
{
    d->arch.paging.log_dirty.ops->clean(d);
}

void xsr_ld_warn_failed_allocs(const struct domain *d, unsigned int failed);
void xsr_ld_warn_failed_allocs(const struct domain *d, unsigned int failed)
{
    printk(XENLOG_WARNING
           "%u failed page allocs while logging dirty pages of d%d\n",
           failed, d->domain_id);
}

/* ---- paging_log_dirty_range ------------------------------------------------ */

void xsr_ld_p2m_lock(struct domain *d);
void xsr_ld_p2m_lock(struct domain *d)
{
    p2m_lock(p2m_get_hostp2m(d));
}

void xsr_ld_p2m_unlock(struct domain *d);
void xsr_ld_p2m_unlock(struct domain *d)
{
    p2m_unlock(p2m_get_hostp2m(d));
}

int xsr_ld_p2m_change_rw_to_logdirty(struct domain *d, unsigned long pfn);
int xsr_ld_p2m_change_rw_to_logdirty(struct domain *d, unsigned long pfn)
{
    return p2m_change_type_one(d, pfn, p2m_ram_rw, p2m_ram_logdirty);
}

void xsr_ld_guest_flush_tlb_mask(struct domain *d);
void xsr_ld_guest_flush_tlb_mask(struct domain *d)
{
    guest_flush_tlb_mask(d, d->dirty_cpumask);
}

/* ---- shadow's log-dirty ops (common.c) -------------------------------------- */

bool xsr_ld_shadow_mode_enabled(const struct domain *d);
bool xsr_ld_shadow_mode_enabled(const struct domain *d)
{
    return shadow_mode_enabled(d);
}

void xsr_ld_shadow_blow_tables(struct domain *d);
void xsr_ld_shadow_blow_tables(struct domain *d)
{
    shadow_blow_tables(d);
}

/* `opt_flags = SHOPT_LINUX_L3_TOPLEVEL`, if that optimisation is built. */
void xsr_ld_set_linux_l3_toplevel(struct domain *d);
void xsr_ld_set_linux_l3_toplevel(struct domain *d)
{
#if (SHADOW_OPTIMIZATIONS & SHOPT_LINUX_L3_TOPLEVEL)
    d->arch.paging.shadow.opt_flags = SHOPT_LINUX_L3_TOPLEVEL;
#endif
}

int xsr_ld_shadow_one_bit_enable(struct domain *d);
int xsr_ld_shadow_one_bit_enable(struct domain *d)
{
    return shadow_one_bit_enable(d, PG_log_dirty);
}

int xsr_ld_shadow_one_bit_disable(struct domain *d);
int xsr_ld_shadow_one_bit_disable(struct domain *d)
{
    return shadow_one_bit_disable(d, PG_log_dirty);
}
