//! The object Xen links in place of `guest_{2,3,4}.o` (multi.c): the C ABI
//! exports common.c calls, the `sh_paging_mode__guest_N` dispatch tables,
//! the panic handler and the boot banner.  Built only for Xen, from Xen's
//! make, by `ffi/xen-object.sh`.  The paging algorithms live in the generic
//! `xen-shadow-rs` crate; this crate only adapts them to Xen's ABI.
#![no_std]
#![allow(non_upper_case_globals)]
// Exported names must match C (`sh_…__guest_N`).
#![allow(non_snake_case)]

pub mod exports;
pub mod paging_mode;
pub mod port;
pub mod xen;

use ffi::{xen_bug, xen_printk};

/// Present only in the demonstration build of `cargo xtask migrate rust
/// --break logdirty` (feature `break-logdirty`: the Rust log-dirty bitmap
/// loses the dirty bit of one pfn in 61).  The xtask checks after every
/// build that the normal rust hypervisor's object does not define it and
/// the demonstration one does.
#[cfg(feature = "break-logdirty")]
#[no_mangle]
pub static xen_shadow_rs_break_logdirty: [u8; 48] =
    *b"DEMONSTRATION BUILD: log-dirty loses pfn%61==7\0\0";

/// Called once at boot by `rust-glue.c` (a presmp initcall): announces that
/// the shadow code of this hypervisor is the Rust one.
#[no_mangle]
pub extern "C" fn xen_shadow_rs_init() {
    xen_printk!(
        "Shadow paging: xen-shadow-rs {} (Rust) replaces multi.c for guest levels 2, 3, 4{}\n",
        env!("CARGO_PKG_VERSION"),
        if cfg!(xen_debug) { ", debug" } else { "" }
    );
    xen_printk!(
        "Log-dirty: shadow's ops in Rust, dirty bitmap in {}\n",
        if cfg!(xen_logdirty_rust) {
            "Rust (CONFIG_PAGING_LOGDIRTY_RUST)"
        } else {
            "C (paging.c)"
        }
    );
    // The exception-table entry of the inline get_unsafe() (src/xen/fast.rs):
    // without it the lock-free linear-map reads would crash the host on a
    // race with shadow teardown, so check it before any guest runs.
    if !xen::fast::get_unsafe_self_test() {
        xen_printk!("xen-shadow-rs: get_unsafe() exception-table entry does not work\n");
        xen_bug!();
    }
    // The inline paging lock's view of the spin lock's recursion word and
    // of the per-CPU lock order (src/xen/fast.rs).
    if !xen::fast::check_lock_layout() {
        xen_printk!(
            "xen-shadow-rs: inline paging lock: spin lock or per-CPU layout differs from C's\n"
        );
        xen_bug!();
    }
    if cfg!(feature = "break-logdirty") {
        xen_printk!(
            "Log-dirty: DEMONSTRATION BUILD (feature break-logdirty): the dirty bit of every pfn with pfn % 61 == 7 is lost\n"
        );
    }
}

/// A Rust panic inside Xen is a hypervisor bug: report where, then crash the
/// host the way BUG() does (Xen prints "Xen BUG at …" and panics).
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    match info.location() {
        Some(l) => xen_printk!(
            "xen-shadow-rs: Rust panic at {}:{}: {}\n",
            l.file(),
            l.line(),
            info.message()
        ),
        None => xen_printk!("xen-shadow-rs: Rust panic: {}\n", info.message()),
    }
    xen_bug!()
}
