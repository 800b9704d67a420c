//! Tests of the simulator and of the port running on it.

use super::checker;
use super::guest::{config_from_byte, Guest, Op, Rng, Seen, FIRST_DATA, PHYSMAP};
use super::mmu::Access;
use super::Config;
use std::vec::Vec;

const R: Access = Access::R;

const W: Access = Access::W;

const UR: Access = Access::UR;

const UW: Access = Access::UW;

fn boot() -> Guest {
    Guest::boot(Config::default(), false)
}

#[test]
fn boots_and_translates_user_pages() {
    let mut g = boot();
    checker::check_global(&g).unwrap();
    // A user write, then a read back through the direct map.
    g.step(Op::Access {
        va: 0x3008,
        acc: UW,
        bytes: 8,
        val: 0x1122_3344_5566_7788,
    })
    .unwrap();
    let gfn = FIRST_DATA + 3;
    assert_eq!(
        g.access(0, PHYSMAP + (gfn << 12) + 8, R, 8, 0).unwrap(),
        Seen::Done
    );
    g.step(Op::Access {
        va: 0x3008,
        acc: UR,
        bytes: 4,
        val: 0,
    })
    .unwrap();
    // A supervisor write through the direct map lands in the same frame.
    g.step(Op::write(PHYSMAP + (gfn << 12) + 8, 2, 0xabcd))
        .unwrap();
    let (m, _) = g.sim.p2m(gfn);
    assert_eq!(g.sim.read64(m, 1), 0x1122_3344_5566_abcd);
    assert!(
        g.sim.stats().faults > 0,
        "the first accesses must fault in shadows"
    );
}

#[test]
fn random_ops_keep_invariants() {
    random_ops(0..24);
}

/// The same over many more seeds (`cargo test --release -- --ignored`;
/// `SIM_SEEDS=N` sets how many).
#[test]
#[ignore]
fn random_ops_keep_invariants_long() {
    let n = std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000u64);
    random_ops(1000..1000 + n);
}

fn random_ops(seeds: core::ops::Range<u64>) {
    for seed in seeds {
        let mut rng = Rng::new(seed);
        let k = rng.bytes(2);
        let (cfg, sp) = config_from_byte(k[0], k[1]);
        let mut g = Guest::boot(cfg, sp);
        g.keep_log = true;
        let data = rng.bytes(3000);
        if let Err(f) = g.run_bytes(&data, 400) {
            let tail: Vec<_> = g.log.iter().rev().take(8).rev().collect();
            panic!(
                "seed {seed}: op {} {:?}: {:?}\nlast ops: {tail:#?}",
                f.index, f.op, f.violation
            );
        }
    }
}

/// The generated operations reach every path the checker is meant to
/// cover; a generator change that stops exercising one fails here.
#[test]
fn random_ops_reach_every_path() {
    let mut t = super::Stats::default();
    for seed in 100..136u64 {
        let mut rng = Rng::new(seed);
        let k = rng.bytes(2);
        let (cfg, sp) = config_from_byte(k[0], k[1]);
        let mut g = Guest::boot(cfg, sp);
        let data = rng.bytes(3000);
        if let Err(f) = g.run_bytes(&data, 400) {
            panic!("seed {seed}: op {} {:?}: {:?}", f.index, f.op, f.violation);
        }
        let s = g.sim.stats();
        t.fixed += s.fixed;
        t.reflected += s.reflected;
        t.emulated_writes += s.emulated_writes;
        t.mmio += s.mmio;
        t.unshadows += s.unshadows;
        t.prealloc_unpins += s.prealloc_unpins;
        t.prealloc_unhooks += s.prealloc_unhooks;
        t.resyncs += s.resyncs;
        t.unsyncs += s.unsyncs;
    }
    std::println!("{t:?}");
    for (name, n) in [
        ("fixed", t.fixed),
        ("reflected", t.reflected),
        ("emulated writes", t.emulated_writes),
        ("mmio", t.mmio),
        ("unshadows", t.unshadows),
        ("prealloc unpins", t.prealloc_unpins),
        ("resyncs", t.resyncs),
        ("unsyncs", t.unsyncs),
    ] {
        assert!(n > 0, "no {name} in 36 runs: {t:?}");
    }
}

#[test]
fn xen_walk_matches_oracle() {
    let mut rng = Rng::new(7);
    for i in 0..3000 {
        let data = rng.bytes(120);
        if let Err(v) = super::guest::walk_compare(&data) {
            panic!("input {i} {data:?}: {v:?}");
        }
    }
}

#[test]
fn pte_write_streams_keep_invariants() {
    let mut rng = Rng::new(11);
    for i in 0..40 {
        let data = rng.bytes(600);
        let mut g = Guest::boot(Config::default(), i % 2 == 0);
        for (j, op) in super::guest::pte_write_ops(&data).into_iter().enumerate() {
            if let Err(v) = g.step(op) {
                panic!("input {i} op {j} {op:?}: {v:?}");
            }
        }
    }
}

/// Fuzz finding (pte_writes, crash-68dd1c2e): a guest that maps its own L4
/// user-writable and writes it from user mode is crashed by Xen (C does the
/// same: user-mode page-table writes unshadow with `all`, and a top level in
/// use cannot be unshadowed).  The model now expects that crash instead of
/// reporting the reflected fault that follows it.
#[test]
fn user_write_to_own_top_level_crashes_the_domain_as_in_c() {
    let data = [0xfbu8, 0x07, 0xff, 0xff, 0xff, 0xff];
    let mut g = Guest::boot(Config::default(), true);
    for op in super::guest::pte_write_ops(&data) {
        g.step(op).unwrap();
        if g.dead {
            break;
        }
    }
    assert!(g.dead);
    assert_eq!(
        g.sim.crashed(),
        Some("sh_remove_shadows: can't find all shadows")
    );
}

/// Fuzz finding (pte_writes, crash-73902499): a user-writable mapping of
/// the L2 that translates that very address; the user write never
/// completes — each fault unshadows the L2 (user-mode page-table writes
/// are not emulated) and the retry re-shadows it.  C behaves the same; the
/// guest livelocks, Xen is unaffected.  The model expects it.
#[test]
fn user_write_through_self_mapping_livelocks_as_in_c() {
    let data = [0x76u8, 0x1a, 0xff, 0xff, 0xff, 0xff, 0x61];
    let ops = super::guest::pte_write_ops(&data);
    let mut g = Guest::boot(Config::default(), false);
    g.step(ops[0]).unwrap();
    let super::guest::Op::Access {
        va,
        acc,
        bytes,
        val,
    } = ops[1]
    else {
        panic!("unexpected {:?}", ops[1]);
    };
    assert_eq!(
        g.access(0, va, acc, bytes, val),
        Err(super::checker::Violation::NoProgress { va })
    );
    assert!(g.sim.stats().unshadows >= 8);
    g.step(ops[1]).unwrap();
    checker::check_global(&g).unwrap();
}

