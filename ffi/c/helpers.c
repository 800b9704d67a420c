/*
 * C helpers for xen-shadow-rs: Xen's static inlines and macros that Rust
 * cannot call, wrapped in real functions.  Compiled by ffi/build.rs with
 * Xen's exact CFLAGS (retpoline, return thunks, IBT, no SSE), so they carry
 * the same hardening as the rest of Xen.
 *
 * Naming: xsr_<what the Xen macro or inline is called>.  Keep each wrapper
 * a one-liner; logic belongs in Rust.
 */
#include "bindings.h"

/* `current`: the vCPU running on this pCPU (read from the stack's cpu_info). */
struct vcpu *xsr_current(void);
struct vcpu *xsr_current(void)
{
    return current;
}

/* `domain_crash(d)`: prints the caller and crashes the domain. */
void xsr_domain_crash(struct domain *d, const char *who);
void xsr_domain_crash(struct domain *d, const char *who)
{
    printk(XENLOG_G_ERR "xen-shadow-rs: %s: crashing d%d\n", who, d->domain_id);
    __domain_crash(d);
}
