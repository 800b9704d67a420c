/*
 * C shims for the page-fault handler, the emulation of page-table writes,
 * INVLPG, gva_to_gfn and tracing (multi.c blocks P-S): Xen's static
 * inlines, macros, per-CPU variables and fields that the Rust
 * `impl FaultOps for Xen` (src/xen/fault.rs) needs.  One-liners; the
 * decisions are made in Rust.
 *
 * hvm_get_cpl() and hvm_event_pending() are alternative_call()s into
 * hvm_funcs, whose targets lose their ENDBR64 at boot: they are only ever
 * reached through these shims (direct calls after patching), never through
 * a pointer from Rust.
 */
#include "bindings.h"
#include <asm/hvm/io.h>
#include <asm/regs.h>
#include <xen/trace.h>

/* ---- the faulting context ------------------------------------------------ */

bool xsr_guest_mode(const struct cpu_user_regs *regs);
bool xsr_guest_mode(const struct cpu_user_regs *regs)
{
    return guest_mode(regs);
}

/* ---- vCPU state ------------------------------------------------------------ */

unsigned int xsr_hvm_get_cpl(struct vcpu *v);
unsigned int xsr_hvm_get_cpl(struct vcpu *v)
{
    return hvm_get_cpl(v);
}

bool xsr_hvm_event_pending(const struct vcpu *v);
bool xsr_hvm_event_pending(const struct vcpu *v)
{
    return hvm_event_pending(v);
}

#ifdef CONFIG_DEBUG
/* Rust reads the bit inline (src/xen/fault.rs); debug builds check it. */
bool xsr_hvm_wp_enabled(const struct vcpu *v);
bool xsr_hvm_wp_enabled(const struct vcpu *v)
{
    return hvm_wp_enabled(v);
}
#endif

#ifdef CONFIG_DEBUG
/*
 * The per-vCPU emulation state (`v->arch.paging.*`) and the vTLB lookup are
 * read and written inline by Rust (src/xen/fast.rs); the debug build checks
 * the two bitfields against these.
 */
bool xsr_last_write_emul_ok(const struct vcpu *v);
bool xsr_last_write_emul_ok(const struct vcpu *v)
{
    return v->arch.paging.last_write_emul_ok;
}

bool xsr_last_write_was_pt(const struct vcpu *v);
bool xsr_last_write_was_pt(const struct vcpu *v)
{
    return v->arch.paging.last_write_was_pt;
}
#endif

/* ---- domain state ------------------------------------------------------------ */


void xsr_gtable_dirty_version_inc(struct domain *d);
void xsr_gtable_dirty_version_inc(struct domain *d)
{
    atomic_inc(&d->arch.paging.shadow.gtable_dirty_version);
}

void xsr_printk_recursive_shadow_fault(const struct domain *d);
void xsr_printk_recursive_shadow_fault(const struct domain *d)
{
    printk(XENLOG_G_ERR "Recursive shadow fault: lock taken by %s\n",
           d->arch.paging.lock.locker_function);
}

/* ---- HVM services ------------------------------------------------------------ */

bool xsr_handle_mmio_with_translation(unsigned long gla, unsigned long gpfn,
                                      bool write_access);
bool xsr_handle_mmio_with_translation(unsigned long gla, unsigned long gpfn,
                                      bool write_access)
{
    const struct npfec access = {
        .read_access = 1,
        .write_access = write_access,
        .gla_valid = 1,
        .kind = npfec_kind_with_gla,
    };

    return handle_mmio_with_translation(gla, gpfn, access);
}

void xsr_hvm_inject_hw_exception(unsigned int vector, int errcode);
void xsr_hvm_inject_hw_exception(unsigned int vector, int errcode)
{
    hvm_inject_hw_exception(vector, errcode);
}

/* ---- emulation ------------------------------------------------------------------ */

/*
 * One emulation attempt: the context shadow_init_emulation() fills and the
 * ops table it returns.  Rust keeps it in an opaque, suitably aligned stack
 * buffer of XSR_EMUL_BYTES (src/xen/fault.rs: EMUL_BYTES, EMUL_ALIGN).
 */
struct xsr_emul {
    struct sh_emulate_ctxt sh;
    const struct x86_emulate_ops *ops;
};
#define XSR_EMUL_BYTES 256
#define XSR_EMUL_ALIGN 64

/* What x86_emulate() left behind that the fault handler decides on. */
struct xsr_emul_result {
    int32_t rc;
    int32_t event_vector;
    int32_t event_error_code;
    uint8_t event_type;
    uint8_t retire_raw;
    bool retire_singlestep;
};

void xsr_shadow_init_emulation(void *buf, struct cpu_user_regs *regs,
                               unsigned int pte_size);
