/*
 * C shims for the guest walk, _sh_propagate, validation and prefetch
 * (multi.c blocks C, F, L, N, O): Xen's static inlines, macros and fields
 * that the Rust `impl WalkOps for Xen` (src/xen/walk.rs) needs.
 * One-liners only; the decisions are made in Rust.
 */
#include "bindings.h"
#include <asm/spec_ctrl.h>
#include <asm/paging.h>
#include <xen/rangeset.h>
#include <xen/time.h>

#ifdef CONFIG_DEBUG
/*
 * Field reads Rust does inline (src/xen/fast.rs, walk.rs); the debug build
 * checks each against these.
 */
unsigned long xsr_hvm_guest_cr3(const struct vcpu *v);
unsigned long xsr_hvm_guest_cr3(const struct vcpu *v)
{
    return v->arch.hvm.guest_cr[3];
}

unsigned long xsr_guest_table_user_pfn(const struct vcpu *v);
unsigned long xsr_guest_table_user_pfn(const struct vcpu *v)
{
    return pagetable_get_pfn(v->arch.guest_table_user);
}

void *xsr_shadow_gl3e_ptr(struct vcpu *v);
void *xsr_shadow_gl3e_ptr(struct vcpu *v)
{
    return v->arch.paging.shadow.gl3e;
}

uint64_t xsr_shadow_gl3e(const struct vcpu *v, unsigned int i);
uint64_t xsr_shadow_gl3e(const struct vcpu *v, unsigned int i)
{
    return l3e_get_intpte(v->arch.paging.shadow.gl3e[i & 3]);
}

bool xsr_hvm_paging_enabled(const struct vcpu *v);
bool xsr_hvm_paging_enabled(const struct vcpu *v)
{
    return hvm_paging_enabled(v);
}

bool xsr_hvm_pse_enabled(const struct vcpu *v);
bool xsr_hvm_pse_enabled(const struct vcpu *v)
{
    return v->arch.hvm.guest_cr[4] & X86_CR4_PSE;
}

bool xsr_hvm_nx_enabled(const struct vcpu *v);
bool xsr_hvm_nx_enabled(const struct vcpu *v)
{
    return hvm_nx_enabled(v);
}
#endif

bool xsr_cpuid_vendor_is_amd(const struct domain *d);
bool xsr_cpuid_vendor_is_amd(const struct domain *d)
{
    return d->arch.cpuid->x86_vendor == X86_VENDOR_AMD;
}

bool xsr_is_special_page(unsigned long mfn);
bool xsr_is_special_page(unsigned long mfn)
{
    return is_special_page(mfn_to_page(_mfn(mfn)));
}

bool xsr_mfn_oos_may_write(unsigned long mfn);
bool xsr_mfn_oos_may_write(unsigned long mfn)
{
    return mfn_oos_may_write(_mfn(mfn));
}

int xsr_hvm_get_mem_pinned_cacheattr(struct domain *d, unsigned long gfn,
                                     unsigned int order);
int xsr_hvm_get_mem_pinned_cacheattr(struct domain *d, unsigned long gfn,
                                     unsigned int order)
{
    return hvm_get_mem_pinned_cacheattr(d, _gfn(gfn), order);
}

unsigned int xsr_pat_type_2_pte_flags(unsigned char type);
unsigned int xsr_pat_type_2_pte_flags(unsigned char type)
{
    return pat_type_2_pte_flags(type);
}

unsigned int xsr_get_pat_flags(struct vcpu *v, unsigned int gflags,
                               uint64_t gpaddr, uint64_t spaddr,
                               unsigned char gmtrr_mtype);
unsigned int xsr_get_pat_flags(struct vcpu *v, unsigned int gflags,
                               uint64_t gpaddr, uint64_t spaddr,
                               unsigned char gmtrr_mtype)
{
    return get_pat_flags(v, gflags, gpaddr, spaddr, gmtrr_mtype);
}

bool xsr_is_in_uc_mode(const struct domain *d);
bool xsr_is_in_uc_mode(const struct domain *d)
{
    return d->arch.hvm.is_in_uc_mode;
}

bool xsr_iomem_access_permitted(const struct domain *d, unsigned long s,
                                unsigned long e);
bool xsr_iomem_access_permitted(const struct domain *d, unsigned long s,
                                unsigned long e)
{
    return iomem_access_permitted(d, s, e);
}

bool xsr_iommu_snoop(void);
bool xsr_iommu_snoop(void)
{
    return iommu_snoop;
}

bool xsr_mmio_ro_ranges_contains(unsigned long mfn);
bool xsr_mmio_ro_ranges_contains(unsigned long mfn)
{
    return rangeset_contains_singleton(mmio_ro_ranges, mfn);
}

/* The dirty-VRAM range, if tracking is on and no write was seen yet. */
bool xsr_dirty_vram_clean_range(const struct domain *d, unsigned long *begin,
                                unsigned long *end);
bool xsr_dirty_vram_clean_range(const struct domain *d, unsigned long *begin,
                                unsigned long *end)
{
    const struct sh_dirty_vram *dv = d->arch.hvm.dirty_vram;

    if ( !dv || dv->last_dirty != -1 )
        return false;
    *begin = dv->begin_pfn;
    *end = dv->end_pfn;
    return true;
}

void xsr_dirty_vram_set_last_dirty_now(struct domain *d);
void xsr_dirty_vram_set_last_dirty_now(struct domain *d)
{
    d->arch.hvm.dirty_vram->last_dirty = NOW();
}

void xsr_paging_mark_dirty(struct domain *d, unsigned long mfn);
void xsr_paging_mark_dirty(struct domain *d, unsigned long mfn)
{
    paging_mark_dirty(d, _mfn(mfn));
}

bool xsr_paging_mfn_is_dirty(const struct domain *d, unsigned long mfn);
bool xsr_paging_mfn_is_dirty(const struct domain *d, unsigned long mfn)
{
    return paging_mfn_is_dirty(d, _mfn(mfn));
}

void xsr_set_has_fast_mmio_entries(struct domain *d);
void xsr_set_has_fast_mmio_entries(struct domain *d)
{
    d->arch.paging.shadow.has_fast_mmio_entries = true;
}

bool xsr_cpu_has_hypervisor(void);
bool xsr_cpu_has_hypervisor(void)
{
    return cpu_has_hypervisor;
}

bool xsr_cpu_has_bug_l1tf(void);
bool xsr_cpu_has_bug_l1tf(void)
{
    return cpu_has_bug_l1tf;
}

bool xsr_is_l1tf_safe_maddr(uint64_t pte);
bool xsr_is_l1tf_safe_maddr(uint64_t pte)
{
    return is_l1tf_safe_maddr(pte);
}