/// Fuzz findings (pte_writes crash-a02a6fe4, guest_ops crash-f29a0108): the
/// guest makes its direct map read-only with a PTE write and, without
/// flushing, writes again through it; Xen's fast-emulation path and vTLB
/// still use the writable translation, so the write is emulated.  That is
/// architecturally allowed (the guest did not INVLPG or reload CR3), so the
/// checker now accepts translations the vCPU walked and has not flushed
/// (`Guest::arch_tlb`).  Once the guest flushes, the write must fault.
#[test]
fn stale_translation_until_the_guest_flushes() {
    let data: [u8; 28] = [
        0x08, 0x30, 0x00, 0x30, 0x00, 0x2d, 0xf2, 0xff, 0xff, 0xff, 0x03, 0x00, 0x00, 0x00, 0x41,
        0x41, 0x41, 0x41, 0x41, 0x00, 0x00, 0x00, 0x00, 0x81, 0x81, 0x81, 0x00, 0x41,
    ];
    let ops = super::guest::pte_write_ops(&data);
    let mut g = Guest::boot(Config::default(), false);
    for op in &ops {
        g.step(*op).unwrap();
    }
    // The direct map is read-only now; after a flush the write faults.
    let va = PHYSMAP + (3 << 12) + 0x800;
    g.step(Op::LoadCr3 {
        gfn: super::guest::ROOT_A,
    })
    .unwrap();
    assert_eq!(g.access(0, va, W, 1, 0).unwrap(), Seen::Fault(0x3));

    let data: [u8; 38] = [
        0x04, 0x00, 0x2d, 0x38, 0x04, 0x41, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x04, 0x81, 0x05,
        0x38, 0x38, 0x04, 0xe0, 0xf0, 0xf0, 0xf0, 0x38, 0x38, 0x04, 0x81, 0x05, 0xe0, 0x04, 0xf0,
        0xf0, 0x38, 0xf0, 0xf0, 0xf0, 0x74, 0xf0, 0x4b,
    ];
    let (cfg, sp) = config_from_byte(data[0], data[1]);
    let mut g = Guest::boot(cfg, sp);
    g.run_bytes(&data[2..], 64).unwrap();
}

/// Shadow-pool pressure: more L1 tables in use than the pool holds.
/// `shadow_prealloc` must unhook the in-use top level (stage two) and the
/// guest must keep running with every invariant intact.
#[test]
fn pool_pressure_unhooks_and_recovers() {
    for levels in [4u32, 3, 2] {
        let cfg = Config {
            levels,
            pool: 24,
            ..Config::default()
        };
        let mut g = Guest::boot(cfg, false);
        let physmap = g.physmap();
        let (l2, step) = if levels == 2 {
            (super::guest::ROOT_A, 4)
        } else {
            (super::guest::USER_L2, 8)
        };
        // Data frames 20.. become L1 tables, linked at L2 entries 2..; each
        // maps a data page.
        for i in 0..30u64 {
            let t = FIRST_DATA + 10 + i;
            let va_l1 = physmap + (t << 12);
            let target = FIRST_DATA + (i % 8);
            g.step(Op::write(va_l1, step, (target << 12) | 0x67))
                .unwrap();
            g.step(Op::write(
                physmap + (l2 << 12) + (2 + i) * u64::from(step),
                step,
                (t << 12) | 0x67,
            ))
            .unwrap();
        }
        g.step(Op::LoadCr3 {
            gfn: super::guest::ROOT_A,
        })
        .unwrap();
        let span = if levels == 2 { 22 } else { 21 };
        for round in 0..2 {
            for i in 0..30u64 {
                let va = (2 + i) << span;
                g.step(Op::Access {
                    va,
                    acc: UR,
                    bytes: 8,
                    val: 0,
                })
                .unwrap_or_else(|v| panic!("{levels}-level round {round} table {i}: {v:?}"));
            }
        }
        let s = g.sim.stats();
        assert!(
            s.prealloc_unhooks > 0,
            "{levels}-level: no unhooking under pressure: {s:?}"
        );
        checker::check_full(&g).unwrap();
    }
}

/// Fuzz finding (guest_ops crash-b4c762d5, and seed 1001 of the long
/// property run): a PAE guest loads CR3 with PDPTEs that have reserved bits
/// (RW, A, D).  The CPU raises #GP; Xen neither raises it nor checks them
/// (C is the same), and keeps shadowing what they point at.  The simulated
/// guest now behaves like its CPU and does not load such a CR3.
#[test]
fn pae_cr3_with_reserved_pdpte_bits_is_not_loaded() {
    let data = [
        0x2du8, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0x3f, 0x60, 0x25, 0x08, 0x4a, 0xdf, 0x04, 0x04,
    ];
    let (cfg, sp) = config_from_byte(data[0], data[1]);
    assert_eq!(cfg.levels, 3);
    let mut g = Guest::boot(cfg, sp);
    g.run_bytes(&data[2..], 64).unwrap();
    // The direct map's L1 as a PDPT: its entries carry RW|A|D.
    let (m, _) = g.sim.p2m(super::guest::PHYS_L1);
    assert!(!super::guest::pdptes_valid(&g.sim, m, g.sim.maxphysaddr()));
    assert_eq!(g.cr3[0], super::guest::ROOT_A);
    checker::check_full(&g).unwrap();
}

