//! Raw bytes as page-table writes only (any table frame, any entry, any
//! width and value, through the guest's direct map), each followed by an
//! access at the address the entry maps, with CR3 reloads: the emulation,
//! validation and out-of-sync paths under a stream of guest PTE writes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xen_shadow_rs::sim::checker::check_full;
use xen_shadow_rs::sim::guest::{pte_write_ops_for, Guest};
use xen_shadow_rs::sim::Config;

fuzz_target!(|data: &[u8]| {
    let k = data.first().copied().unwrap_or(0);
    let levels = [4, 3, 2, 4][usize::from((k >> 1) & 3)];
    let mut g = Guest::boot(
        Config {
            levels,
            ..Config::default()
        },
        k & 1 != 0,
    );
    // Sampled checks after each operation, every address at the end.
    g.sweep_every = 0;
    for (i, op) in pte_write_ops_for(data, levels).into_iter().enumerate() {
        if let Err(v) = g.step(op) {
            panic!("op {i} {op:?}: {v:?}");
        }
        if g.dead {
            return;
        }
    }
    if let Err(v) = check_full(&g) {
        panic!("final check: {v:?}");
    }
});
