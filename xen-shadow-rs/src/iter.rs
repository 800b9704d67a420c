//! multi.c block G (lines 750-923): visiting the entries of a shadow table.
//!
//! C has one `SHADOW_FOREACH_LnE` macro per level and guest mode.  Here the
//! decision of *which* entries to visit (how many pages, which indices of
//! each page, the guest entry each one shadows) is a pure [`Plan`], and one
//! driver ([`scan`]) maps each page in turn, calls the visitor on every
//! present entry of the plan and stops when the visitor asks to.
//!
//! What the plans encode:
//! * L1: every entry; a 32-bit guest's L1 is shadowed by 2 pages.
//! * L2 of a 32-bit guest: 4 pages, and only the first entry of each pair
//!   (a 4 MiB guest entry is shadowed by 2 PAE entries managed together).
//! * L2 of a 64-bit shadow: every entry, except that the L2h shadow of a
//!   32-bit PV guest stops at the first compat Xen slot.
//! * L3: every entry.
//! * L4: for PV guests only the guest slots (`is_guest_l4_slot`).
//!
//! Each visitor gets the [`Slot`] of the entry (the frame holding it is
//! `slot.mfn`, i.e. the page of a multi-page shadow the entry is in) and
//! returns `true` to stop.  The table is mapped only during the visit of
//! its page: a visitor must not keep the slot.  The functions return true
//! if a visitor stopped the scan.

use crate::level::GuestLevel;
use crate::platform::{Platform, Slot, Table};
use crate::types::*;

/// Entries per shadow table page.
const ENTRIES: usize = 512;
/// Which indices of a page a plan visits.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Filter {
    /// All of them (`0..512` stepping by [`Plan::step`]).
    All,
    /// Those below the limit (the compat L2h of 32-bit PV guests).
    Below(usize),
    /// `is_guest_l4_slot` of a PV guest (`pv32`: 32-bit PV).
    GuestL4 { pv32: bool },
}

/// The entries a `SHADOW_FOREACH_*` visits in one shadow.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Plan {
    /// Pages of the shadow (followed with `sh_next_page`).
    pub pages: usize,
    /// Distance between visited indices (2 for 32-bit guest L2s).
    pub step: usize,
    /// Guest entries per shadow page (to number the guest entries).
    pub guest_per_page: usize,
    pub filter: Filter,
}

impl Plan {
    /// Whether index `i` of a page is one the plan visits.
    fn visits(self, i: usize) -> bool {
        match self.filter {
            Filter::All => true,
            Filter::Below(n) => i < n,
            Filter::GuestL4 { pv32 } => is_guest_l4_slot(pv32, i),
        }
    }

    /// Visited entries as `(page, index in page, guest index)`, in order.
    /// The guest index is the one C's `increment_ptr_to_guest_entry`
    /// reaches for that entry.
    pub fn entries(self) -> Entries {
        Entries {
            plan: self,
            page: 0,
            i: 0,
        }
    }
}

/// The iterator of [`Plan::entries`].  (Hand-written rather than built
/// from iterator adapters: those give symbol names longer than Xen's
/// symbol table accepts.)
pub struct Entries {
    plan: Plan,
    page: usize,
    i: usize,
}

impl Iterator for Entries {
    type Item = (usize, usize, usize);

    fn next(&mut self) -> Option<(usize, usize, usize)> {
        let step = self.plan.step.max(1);
        while self.page < self.plan.pages {
            while self.i < ENTRIES {
                let i = self.i;
                self.i += step;
                if self.plan.visits(i) {
                    return Some((
                        self.page,
                        i,
                        self.page * self.plan.guest_per_page + i / step,
                    ));
                }
            }
            self.page += 1;
            self.i = 0;
        }
        None
    }
}

/// Plan of `SHADOW_FOREACH_L1E` (multi.c 774-806), for L1 and FL1 shadows.
pub fn l1_plan<L: GuestLevel>() -> Plan {
    Plan {
        pages: L::L1_SHADOW_PAGES,
        step: 1,
        guest_per_page: ENTRIES,
        filter: Filter::All,
    }
}

