//! What an entry point does before it is ported: say so, then BUG().
//! Release builds have none left; debug builds still use it for the audit
//! callbacks (docs/status.md).
#![cfg_attr(not(xen_debug), allow(dead_code))]

use ffi::xen::vcpu_ids;
use ffi::{domain, vcpu, xen_bug, xen_printk};
use xen_shadow_rs::entry::{Entry, Status};
use xen_shadow_rs::level::GuestLevel;

fn report<L: GuestLevel>(name: &str, who: (i32, i32)) {
    // The catalogue must agree that this entry is unported at this level;
    // if it claims otherwise, the message says so (a catalogue bug).
    let listed = Entry::find(name).filter(|e| e.at_level(L::LEVELS));
    let note = match listed.map(|e| e.status) {
        Some(Status::Unported) => "not ported to Rust yet (docs/status.md)",
        Some(Status::Ported(_)) => "catalogue says ported, but this stub ran",
        None => "not in the entry catalogue",
    };
    xen_printk!(
        "xen-shadow-rs: d{}v{}: {}{} called: {}\n",
        who.0,
        who.1,
        name,
        L::SUFFIX,
        note
    );
}

/// Entry point `name` reached with vCPU `v`: report and BUG().
pub fn unported_v<L: GuestLevel>(name: &str, v: *mut vcpu) -> ! {
    // SAFETY: Xen passes a live vCPU (or null, which vcpu_ids accepts).
    report::<L>(name, unsafe { vcpu_ids(v) });
    xen_bug!()
}

/// Entry point `name` reached with domain `d`: report and BUG().
pub fn unported_d<L: GuestLevel>(name: &str, d: *mut domain) -> ! {
    let id = if d.is_null() {
        -1
    } else {
        // SAFETY: Xen passes a live domain.
        i32::from(unsafe { (*d).domain_id })
    };
    report::<L>(name, (id, -1));
    xen_bug!()
}