/// Property-run finding (seed 1132): a CR3 load the guest's CPU refuses
/// (#GP: the frame is MMIO) is no flush; the checker must not hold the
/// shadows to the exactness it expects right after a flush.  And fuzz
/// finding pte_writes crash-a026e1e7: a user-mode write to one of the L2s
/// a PAE guest's PDPTEs name (a top-level shadow in use) crashes the
/// domain, like the L4 case above.
#[test]
fn refused_cr3_load_and_pae_top_level_user_write() {
    let mut rng = Rng::new(1132);
    let k = rng.bytes(2);
    let (cfg, sp) = config_from_byte(k[0], k[1]);
    let mut g = Guest::boot(cfg, sp);
    if let Err(f) = g.run_bytes(&rng.bytes(3000), 400) {
        panic!("op {} {:?}: {:?}", f.index, f.op, f.violation);
    }

    let data = [0x0au8, 0xc4, 0xbf, 0xc4, 0xff, 0xff, 0x31];
    let mut g = Guest::boot(
        Config {
            levels: 3,
            ..Config::default()
        },
        false,
    );
    for op in super::guest::pte_write_ops_for(&data, 3) {
        g.step(op).unwrap();
        if g.dead {
            break;
        }
    }
    assert!(g.dead);
}

/// Long property run finding (seed 2632): with CR0.WP clear, a supervisor
/// write through a read-only mapping of direct MMIO never completes: the
/// handler emulates it (the WP=0 case), the emulator cannot write MMIO
/// through `emulate_gva_to_mfn` (not RAM: unhandleable), so the page is
/// unshadowed and the fault reported fixed, again and again.  C does the
/// same (guest-only livelock); the model expects it.
#[test]
fn wp_off_write_to_read_only_direct_mmio_livelocks_as_in_c() {
    let mut rng = Rng::new(2632);
    let k = rng.bytes(2);
    let (cfg, sp) = config_from_byte(k[0], k[1]);
    assert!(!cfg.mode.wp);
    let mut g = Guest::boot(cfg, sp);
    if let Err(f) = g.run_bytes(&rng.bytes(3000), 400) {
        panic!("op {} {:?}: {:?}", f.index, f.op, f.violation);
    }
}

/// Long property run finding (seed 2658): a 32-bit guest clears its
/// direct-map PTE of a frame without flushing, then starts using the frame
/// as a page table.  The CPU's TLB still holds the old writable
/// translation: Xen does not flush when an L1 entry changes (set.c: "it's
/// the guest's responsibility to trigger a flush later"), and promotion
/// finds no writable shadow mapping left.  Architecturally the guest may
/// use that stale entry until it flushes; C behaves the same.  The TLB
/// invariant now exempts translations the guest walked and has not flushed;
/// after the guest's INVLPG the entry must be gone.
#[test]
fn stale_tlb_entry_of_a_new_page_table_until_the_guest_flushes() {
    let mut rng = Rng::new(2658);
    let k = rng.bytes(2);
    let (cfg, sp) = config_from_byte(k[0], k[1]);
    assert_eq!(cfg.levels, 2);
    let mut g = Guest::boot(cfg, sp);
    let data = rng.bytes(3000);
    let mut b = super::guest::Bytes::new(&data);
    for _ in 0..72 {
        let op = g.decode(&mut b);
        g.step(op).unwrap();
    }
    let page = 0xc000_7000u64;
    assert!(g.sim.st.borrow().vcpus[0]
        .tlb
        .get(&(page >> 12))
        .is_some_and(|e| e.rw));
    g.step(Op::Invlpg { va: page }).unwrap();
    assert!(g.sim.st.borrow().vcpus[0].tlb.get(&(page >> 12)).is_none());
}

/// Found by running the port's audit (crate::audit) in the simulator: a
/// direct-MMIO frame inside a guest superpage gets an FL1 entry with cache
/// attributes (PWT|PCD from get_pat_flags), which C's sh_audit_fl1_table
/// whitelist (and the port's first version) rejected.
#[test]
fn audit_accepts_fl1_cache_attributes_of_direct_mmio() {
    let sl1e = (0x10_002cu64 << 12) | 0x3d; // P|U|PWT|PCD|A
    assert!(crate::audit::fl1_flags_ok(sl1e));
    assert!(!crate::audit::fl1_flags_ok(
        (0x10_002cu64 << 12) | 0x3d | 0x100
    )); // GLOBAL
        // And end to end: a guest whose direct map is one superpage touches
        // its direct-MMIO frame; the audit runs after every operation.
    let mut g = Guest::boot(Config::default(), true);
    let gfn = g.sim.gfn_count() - 1;
    assert_eq!(g.sim.p2m(gfn).1, crate::types::P2mType::MmioDirect);
    g.step(Op::read(PHYSMAP + (gfn << 12), 8)).unwrap();
    checker::check_full(&g).unwrap();
}

/// The checker catches corrupted state: each of these changes behind the
/// port's back (a shadow entry, a guest entry, a count, a flag, the pool)
/// is reported.  Guards the checker's strength when it is optimised.
mod checker_catches {
    use super::*;
    use crate::types::*;
    use checker::Violation;

    /// A 4-level guest that wrote user page 3 (VA 0x3000), so its shadow
    /// L1 entry is present and writable.
    fn guest() -> Guest {
        let mut g = boot();
        g.step(Op::Access {
            va: 0x3008,
            acc: UW,
            bytes: 8,
            val: 1,
        })
        .unwrap();
        checker::check_full(&g).unwrap();
        g
    }

    /// (shadow L1 frame, index) of VA 0x3000 on vCPU 0.
    fn shadow_l1_slot(g: &Guest) -> (Mfn, usize) {
        let mut t = Mfn(g.sim.vcpu(0).hw_cr3 >> PAGE_SHIFT);
        for _ in 0..3 {
            let e = g.sim.read64(t, 0);
            assert!(e & 1 != 0);
            t = shadow_e_get_mfn(e);
        }
        assert!(g.sim.read64(t, 3) & 2 != 0, "shadow L1e present and RW");
        (t, 3)
    }

    /// The guest L1 entry of VA 0x3000.
    fn guest_l1e(g: &Guest) -> (Mfn, usize) {
        (g.sim.p2m(super::super::guest::USER_L1A).0, 3)
    }

    fn state_err(r: Result<(), Violation>, want: &str) {
        match r {
            Err(Violation::State(m)) if m.contains(want) => {}
            other => panic!("want a state violation with {want:?}, got {other:?}"),
        }
    }

    fn shadow_err(r: Result<(), Violation>, want: &str) {
        match r {
            Err(Violation::Shadow {
                va: 0x3000, what, ..
            }) if what.contains(want) => {}
            other => panic!("want a shadow violation at 0x3000 with {want:?}, got {other:?}"),
        }
    }