/// Plan of `SHADOW_FOREACH_L2E` (multi.c 809-881).  `external` is
/// `shadow_mode_external(d)`, `pv32` `is_pv_32bit_domain(d)`, `l2h` whether
/// the shadow is an L2h, `compat_first_xen_slot`
/// `COMPAT_L2_PAGETABLE_FIRST_XEN_SLOT(d)` (only used for that case).
pub fn l2_plan<L: GuestLevel>(
    external: bool,
    pv32: bool,
    l2h: bool,
    compat_first_xen_slot: usize,
) -> Plan {
    if L::L2_SHADOW_PAGES > 1 {
        // 4 pages, one visit per pair of entries.
        Plan {
            pages: L::L2_SHADOW_PAGES,
            step: 2,
            guest_per_page: ENTRIES / 2,
            filter: Filter::All,
        }
    } else if L::LEVELS == 4 && !external && pv32 && l2h {
        Plan {
            pages: 1,
            step: 1,
            guest_per_page: ENTRIES,
            filter: Filter::Below(compat_first_xen_slot),
        }
    } else {
        Plan {
            pages: 1,
            step: 1,
            guest_per_page: ENTRIES,
            filter: Filter::All,
        }
    }
}

/// Plan of `SHADOW_FOREACH_L3E` (multi.c 885-901).
pub fn l3_plan() -> Plan {
    Plan {
        pages: 1,
        step: 1,
        guest_per_page: ENTRIES,
        filter: Filter::All,
    }
}

/// Plan of `SHADOW_FOREACH_L4E` (multi.c 903-921).
pub fn l4_plan(external: bool, pv32: bool) -> Plan {
    let filter = if external {
        Filter::All
    } else {
        Filter::GuestL4 { pv32 }
    };
    Plan {
        pages: 1,
        step: 1,
        guest_per_page: ENTRIES,
        filter,
    }
}

/// The driver of every `SHADOW_FOREACH_*`: maps page after page of the
/// shadow starting at `first` (`next` stands for `sh_next_page`), calls
/// `f(slot, guest_index)` on each planned entry whose PRESENT bit is set
/// (and, with `user_only`, whose USER bit is set), stops when `f` returns
/// true.  Exactly one page is mapped at a time, around its visit.
///
/// Plain nested loops (page, then index) rather than [`Plan::entries`]:
/// this runs over every entry of a shadow when it is destroyed or
/// unhooked, and the iterator's per-entry call and page check cost about
/// 40 instructions per entry (measured with `cargo xtask bench`).
pub fn scan(
    plan: Plan,
    first: Mfn,
    user_only: bool,
    mut next: impl FnMut(Mfn) -> Mfn,
    mut map: impl FnMut(Mfn) -> Table,
    mut unmap: impl FnMut(Table),
    mut f: impl FnMut(Slot, usize) -> bool,
) -> bool {
    // PRESENT and USER are the same bits in an entry and in its flags.
    const P: u64 = flags::PRESENT as u64;
    const PU: u64 = (flags::PRESENT | flags::USER) as u64;
    let step = plan.step.max(1);
    let mut mfn = first;
    for page in 0..plan.pages {
        if page > 0 {
            mfn = next(mfn);
        }
        let table = map(mfn);
        let base = page * plan.guest_per_page;
        let mut i = 0;
        loop {
            // (Two calls so that each scans for a constant.)
            let found = if user_only {
                table.next_with(i, step, PU)
            } else {
                table.next_with(i, step, P)
            };
            let Some(j) = found else { break };
            if plan.visits(j) && f(table.slot(mfn, j), base + j / step) {
                unmap(table);
                return true;
            }
            i = j + step;
        }
        unmap(table);
    }
    false
}

