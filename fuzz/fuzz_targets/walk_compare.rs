//! Raw bytes as guest page tables and CPU mode: Xen's walk (with the
//! port's reserved-bit and gfn helpers) must agree with the oracle.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(v) = xen_shadow_rs::sim::guest::walk_compare(data) {
        panic!("{v:?}");
    }
});