    #[test]
    fn shadow_entry_to_another_frame() {
        let g = guest();
        let (t, i) = shadow_l1_slot(&g);
        let other = g.sim.p2m(FIRST_DATA + 7).0;
        let e = g.sim.read64(t, i);
        g.sim
            .write64(t, i, (e & !PADDR_MASK & !0xfff | e & 0xfff) | other.maddr());
        shadow_err(checker::check_every_address(&g), "guest∘p2m says");
        assert!(checker::check_full(&g).is_err());
    }

    #[test]
    fn guest_entry_made_read_only() {
        let g = guest();
        let (m, i) = guest_l1e(&g);
        g.sim.write64(m, i, g.sim.read64(m, i) & !2);
        shadow_err(checker::check_every_address(&g), "oracle says #PF");
        assert!(checker::check_full(&g).is_err());
    }

    #[test]
    fn guest_entry_without_dirty_bit() {
        let g = guest();
        let (m, i) = guest_l1e(&g);
        g.sim.write64(m, i, g.sim.read64(m, i) & !0x40);
        shadow_err(checker::check_every_address(&g), "no D bit");
    }

    #[test]
    fn guest_entry_without_accessed_bit() {
        let g = guest();
        let (m, i) = guest_l1e(&g);
        g.sim.write64(m, i, g.sim.read64(m, i) & !0x20);
        shadow_err(checker::check_every_address(&g), "no A bit");
    }

    #[test]
    fn shadow_reference_count() {
        let g = guest();
        let (t, _) = shadow_l1_slot(&g);
        g.sim.with_frame(t, |f| f.count += 1);
        state_err(checker::check_full(&g), "references exist");
    }

    #[test]
    fn guest_page_reference_count() {
        let g = guest();
        let m = g.sim.p2m(FIRST_DATA + 3).0;
        g.sim.with_frame(m, |f| f.refs += 1);
        state_err(checker::check_full(&g), "shadows hold");
    }

    #[test]
    fn shadow_flags_out_of_step_with_the_hash() {
        let g = guest();
        let m = g.sim.p2m(super::super::guest::USER_L1A).0;
        g.sim
            .with_frame(m, |f| f.shadow_flags &= !(1 << sh_type::L1_64));
        state_err(
            checker::check_full(&g),
            "shadow_flags bit 7 is false, hash says true",
        );
    }

    #[test]
    fn writable_mapping_of_a_page_table() {
        let g = guest();
        let (t, i) = shadow_l1_slot(&g);
        let pt = g.sim.p2m(super::super::guest::USER_L1A).0;
        let e = g.sim.read64(t, i);
        g.sim.write64(t, i, (e & 0xfff) | pt.maddr());
        state_err(
            checker::check_full(&g),
            "is a writable mapping of in-sync page table",
        );
    }

    #[test]
    fn typed_shadow_on_the_free_list() {
        let g = guest();
        let (t, _) = shadow_l1_slot(&g);
        g.sim.st.borrow_mut().dom.freelist.push_back(t);
        state_err(checker::check_full(&g), "typed and on the free list");
    }

    #[test]
    fn audit_sees_a_stale_shadow_entry() {
        // With the reference counts kept consistent, the port's audit
        // still sees the shadow disagree with its guest table.
        let g = guest();
        let (t, i) = shadow_l1_slot(&g);
        let old = shadow_e_get_mfn(g.sim.read64(t, i));
        let other = g.sim.p2m(FIRST_DATA + 7).0;
        let e = g.sim.read64(t, i);
        g.sim.write64(t, i, (e & 0xfff) | other.maddr());
        g.sim.with_frame(old, |f| {
            f.refs -= 1;
            f.type_count -= 1;
        });
        g.sim.with_frame(other, |f| {
            f.refs += 1;
            f.type_count += 1;
        });
        state_err(checker::check_full(&g), "audit: ");
    }
}

/// `read_bytes`/`write_bytes` (one-word fast path, byte loop otherwise)
/// against a byte-by-byte model, at every offset and width.
#[test]
fn byte_accesses_match_a_byte_model() {
    let g = boot();
    let m = g.sim.p2m(FIRST_DATA).0;
    let mut model = std::vec![0u8; 4096];
    let mut rng = Rng::new(7);
    for off in (0..4096).filter(|o| o % 8 == 0 || o % 8 >= 5 || *o >= 4088) {
        for bytes in 1..=8usize {
            let val = rng.next_u64();
            g.sim.write_bytes(m, off, bytes, val);
            for k in 0..bytes {
                if off + k < 4096 {
                    model[off + k] = (val >> (8 * k)) as u8;
                }
            }
            let want = (0..bytes)
                .filter(|k| off + k < 4096)
                .fold(0u64, |a, k| a | (u64::from(model[off + k]) << (8 * k)));
            assert_eq!(
                g.sim.read_bytes(m, off, bytes),
                want,
                "off {off} bytes {bytes}"
            );
        }
    }
    for (i, chunk) in model.chunks_exact(8).enumerate() {
        let want = u64::from_le_bytes(chunk.try_into().unwrap());
        assert_eq!(g.sim.read64(m, i), want);
    }
}