fn run<P: Platform>(
    p: &P,
    plan: Plan,
    first: Mfn,
    user_only: bool,
    f: impl FnMut(Slot, usize) -> bool,
) -> bool {
    scan(
        plan,
        first,
        user_only,
        |m| p.sh_next_page(m),
        |m| p.map_domain_page(m),
        |t| p.unmap_domain_page(t),
        f,
    )
}

/// `SHADOW_FOREACH_L1E` (multi.c 774-806) over the L1 or FL1 shadow
/// `sl1mfn`, with the guest index of each entry.
pub fn foreach_l1e_gi<P: Platform, L: GuestLevel>(
    p: &P,
    sl1mfn: Mfn,
    f: impl FnMut(Slot, usize) -> bool,
) -> bool {
    debug_assert!({
        let t = p.sp_type(sl1mfn);
        t == L::SH_L1 || t == L::SH_FL1
    });
    run(p, l1_plan::<L>(), sl1mfn, false, f)
}

/// `SHADOW_FOREACH_L1E` (multi.c 774-806): `f` on each present entry of
/// the L1 or FL1 shadow `sl1mfn` (both pages for 32-bit guests) until it
/// returns true.
pub fn foreach_l1e<P: Platform, L: GuestLevel>(
    p: &P,
    sl1mfn: Mfn,
    mut f: impl FnMut(Slot) -> bool,
) -> bool {
    foreach_l1e_gi::<P, L>(p, sl1mfn, |s, _| f(s))
}

fn l2_plan_of<P: Platform, L: GuestLevel>(p: &P, d: P::Dom, sl2mfn: Mfn) -> Plan {
    let external = p.paging_mode_external(d);
    let t = p.sp_type(sl2mfn);
    debug_assert!(t == L::SH_L2 || (L::LEVELS == 4 && t == L::SH_L2H));
    debug_assert!(L::LEVELS == 4 || external);
    if L::LEVELS == 4 && !external && t == L::SH_L2H && p.is_pv_32bit_domain(d) {
        l2_plan::<L>(external, true, true, p.compat_l2_first_xen_slot(d))
    } else {
        l2_plan::<L>(external, false, false, 0)
    }
}

/// `SHADOW_FOREACH_L2E` (multi.c 809-881) with the guest index of each
/// entry.  `user_only`: visit only entries with USER set.
pub fn foreach_l2e_gi<P: Platform, L: GuestLevel>(
    p: &P,
    d: P::Dom,
    sl2mfn: Mfn,
    user_only: bool,
    f: impl FnMut(Slot, usize) -> bool,
) -> bool {
    let plan = l2_plan_of::<P, L>(p, d, sl2mfn);
    run(p, plan, sl2mfn, user_only, f)
}

/// `SHADOW_FOREACH_L2E` (multi.c 809-881): `f` on each present entry of
/// the L2 (or L2h) shadow `sl2mfn` until it returns true; 32-bit guests:
/// all 4 pages, first entry of each pair; 32-bit PV L2h: not the Xen
/// slots.  `user_only`: visit only entries with USER set (what the unhook
/// functions filter on; false gives C's macro).
pub fn foreach_l2e<P: Platform, L: GuestLevel>(
    p: &P,
    d: P::Dom,
    sl2mfn: Mfn,
    user_only: bool,
    mut f: impl FnMut(Slot) -> bool,
) -> bool {
    foreach_l2e_gi::<P, L>(p, d, sl2mfn, user_only, |s, _| f(s))
}

/// `SHADOW_FOREACH_L3E` (multi.c 885-901) with the guest index of each
/// entry.
pub fn foreach_l3e_gi<P: Platform, L: GuestLevel>(
    p: &P,
    sl3mfn: Mfn,
    f: impl FnMut(Slot, usize) -> bool,
) -> bool {
    debug_assert!(L::LEVELS == 4 && p.sp_type(sl3mfn) == L::SH_L3);
    run(p, l3_plan(), sl3mfn, false, f)
}

