//! Raw bytes -> machine configuration (pool size, vCPUs, CPU mode, direct
//! map page size) and a sequence of guest operations; any invariant
//! violation or panic is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xen_shadow_rs::sim::checker::check_full;
use xen_shadow_rs::sim::guest::{config_from_byte, Guest};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (cfg, superpage) = config_from_byte(data[0], data[1]);
    let mut g = Guest::boot(cfg, superpage);
    // Sampled checks after each operation, every address at the end.
    g.sweep_every = 0;
    if let Err(f) = g.run_bytes(&data[2..], 64) {
        panic!("op {} {:?}: {:?}", f.index, f.op, f.violation);
    }
    if let Err(v) = check_full(&g) {
        panic!("final check: {v:?}");
    }
});