/// The checker's cached walk gives what the plain walk gives, address by
/// address, on states reached by random operations (every paging mode).
#[test]
fn cached_hardware_walk_matches_the_walk() {
    let mut checked = 0;
    for seed in 0..24u64 {
        let mut rng = Rng::new(seed + 9000);
        let k = rng.bytes(2);
        let (cfg, sp) = config_from_byte(k[0], k[1]);
        let mut g = Guest::boot(cfg, sp);
        let _ = g.run_bytes(&rng.bytes(800), 48);
        let physmap = g.physmap();
        let mut vas: Vec<u64> = (0..1024u64).map(|i| i << 12).collect();
        vas.extend((0..g.sim.gfn_count() + 2).map(|i| physmap + (i << 12) + 0x10));
        vas.extend((0..256).map(|_| rng.next_u64()));
        for v in 0..g.sim.vcpu_count() {
            let cr3 = g.sim.vcpu(v).hw_cr3;
            let mut cache = super::mmu::WalkCache::default();
            for &va in &vas {
                assert_eq!(
                    g.sim.hw_guest_translate_cached(cr3, va, &mut cache),
                    g.sim.hw_guest_translate(cr3, va),
                    "seed {seed} vCPU {v} va {va:#x}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 24 * 1300);
}

/// Fuzz finding (pte_writes crash-6606978c, 32-bit guest): the guest
/// writes its own page directory through the direct map (emulated, so the
/// page becomes the vCPU's fast-emulation frame), later re-points the
/// direct-map PTE of that page at a frame that is not RAM without
/// flushing, and writes the page again.  The fault goes straight to the
/// emulator (fast emulation), whose translation of the address now ends in
/// a hole (the vTLB entry was evicted by an unrelated fault), so emulation
/// fails and Xen unshadows the page with `all` — it is the top level in
/// use, "can't find all shadows", the domain is crashed.  multi.c does
/// the same (`early_emulation`, `shadow_remove_all_shadows`); the model
/// expects the crash.
#[test]
fn failed_fast_emulation_of_a_top_level_write_crashes_the_domain_as_in_c() {
    let mut g = Guest::boot(
        Config {
            levels: 2,
            ..Config::default()
        },
        false,
    );
    let ops = [
        Op::write(0xc000_0800, 8, 0xf3ff_ffff_2dff_ffff),
        Op::write(0xc000_1000, 1, 0xf366_f3f3_f3f3_f3f3),
        // The page directory (gfn 0, entries 998-999), emulated twice.
        Op::write(0xc000_0f98, 8, 0xf3f3_f3f3_f3f3_f3f3),
        Op::write(0xc000_0f98, 8, 0xf3f3_f3f3_f3f3_f3f3),
        Op::write(0xc000_8f98, 8, 0x5_f3f3),
        // A user access whose fault evicts the vTLB entry of 0xc0000000.
        Op::Access {
            va: 0x3f_3000,
            acc: UW,
            bytes: 8,
            val: 0x5_f3f3,
        },
        // The direct map's L1 (gfn 4): entry 0, the PTE of the page
        // directory's direct-map page, now points at gfn 0xfffff (a hole).
        Op::write(0xc000_4000, 8, 0xffff_ff2d_ffff_ffff),
    ];
    for op in ops {
        g.step(op).unwrap();
        assert!(!g.dead);
    }
    g.step(Op::write(0xc000_0f98, 8, 0x66f3_f3f3_f3f3_f3f3))
        .unwrap();
    assert!(g.dead);
    assert_eq!(
        g.sim.crashed(),
        Some("sh_remove_shadows: can't find all shadows")
    );
}

/// Fuzz finding (guest_ops crash-6d07c971, 32-bit guest): the guest
/// re-points the direct-map PTE of the page holding its direct map's L1
/// (through that very page) at emulated MMIO, then, without flushing,
/// reads the page.  The shadow entry is already the MMIO magic entry, so
/// the read goes to the fast MMIO path; handle_mmio's emulator translates
/// the address again (hvm_copy_from_guest_linear, through the vTLB, as in
/// C 4.17's linear_read) and the vTLB still holds the translation to the
/// RAM frame from the guest's first write, so the read is served from RAM.
/// Architecturally allowed: the guest walked that translation and has not
/// flushed it.  The checker only accepted it for the same access kind; a
/// translation a write used serves reads of the same privilege too
/// (`guest::kinds_allowing`).
#[test]
fn stale_translation_of_a_write_serves_a_read() {
    let (cfg, sp) = config_from_byte(0x1a, 0xfd);
    assert_eq!((cfg.levels, sp), (2, false));
    let mut g = Guest::boot(cfg, sp);
    let gfns = g.sim.gfn_count();
    assert_eq!(g.sim.p2m(0x28).1, crate::types::P2mType::MmioDm);
    let ops = [
        // PHYS_L1[4] (it maps 0xc0004000, its own page) -> gfn 0x28, MMIO.
        Op::write(0xc000_4010, 8, 0x2_81f7),
        Op::BlowTables,
        Op::read(0xc000_3ff8, 8),
        Op::write(0xc000_4016, 2, 0x7474),
        Op::write(0xc000_4000, 8, 0x1_e074),
        Op::write(0xc000_4000, 8, 0x1_e074),
        Op::write(0xc000_4000, 8, 0x1_e074),
        Op::read(0xc000_1000, 8),
        Op::Access {
            va: 0xffff_f0ff,
            acc: R,
            bytes: 8,
            val: !0,
        },
        Op::read(0xc000_3040, 8),
        // Served by the translation the first write walked (RAM, gfn 4).
        Op::read(0xc000_4ff8, 8),
    ];
    for op in ops {
        g.step(op).unwrap();
    }
    assert!(gfns > 0x28);
    assert_eq!(g.sim.stats().mmio, 0, "the read was served from RAM");
    // After the guest's flush the read reaches the device model.
    g.step(Op::Invlpg { va: 0xc000_4000 }).unwrap();
    let mmio = g.sim.mmio_log().len();
    g.step(Op::read(0xc000_4ff8, 8)).unwrap();
    assert_eq!(g.sim.mmio_log().len(), mmio + 1);
    assert_eq!(g.sim.mmio_log()[mmio], (0x28, false));
    checker::check_full(&g).unwrap();
}

/// Fuzz finding (guest_ops crash-85e2300a, 32-bit guest, CR0.WP clear): a
/// supervisor write crossing from a RAM page into a read-only mapping of
/// direct MMIO never completes — the livelock of
/// `wp_off_write_to_read_only_direct_mmio_livelocks_as_in_c` (C does the
/// same), reached through the access's second page.  The model now checks
/// both pages of a page-crossing access for the expected livelocks.
#[test]
fn wp_off_write_crossing_into_read_only_direct_mmio_livelocks_as_in_c() {
    let mut cfg = Config {
        levels: 2,
        ..Config::default()
    };
    cfg.mode.wp = false;
    let mut g = Guest::boot(cfg, false);
    let mmio = g.sim.gfn_count() - 1;
    assert_eq!(g.sim.p2m(mmio).1, crate::types::P2mType::MmioDirect);
    // Direct-map PTE of gfn 6 (entry 6 of the direct map's L1, gfn 4):
    // the direct-MMIO frame, read-only.
    g.step(Op::write(0xc000_4018, 4, (mmio << 12) | 0x165))
        .unwrap();
    // 2 bytes at the end of gfn 5's page: the second lands in gfn 6's.
    assert_eq!(
        g.access(0, 0xc000_5fff, W, 2, 0xbeef),
        Err(super::checker::Violation::NoProgress { va: 0xc000_5fff })
    );
    g.step(Op::write(0xc000_5fff, 2, 0xbeef)).unwrap();
    checker::check_full(&g).unwrap();
}

/// Fuzz finding guest_ops crash-41054561 (4-level guest, SMAP on, two
/// vCPUs), accepted as C 4.17's behaviour.  User page 0 maps emulated MMIO
/// (gfn 0x44); a supervisor instruction fetch there succeeds (SMEP off) and
/// Xen's vTLB remembers the translation with the fetch's error code (P|I).
/// A later supervisor data read of the page, which a walk would refuse
/// (SMAP, user page), takes the entry in the fast MMIO path (handle_mmio ->
/// sh_gva_to_gfn): C's `vtlb_lookup` serves any access whose error code is
/// a subset of the entry's, and the read reaches the device model.
///
/// Not fixed in the port: refusing user pages to the vTLB under SMAP
/// makes C's shadow emulator (`emulate_gva_to_mfn`, shadow/hvm.c, not
/// ported) translate a *user* write it emulates as a supervisor write
/// (its error code has no user bit) by a walk, which SMAP then refuses: a
/// spurious #PF the vTLB hides in C (fuzz run after that change, input
/// cbcf009d: a user write to a read-only RAM page faulted).  Both need
/// the fix in C (the emulator's error code, or a vTLB that records the
/// walk's user/supervisor outcome); the checker models C's lookup for
/// emulated accesses (`guest::vtlb_kinds_allowing`).
#[test]
fn vtlb_entry_of_a_fetch_serves_a_smap_protected_mmio_read_as_in_c() {
    let (cfg, sp) = config_from_byte(0x59, 0x59);
    assert_eq!((cfg.levels, cfg.vcpus, cfg.mode.smap), (4, 2, true));
    let mut g = Guest::boot(cfg, sp);
    assert_eq!(g.sim.p2m(0x44).1, crate::types::P2mType::MmioDm);
    let p = PHYSMAP;
    let ops = [
        Op::write(p + 0x2c008, 8, 0x8000_0000_0002_8134),
        // User L1 entry 0 (gfn 7): user page 0 -> gfn 0x44, P|U|D.
        Op::write(p + 0x7000, 8, 0x3_d044),
        Op::write(p + 0x7000, 8, 0x4_4045),
        // A supervisor fetch from page 0: allowed (SMEP off).
        Op::Access {
            va: 0,
            acc: Access {
                write: false,
                user: false,
                fetch: true,
            },
            bytes: 1,
            val: 0,
        },
    ];
    for op in ops {
        g.step(op).unwrap();
    }
    let expect = checker::expect(&g, 0, 0, R);
    assert_eq!(expect.outcome, super::oracle::Outcome::Fault(1), "SMAP");
    let mmio = g.sim.stats().mmio;
    assert_eq!(g.access(0, 0, R, 1, 0), Ok(Seen::Done));
    assert_eq!(g.sim.stats().mmio, mmio + 1, "served by the device model");
    // The checker accepts it as C's vTLB rule, and nothing else.
    g.step(Op::read(0, 1)).unwrap();
    checker::check_full(&g).unwrap();
}

/// Fuzz input cbcf009d (2-level guest, CR0.WP clear, SMEP and SMAP on):
/// a user write to a user page that maps read-only RAM is emulated and
/// discarded.  C's shadow emulator translates the write with error code
/// W|P (no user bit, shadow/hvm.c) and relies on the vTLB entry the fault
/// left (W|U|P): with it, no spurious SMAP fault.  Regression test for the
/// port keeping C's vTLB use.
#[test]
fn user_write_to_read_only_ram_under_smap_is_discarded_as_in_c() {
    let data: &[u8] = &[
        0xff, 0xc7, 0x44, 0x44, 0x44, 0x44, 0x3d, 0x44, 0x2e, 0x00, 0x00, 0x27,
    ];
    let (cfg, sp) = config_from_byte(data[0], data[1]);
    assert_eq!((cfg.levels, cfg.mode.wp, cfg.mode.smap), (2, false, true));
    let mut g = Guest::boot(cfg, sp);
    g.sweep_every = 0;
    g.run_bytes(&data[2..], 64).unwrap();
    checker::check_full(&g).unwrap();
}

/// The checker uses the vTLB's kinds alone for emulated accesses: they must
/// include every kind the TLB rule admits.
#[test]
fn vtlb_kinds_include_tlb_kinds() {
    for bits in 0..8u8 {
        let acc = Access {
            write: bits & 1 != 0,
            user: bits & 2 != 0,
            fetch: bits & 4 != 0,
        };
        let tlb = super::guest::kinds_allowing(acc);
        assert_eq!(super::guest::vtlb_kinds_allowing(acc) & tlb, tlb, "{acc:?}");
    }
}

/// Fuzz finding guest_ops crash-57a675a5, accepted as C 4.17's behaviour: a
/// supervisor write crossing from a page table on its own walk (the direct
/// map's L3, gfn 2) into a page without RAM behind it (the direct map's
/// entry for gfn 3 retargeted past the end of RAM).  The write to the
/// table is emulated; the emulator cannot map the second page
/// (`emulate_gva_to_mfn`, shadow/hvm.c: BAD_GFN_TO_MFN), so the emulation
/// fails, the fault handler unshadows the table and reports the fault
/// fixed, and the retry's walk shadows the table again.  The guest
/// livelocks; Xen stays healthy (`Guest::expected_livelock_crossing`).
#[test]
fn emulated_page_table_write_crossing_into_no_ram_livelocks_as_in_c() {
    let mut g = Guest::boot(Config::default(), false);
    assert_eq!(g.sim.levels(), 4);
    let beyond = g.sim.gfn_count() + 0x100;
    assert_eq!(g.sim.p2m(beyond).1, crate::types::P2mType::Invalid);
    // Direct-map PTE of gfn 3 (entry 3 of the direct map's L1, gfn 4):
    // a frame past the end of RAM, writable.
    g.step(Op::write(PHYSMAP + 0x4018, 8, (beyond << 12) | 0x63))
        .unwrap();
    // 2 bytes at the end of gfn 2's page (the direct map's own L3): the
    // second lands in the page without RAM.
    assert_eq!(
        g.access(0, PHYSMAP + 0x2fff, W, 2, 0xbeef),
        Err(super::checker::Violation::NoProgress {
            va: PHYSMAP + 0x2fff
        })
    );
    g.step(Op::write(PHYSMAP + 0x2fff, 2, 0xbeef)).unwrap();
    checker::check_full(&g).unwrap();
    // The same write one page lower starts in gfn 1, not a page table of
    // the walk: it completes.
    g.step(Op::write(PHYSMAP + 0x1fff, 2, 0xbeef)).unwrap();
    checker::check_full(&g).unwrap();
}

/// Boots the guest whose configuration the first two bytes of a fuzz input
/// (given in hex) choose, and replays the rest as operations, as the
/// `guest_ops` target does (sampled checks off, at most 64 operations);
/// the input must run without a violation.
fn replay_guest_ops_hex(hex: &str) -> Guest {
    let data: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let (cfg, sp) = config_from_byte(data[0], data[1]);
    let mut g = Guest::boot(cfg, sp);
    g.sweep_every = 0;
    g.run_bytes(&data[2..], 64).unwrap();
    g
}

/// The fuzz input itself (4-level guest, one vCPU, CR0.WP clear, SMEP on).
#[test]
fn fuzz_57a675a5_page_table_write_crossing_into_no_ram() {
    let hex = "2e50b5090908ffad2eb50909afadadadadadadadadadadadadadadadadadadadadadadadadadadadad\
               080908ff53cdff669301d1b4feff0000000000000000adad080908ff53cdff669301d1b4feffff08b84af9";
    let g = replay_guest_ops_hex(hex);
    assert_eq!((g.cfg.levels, g.cfg.vcpus, g.cfg.mode.wp), (4, 1, false));
    checker::check_full(&g).unwrap();
}

/// Fuzz finding guest_ops crash-3195f060 (after 2.4 M executions, at
/// 48682e3), accepted as C 4.17's behaviour: a supervisor fetch at VA 0
/// leaves Xen's vTLB with VA 0 → gfn 9 (RAM); the guest then points VA 0's
/// PTE at emulated MMIO (gfn 0x1d) while the L1 is out of sync, and
/// without a flush; the L1 is resynced (the shadow gets the MMIO magic
/// entry) and a supervisor read of VA 0 takes the MMIO fast path.  The
/// emulator copies through its own translation first (`linear_read` →
/// `hvm_copy_from_guest_linear` → `sh_gva_to_gfn`), which the vTLB serves
/// from the stale entry (a read's error code is a subset of the fetch's),
/// so the read completes on gfn 9 and never reaches the device model, as
/// the CPU's own stale TLB entry would allow.  The checker now applies the
/// vTLB's rule when the current translation leads to an emulated page.
#[test]
fn emulated_mmio_read_served_by_a_stale_vtlb_fetch_entry_as_in_c() {
    let hex = "0132ffffffffffff18440944f2f2f2f2f2f2f2f2f2f2f2f2f2f23200043d003c00003100043d0000\
               00ffffffffffffffffffffffffffffffffffffff043d003c00003d0000272e000000000b32000400\
               000000240000000031000e3d000444eae7e7bbfff5f54a000000032f87443100043d000000ffffff\
               ffffffffffffffffffffffffffffffff043d003c00003d0000272e000000000b3200040000000024\
               000000003100043d0004000000003d2727272727272727272727272727ffffffffffffffffffffff\
               ffffffffffffffffffffffffffffffffffffffffffffff2f2fa82c86867c7c7c7c7c32527c7ca82c\
               7cff000000032f87444444444444043d003200043d003c00003100043d000000ffffffffffffffff\
               ffffffffffffffffffffff043d003c00003d282828282828282828282828282a2828282828282800\
               00272e000000000b3200040000000024000000003100043d00044418181844000a0ab5000000032f\
               87443100043d000000ffffffffffffffffffffffffffffffffffffff043d003c00003d0000272e00\
               0000000b320004000000002400ffffffffffffff40b56b";
    let g = replay_guest_ops_hex(hex);
    assert_eq!((g.cfg.levels, g.cfg.vcpus), (4, 2));
    assert!(!g.dead);
    checker::check_full(&g).unwrap();
}

/// Fuzz finding guest_ops crash-eb73c9ce (after 2.9 M executions), accepted
/// as C 4.17's behaviour: the crossing write of
/// `emulated_page_table_write_crossing_into_no_ram_livelocks_as_in_c`, but
/// from the page of the top-level table the vCPU runs on (gfn 0, root A).
/// The failed emulation unshadows the table with `all`
/// (`shadow_remove_all_shadows`), the top-level shadow in use cannot go,
/// and "can't find all shadows" crashes the domain (common.c), in C as in
/// the port.
#[test]
fn emulated_top_level_write_crossing_into_no_ram_crashes_the_domain_as_in_c() {
    let mut g = Guest::boot(Config::default(), false);
    let beyond = g.sim.gfn_count() + 0x100;
    // Direct-map PTE of gfn 1 (entry 1 of the direct map's L1, gfn 4): a
    // frame past the end of RAM.
    g.step(Op::write(PHYSMAP + 0x4008, 8, (beyond << 12) | 0x63))
        .unwrap();
    // 2 bytes at the end of root A's page: the second lands in the page
    // without RAM.
    g.step(Op::write(PHYSMAP + 0xfff, 2, 0xbeef)).unwrap();
    assert!(g.dead);
    assert_eq!(
        g.sim.crashed(),
        Some("sh_remove_shadows: can't find all shadows")
    );
}

/// The fuzz input itself (4-level guest, one vCPU).
#[test]
fn fuzz_eb73c9ce_top_level_write_crossing_into_no_ram() {
    let hex = "547476740901000000000000ffca74ffffffffffffffffffff0076740901000000000000ffca74ffffffffffffffffffff00\
               2f000001ffff01000009ff1cffffffffffffff747476740901005d0000000074ffffffffffffffffffff002f000001ffff01\
               000009ff1cffffffffffffff74747674090100ffffffffffffffff5d00000000013174ffffffffffffffffffff002f000001";
    let g = replay_guest_ops_hex(hex);
    assert_eq!((g.cfg.levels, g.cfg.vcpus), (4, 1));
    assert!(g.dead);
    checker::check_full(&g).unwrap();
}

/// Fuzz finding guest_ops crash-4088095a (after 3.4 M executions at
/// fd4da82), accepted as C 4.17's behaviour: with CR0.WP clear, a
/// supervisor write through a read-only mapping is emulated (multi.c), so
/// a write crossing from a read-only page, page table or not, into a page
/// without RAM fails to emulate (second page: BAD_GFN_TO_MFN), is
/// unshadowed and retried forever, like the crossing write from a table
/// on its own walk (`Guest::expected_livelock_crossing`).
#[test]
fn wp_off_read_only_write_crossing_into_no_ram_livelocks_as_in_c() {
    let mut cfg = Config {
        levels: 2,
        ..Config::default()
    };
    cfg.mode.wp = false;
    let mut g = Guest::boot(cfg, false);
    let beyond = g.sim.gfn_count() + 0x100;
    let data = FIRST_DATA + 1;
    // Direct-map PTEs (the direct map's L1 is gfn 4): the page at
    // 0xc0001000 maps a data frame read-only, the next one a frame past
    // the end of RAM.
    g.step(Op::write(0xc000_4004, 4, (data << 12) | 0x61))
        .unwrap();
    g.step(Op::write(0xc000_4008, 4, (beyond << 12) | 0x63))
        .unwrap();
    g.step(Op::Invlpg { va: 0xc000_1000 }).unwrap();
    g.step(Op::Invlpg { va: 0xc000_2000 }).unwrap();
    assert_eq!(
        g.access(0, 0xc000_1fff, W, 4, 0x1234_5678),
        Err(super::checker::Violation::NoProgress { va: 0xc000_1fff })
    );
    g.step(Op::write(0xc000_1fff, 4, 0x1234_5678)).unwrap();
    checker::check_full(&g).unwrap();
    // Writable, the same crossing write is not emulated: the first page
    // takes its bytes, the second page's shadow entry faults and the
    // guest gets what the oracle says.
    g.step(Op::write(0xc000_4004, 4, (data << 12) | 0x63))
        .unwrap();
    g.step(Op::Invlpg { va: 0xc000_1000 }).unwrap();
    g.step(Op::write(0xc000_1fff, 4, 0x1234_5678)).unwrap();
    checker::check_full(&g).unwrap();
}

/// The fuzz input itself (2-level guest, one vCPU, CR0.WP clear).
#[test]
fn fuzz_4088095a_wp_off_read_only_write_crossing_into_no_ram() {
    let hex = "1af7e51a1a2b00302a00002affa82c861747ff4eff074a3d074a08090808080c08080871717171717171717171717171\
               717171717171717171717171717171717171717171717171717171717171717171717171717171717979797979797979\
               797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979\
               797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979\
               797979797979797171717171717171717171717171717171717171717171717171717171717171717171717171717171\
               71717171717171080808080808080808860000000a4d24a82cdf424abced3adb150ba1ff424aff074a3d074a08080808\
               ebed3adb150ba1ff002fbced400201022dbeffffffffffffffff0f5dfbebebebeb21ebebebebbced40020102edbeffff\
               ffff0aff0aff0021ebebebebbced400201ffffffffffffffffff0aff00ffed0bd7424abced0bff002f0f080808daf423\
               249b9b9b9b9b";
    let g = replay_guest_ops_hex(hex);
    assert_eq!((g.cfg.levels, g.cfg.vcpus, g.cfg.mode.wp), (2, 1, false));
    checker::check_full(&g).unwrap();
}

/// Fuzz finding guest_ops crash-9eba0185 (after 2.4 M executions at
/// a520112; 2-level guest, CR0.WP clear), accepted as C 4.17's behaviour:
/// the crossing write of
/// `wp_off_read_only_write_crossing_into_no_ram_livelocks_as_in_c`, but the
/// guest has just made the second page not present, without a flush.  Its
/// earlier crossing writes left the old translation (a frame past the end
/// of RAM) in Xen's vTLB, which the emulator's translation of the second
/// page takes, as the CPU may take a stale TLB entry.  The model now
/// remembers both pages of a crossing access as cached and lets the
/// livelock's second page be a cached translation.
#[test]
fn fuzz_9eba0185_crossing_write_into_stale_no_ram_translation() {
    let hex = "1af7e51a00004aff03000bff424abced4002015902edbeffffffffffbf0bdb0d3a403ebced4002ed0102be00005dbbeb\
               ebebbced1a060808086df3ffffff6d00ed1acc1a6d6d6d6d0808086df3ff6df3ffffff6d00ebebebbced40020102edbe\
               ffffff0aff0affff00ffed0bd7424abced0b0000e80f41f800470146ff074eff0741c2074a0808080808080808080805\
               24000000004aff03000bff424abced4002015902edbeffffffffffbf0bdb0d3a403ebced4002ed0102424abced400201\
               5902edbeffffffffffbf0bdb0d3a403ebcffffffff0102be00005dbbebebebbced1a060808086df3ffffff6d00ed1acc\
               1a6d6d6d6d0808086df3ff6df3ffffff6d00ebebebbced40020102edbeffffff0aff0add3d074aaa2a2af9003f9b3f07\
               c2f43da92daa23249bbd9b9b9b9b";
    let g = replay_guest_ops_hex(hex);
    assert_eq!((g.cfg.levels, g.cfg.vcpus, g.cfg.mode.wp), (2, 1, false));
    checker::check_full(&g).unwrap();
}

/// Fuzz finding guest_ops crash-2d2eada3 (after 4.7 M executions at
/// 334683d; PAE guest, direct map as a user-writable superpage), accepted
/// as C 4.17's behaviour: a user write crossing into the page of an L2
/// that the PDPTEs name (a top level in use).  Its first page takes the
/// bytes; the second faults, user-mode page-table writes unshadow with
/// `all`, the top-level shadow in use cannot go, and "can't find all
/// shadows" crashes the domain: the crash of
/// `Guest::expected_crash`'s user write to a top level, through the
/// access's second page.
#[test]
fn fuzz_2d2eada3_user_write_crossing_into_a_top_level_table() {
    let hex = "979797977c00000097ffffffffffffffffffffffff333333333333333333333333333333f3f3f3f3f3f3f3f3f3f3f3f3\
               f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3333333333333333333333333333333333333332b333333\
               333333333333333333333333333333333333333333333333332f2f7e2f2f333333333333333333333333333333333333\
               331d1d9affff00000d9a6969691d1d1d1d1d1d9affff00000d9a6969691d1d1d1d1d1d9affff00000d9a5e407c696969\
               691d1d1d1d33333333000000003387878733333387";
    let g = replay_guest_ops_hex(hex);
    assert_eq!(g.cfg.levels, 3);
    assert!(g.dead);
    assert_eq!(
        g.sim.crashed(),
        Some("sh_remove_shadows: can't find all shadows")
    );
    checker::check_full(&g).unwrap();
}
