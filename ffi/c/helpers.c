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

#ifdef CONFIG_DEBUG
/*
 * `current`: the vCPU running on this pCPU.  Rust reads it inline
 * (src/xen/fast.rs); the debug build checks each read against this.
 */
struct vcpu *xsr_current(void);
struct vcpu *xsr_current(void)
{
    return current;
}
#endif

/* `domain_crash(d)`: prints the caller and crashes the domain. */
void xsr_domain_crash(struct domain *d, const char *who);
void xsr_domain_crash(struct domain *d, const char *who)
{
    printk(XENLOG_G_ERR "xen-shadow-rs: %s: crashing d%d\n", who, d->domain_id);
    __domain_crash(d);
}