/// `SHADOW_FOREACH_L3E` (multi.c 885-901): `f` on each present entry of
/// the L3 shadow `sl3mfn` (4-level guests) until it returns true.
pub fn foreach_l3e<P: Platform, L: GuestLevel>(
    p: &P,
    sl3mfn: Mfn,
    mut f: impl FnMut(Slot) -> bool,
) -> bool {
    foreach_l3e_gi::<P, L>(p, sl3mfn, |s, _| f(s))
}

/// `SHADOW_FOREACH_L4E` (multi.c 903-921) with the guest index of each
/// entry.
pub fn foreach_l4e_gi<P: Platform, L: GuestLevel>(
    p: &P,
    d: P::Dom,
    sl4mfn: Mfn,
    user_only: bool,
    f: impl FnMut(Slot, usize) -> bool,
) -> bool {
    debug_assert!(L::LEVELS == 4 && p.sp_type(sl4mfn) == L::SH_L4);
    let external = p.paging_mode_external(d);
    let plan = l4_plan(external, !external && p.is_pv_32bit_domain(d));
    run(p, plan, sl4mfn, user_only, f)
}

/// `SHADOW_FOREACH_L4E` (multi.c 903-921): `f` on each present entry of
/// the L4 shadow `sl4mfn` (PV guests: guest slots only) until it returns
/// true.  `user_only`: visit only entries with USER set.
pub fn foreach_l4e<P: Platform, L: GuestLevel>(
    p: &P,
    d: P::Dom,
    sl4mfn: Mfn,
    user_only: bool,
    mut f: impl FnMut(Slot) -> bool,
) -> bool {
    foreach_l4e_gi::<P, L>(p, d, sl4mfn, user_only, |s, _| f(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::{G2, G3, G4};
    use core::ptr::NonNull;
    use std::vec::Vec;

    #[test]
    fn l1_plans() {
        let e: Vec<_> = l1_plan::<G2>().entries().collect();
        assert_eq!(e.len(), 1024);
        assert_eq!(e[0], (0, 0, 0));
        assert_eq!(e[511], (0, 511, 511));
        assert_eq!(e[512], (1, 0, 512));
        assert_eq!(e[1023], (1, 511, 1023));
        for l in [l1_plan::<G3>(), l1_plan::<G4>()] {
            let e: Vec<_> = l.entries().collect();
            assert_eq!(e.len(), 512);
            assert!(e
                .iter()
                .enumerate()
                .all(|(k, &(pg, i, gi))| pg == 0 && i == k && gi == k));
        }
    }

    #[test]
    fn l2_plan_of_32bit_guests_visits_first_of_each_pair_on_4_pages() {
        let e: Vec<_> = l2_plan::<G2>(true, false, false, 0).entries().collect();
        assert_eq!(e.len(), 1024);
        assert_eq!(&e[..3], &[(0, 0, 0), (0, 2, 1), (0, 4, 2)]);
        assert_eq!(e[255], (0, 510, 255));
        assert_eq!(e[256], (1, 0, 256));
        assert_eq!(e[1023], (3, 510, 1023));
        assert!(e.iter().all(|&(_, i, _)| i % 2 == 0));
        // The guest index of an entry is the one shadow_l2_index maps back to it.
        for &(pg, i, gi) in &e {
            assert_eq!((gi / 256, (gi % 256) * 2), (pg, i));
        }
    }

    #[test]
    fn l2_plans_of_pae_and_64bit() {
        assert_eq!(l2_plan::<G3>(true, false, false, 0).entries().count(), 512);
        // HVM, PV 64 and a plain L2 of a PV32 guest: everything.
        assert_eq!(l2_plan::<G4>(true, false, false, 0).entries().count(), 512);
        assert_eq!(l2_plan::<G4>(false, false, true, 0).entries().count(), 512);
        assert_eq!(
            l2_plan::<G4>(false, true, false, 100).entries().count(),
            512
        );
        // The L2h of a 32-bit PV guest stops at the compat Xen slots.
        let e: Vec<_> = l2_plan::<G4>(false, true, true, 440).entries().collect();
        assert_eq!(e.len(), 440);
        assert_eq!(e.last(), Some(&(0, 439, 439)));
    }

    #[test]
    fn l4_plans_skip_xen_slots_of_pv_guests() {
        assert_eq!(l4_plan(true, false).entries().count(), 512);
        let pv64: Vec<_> = l4_plan(false, false).entries().map(|(_, i, _)| i).collect();
        assert_eq!(pv64.len(), 512 - 16);
        assert!(
            pv64.contains(&255)
                && !pv64.contains(&256)
                && !pv64.contains(&271)
                && pv64.contains(&272)
        );
        let pv32: Vec<_> = l4_plan(false, true).entries().collect();
        assert_eq!(pv32, [(0, 0, 0)]);
        // Guest index is the slot number even across the skipped Xen slots.
        assert!(l4_plan(false, false).entries().all(|(_, i, gi)| i == gi));
    }

    #[repr(align(4096))]
    struct Page([u8; 4096]);

    fn pages(n: usize) -> Vec<Table> {
        (0..n)
            .map(|_| {
                let p = std::boxed::Box::leak(std::boxed::Box::new(Page([0; 4096])));
                // SAFETY: leaked, aligned 4 KiB page: lives forever.
                unsafe { Table::from_raw(NonNull::new(p.0.as_mut_ptr()).unwrap()) }
            })
            .collect()
    }

    /// Runs `scan` over fake pages mfn 10.. and records the visits and the
    /// mappings.
    fn drive(
        plan: Plan,
        t: &[Table],
        user_only: bool,
        stop_at: Option<usize>,
    ) -> (Vec<(u64, usize, usize)>, usize, bool) {
        let mut seen = Vec::new();
        let maps = core::cell::Cell::new(0usize);
        let live = core::cell::Cell::new(0i32);
        let stopped = scan(
            plan,
            Mfn(10),
            user_only,
            |m| Mfn(m.0 + 1),
            |m| {
                maps.set(maps.get() + 1);
                live.set(live.get() + 1);
                assert!(live.get() == 1, "one mapping at a time");
                t[(m.0 - 10) as usize]
            },
            |_| live.set(live.get() - 1),
            |s: Slot, gi| {
                seen.push((s.mfn.0, s.index, gi));
                Some(gi) == stop_at
            },
        );
        assert_eq!(live.get(), 0, "every mapping released");
        (seen, maps.get(), stopped)
    }

    #[test]
    fn scan_visits_present_entries_across_pages() {
        let t = pages(4);
        t[0].set64(0, 0x1007);
        t[0].set64(1, 0x2001); // odd index: not visited for 32-bit guest L2s
        t[1].set64(4, 0x3001);
        t[3].set64(510, 0x4005);
        t[3].set64(508, 0x4002); // not present
        let (seen, maps, stopped) = drive(l2_plan::<G2>(true, false, false, 0), &t, false, None);
        assert_eq!(seen, [(10, 0, 0), (11, 4, 258), (13, 510, 1023)]);
        assert_eq!(maps, 4);
        assert!(!stopped);
        let (seen, _, _) = drive(l2_plan::<G2>(true, false, false, 0), &t, true, None);
        assert_eq!(seen, [(10, 0, 0), (13, 510, 1023)]);
        let (seen, maps, stopped) =
            drive(l2_plan::<G2>(true, false, false, 0), &t, false, Some(258));
        assert_eq!(seen, [(10, 0, 0), (11, 4, 258)]);
        assert_eq!(maps, 2);
        assert!(stopped);
        // 2-page L1.
        let (seen, maps, _) = drive(l1_plan::<G2>(), &t, false, None);
        assert_eq!(seen, [(10, 0, 0), (10, 1, 1), (11, 4, 516)]);
        assert_eq!(maps, 2);
    }
}