void xsr_shadow_init_emulation(void *buf, struct cpu_user_regs *regs,
                               unsigned int pte_size)
{
    struct xsr_emul *e = buf;

    BUILD_BUG_ON(sizeof(struct xsr_emul) > XSR_EMUL_BYTES);
    BUILD_BUG_ON(__alignof__(struct xsr_emul) > XSR_EMUL_ALIGN);
    e->ops = shadow_init_emulation(&e->sh, regs, pte_size);
}

void xsr_x86_emulate(void *buf, struct xsr_emul_result *res);
void xsr_x86_emulate(void *buf, struct xsr_emul_result *res)
{
    struct xsr_emul *e = buf;

    res->rc = x86_emulate(&e->sh.ctxt, e->ops);
    res->event_type = e->sh.ctxt.event.type;
    res->event_vector = e->sh.ctxt.event.vector;
    res->event_error_code = e->sh.ctxt.event.error_code;
    res->retire_raw = e->sh.ctxt.retire.raw;
    res->retire_singlestep = e->sh.ctxt.retire.singlestep;
}

void xsr_shadow_continue_emulation(void *buf, struct cpu_user_regs *regs);
void xsr_shadow_continue_emulation(void *buf, struct cpu_user_regs *regs)
{
    struct xsr_emul *e = buf;

    shadow_continue_emulation(&e->sh, regs);
}

void xsr_hvm_inject_emul_event(const void *buf);
void xsr_hvm_inject_emul_event(const void *buf)
{
    const struct xsr_emul *e = buf;

    hvm_inject_event(&e->sh.ctxt.event);
}

/* ---- tracing ------------------------------------------------------------------------ */

void xsr_trace_var(uint32_t event, unsigned int extra, const void *data);
void xsr_trace_var(uint32_t event, unsigned int extra, const void *data)
{
    __trace_var(event, 0 /* no TSC */, extra, data);
}

#ifdef CONFIG_DEBUG
/*
 * `this_cpu(trace_shadow_path_flags)`: Rust reads and writes its per-CPU
 * copy inline (src/xen/fast.rs); the debug build checks each access
 * against this.
 */
uint32_t xsr_trace_shadow_path_flags(void);
uint32_t xsr_trace_shadow_path_flags(void)
{
    return this_cpu(trace_shadow_path_flags);
}
#endif

/*
 * multi.c's per-CPU trace state is static to each guest_N.o: one value of
 * trace_emulate_write_val per guest level, the PAE-only pair once.
 */
static DEFINE_PER_CPU(uint64_t, xsr_trace_emulate_write_val_2);
static DEFINE_PER_CPU(uint64_t, xsr_trace_emulate_write_val_3);
static DEFINE_PER_CPU(uint64_t, xsr_trace_emulate_write_val_4);
static DEFINE_PER_CPU(uint32_t, xsr_trace_emulate_initial_va);
static DEFINE_PER_CPU(uint32_t, xsr_trace_extra_emulation_count);

uint64_t xsr_trace_emulate_write_val(unsigned int levels);
uint64_t xsr_trace_emulate_write_val(unsigned int levels)
{
    switch ( levels )
    {
    case 2: return this_cpu(xsr_trace_emulate_write_val_2);
    case 3: return this_cpu(xsr_trace_emulate_write_val_3);
    default: return this_cpu(xsr_trace_emulate_write_val_4);
    }
}

void xsr_set_trace_emulate_write_val(unsigned int levels, uint64_t val);
void xsr_set_trace_emulate_write_val(unsigned int levels, uint64_t val)
{
    switch ( levels )
    {
    case 2: this_cpu(xsr_trace_emulate_write_val_2) = (uint32_t)val; break;
    case 3: this_cpu(xsr_trace_emulate_write_val_3) = val; break;
    default: this_cpu(xsr_trace_emulate_write_val_4) = val; break;
    }
}

uint32_t xsr_trace_emulate_initial_va(void);
uint32_t xsr_trace_emulate_initial_va(void)
{
    return this_cpu(xsr_trace_emulate_initial_va);
}

void xsr_set_trace_emulate_initial_va(uint32_t va);
void xsr_set_trace_emulate_initial_va(uint32_t va)
{
    this_cpu(xsr_trace_emulate_initial_va) = va;
}

uint32_t xsr_trace_extra_emulation_count(void);
uint32_t xsr_trace_extra_emulation_count(void)
{
    return this_cpu(xsr_trace_extra_emulation_count);
}

void xsr_set_trace_extra_emulation_count(uint32_t n);
void xsr_set_trace_extra_emulation_count(uint32_t n)
{
    this_cpu(xsr_trace_extra_emulation_count) = n;
}
