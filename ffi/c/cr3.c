/*
 * C shims for CR3 updates, linear entries, out-of-sync resync and
 * pagetable_dying (multi.c blocks M, T, W): the vCPU/domain fields and the
 * static inlines the Rust `impl Cr3Ops for Xen` (src/xen/cr3.rs) needs.
 * One-liners only; the decisions are made in Rust.
 */
#include "bindings.h"

/* Constants the Rust side hard-codes (xen-shadow-rs/src/{cr3,oos}.rs). */
_Static_assert(SH_LINEAR_PT_VIRT_START == 0xffff818000000000UL,
               "SH_LINEAR_PT_VIRT_START moved: update cr3.rs");
_Static_assert(PGC_count_mask == (1UL << 57) - 1,
               "PGC_count_mask changed: update oos.rs");
_Static_assert(ARRAY_SIZE(((struct vcpu *)0)->arch.paging.shadow.shadow_table) == 4,
               "shadow_table[] is not 4 entries");

bool xsr_cr3_is_initialised(const struct vcpu *v);
bool xsr_cr3_is_initialised(const struct vcpu *v)
{
    return v->is_initialised;
}

/* Only meaningful for HVM vCPUs (arch.hvm shares storage with arch.pv). */
unsigned long xsr_cr3_monitor_table(const struct vcpu *v);
unsigned long xsr_cr3_monitor_table(const struct vcpu *v)
{
    return pagetable_get_pfn(v->arch.hvm.monitor_table);
}

void xsr_cr3_set_shadow_table(struct vcpu *v, unsigned int i, unsigned long pfn);
void xsr_cr3_set_shadow_table(struct vcpu *v, unsigned int i, unsigned long pfn)
{
    v->arch.paging.shadow.shadow_table[i & 3] =
        pfn ? pagetable_from_pfn(pfn) : pagetable_null();
}

uint64_t xsr_cr3_l3table(const struct vcpu *v, unsigned int i);
uint64_t xsr_cr3_l3table(const struct vcpu *v, unsigned int i)
{
    return l3e_get_intpte(v->arch.paging.shadow.l3table[i & 3]);
}

void xsr_cr3_set_l3table(struct vcpu *v, unsigned int i, uint64_t e);
void xsr_cr3_set_l3table(struct vcpu *v, unsigned int i, uint64_t e)
{
    v->arch.paging.shadow.l3table[i & 3] = l3e_from_intpte(e);
}

uint64_t xsr_cr3_l3table_maddr(struct vcpu *v);
uint64_t xsr_cr3_l3table_maddr(struct vcpu *v)
{
    return virt_to_maddr(&v->arch.paging.shadow.l3table);
}

void xsr_cr3_set_gl3e(struct vcpu *v, unsigned int i, uint64_t e);
void xsr_cr3_set_gl3e(struct vcpu *v, unsigned int i, uint64_t e)
{
    v->arch.paging.shadow.gl3e[i & 3] = l3e_from_intpte(e);
}

void xsr_cr3_set_sh_pagetable_dying(struct vcpu *v, bool dying);
void xsr_cr3_set_sh_pagetable_dying(struct vcpu *v, bool dying)
{
    v->arch.paging.shadow.pagetable_dying = dying;
}

void xsr_cr3_set_pagetable_dying_op(struct domain *d);
void xsr_cr3_set_pagetable_dying_op(struct domain *d)
{
    d->arch.paging.shadow.pagetable_dying_op = 1;
}

/*
 * common.c's sh_set_toplevel_shadow with the caller's sh_make_shadow (a
 * Rust function with this exact prototype; mfn_t is passed in one integer
 * register whether it is a plain or a typesafe struct type).
 */
typedef mfn_t xsr_make_shadow_fn(struct vcpu *v, mfn_t gmfn, uint32_t shadow_type);
unsigned long xsr_cr3_set_toplevel_shadow(
    struct vcpu *v, unsigned int slot, unsigned long gmfn,
    unsigned int root_type, xsr_make_shadow_fn *make_shadow);
unsigned long xsr_cr3_set_toplevel_shadow(
    struct vcpu *v, unsigned int slot, unsigned long gmfn,
    unsigned int root_type, xsr_make_shadow_fn *make_shadow)
{
    return pagetable_get_pfn(sh_set_toplevel_shadow(v, slot, _mfn(gmfn),
                                                    root_type, make_shadow));
}

bool xsr_cr3_vm_assist_m2p_strict(const struct domain *d);
bool xsr_cr3_vm_assist_m2p_strict(const struct domain *d)
{
    return VM_ASSIST(d, m2p_strict);
}

void xsr_cr3_fill_ro_mpt(unsigned long mfn);
void xsr_cr3_fill_ro_mpt(unsigned long mfn)
{
    fill_ro_mpt(_mfn(mfn));
}

void xsr_cr3_zap_ro_mpt(unsigned long mfn);
void xsr_cr3_zap_ro_mpt(unsigned long mfn)
{
    zap_ro_mpt(_mfn(mfn));
}

void xsr_cr3_make_cr3(struct vcpu *v, unsigned long mfn);
void xsr_cr3_make_cr3(struct vcpu *v, unsigned long mfn)
{
    make_cr3(v, _mfn(mfn));
}

void xsr_cr3_set_hw_cr3(struct vcpu *v, uint64_t value);
void xsr_cr3_set_hw_cr3(struct vcpu *v, uint64_t value)
{
    v->arch.hvm.hw_cr[3] = value;
}

/* hvm_funcs is reached only through C's patched alternative_call. */
void xsr_cr3_hvm_update_guest_cr3(struct vcpu *v, bool noflush);
void xsr_cr3_hvm_update_guest_cr3(struct vcpu *v, bool noflush)
{
    hvm_update_guest_cr3(v, noflush);
}

/* Address of __linear_lN_table's entry for va (N = 2 or 4). */
void *xsr_cr3_linear_l2e(unsigned long va);
void *xsr_cr3_linear_l2e(unsigned long va)
{
    return __linear_l2_table + l2_linear_offset(va);
}

void *xsr_cr3_linear_l4e(unsigned long va);
void *xsr_cr3_linear_l4e(unsigned long va)
{
    return __linear_l4_table + l4_linear_offset(va);
}
