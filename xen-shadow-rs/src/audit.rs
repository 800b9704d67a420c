//! multi.c block X (lines 3894-4199) and block D's `sh_audit_gw`: the
//! shadow audit.  Each shadow entry is checked against the guest entry it
//! shadows: flags (present, A/D propagation, USER, NX, RW never wider than
//! the guest's), magic entries (guest-not-present only for not-present
//! guest entries, MMIO entries carrying the guest's gfn), and the
//! translation (an L1 entry maps the frame the p2m gives for the guest's
//! gfn; an upper entry points at the shadow of the guest's next table).
//!
//! C's checks BUG() at the first failure; here each check returns the
//! first [`Failure`], which the platform reports
//! ([`Core::shadow_audit_failed`]: Xen prints C's message and BUG()s, the
//! host simulator fails the test).  The checks run
//! * in debug Xen builds through common.c's `shadow_audit_tables` (the
//!   exported `sh_audit_*` callbacks) when `shadow_audit_enable` is set
//!   (debug key `O`, or the `shadow-audit` boot option);
//! * from the fault handler ([`audit_fault`], C's `shadow_audit_tables` +
//!   `sh_audit_gw` pairs), in debug *and* release builds: release builds
//!   switch it on with the same boot option or debug key, which C's
//!   release builds do not have;
//! * in the host simulator after every operation.

// A `Failure` is ~100 bytes and only travels up a few frames of a
// debugging path; boxing it is not possible without an allocator.
#![allow(clippy::result_large_err)]

use core::fmt;

use crate::iter;
use crate::level::GuestLevel;
use crate::platform::{Core, GuestWalk, Mapped, Platform};
use crate::propagate::{sh_l1e_is_gnp, sh_l1e_is_magic, sh_l1e_is_mmio, sh_l1e_mmio_get_gfn};
use crate::types::*;

/// What a check found wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// `sh_audit_flags`' verdict on the entries' flags.
    Flags(&'static str),
    /// A guest-not-present magic entry shadows a present guest entry.
    GnpButGuestPresent,
    /// An MMIO magic entry carries another gfn than the guest entry.
    MmioGfn { shadow: Gfn, guest: Gfn },
    /// The shadow entry points at `got`; the guest entry's gfn (`gfn`,
    /// through the p2m to `via` for upper levels) says it should be `want`.
    BadTranslation {
        gfn: Gfn,
        via: Option<Mfn>,
        want: Mfn,
        got: Mfn,
    },
    /// An upper-level guest table is out of sync (only L1s may be).
    OutOfSync(Mfn),
    /// An L1 is marked out of sync but no vCPU's OOS hash holds it.
    OosNotInHash(Mfn),
    /// An FL1 entry has flags a splintered superpage cannot produce.
    Fl1BadFlags,
}

/// The entry pair a failed check looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryPair {
    /// Index of the guest entry in its page (C's `guest_index`).
    pub index: usize,
    /// Addresses of the two entries as mapped during the audit.
    pub gptr: u64,
    pub sptr: u64,
    pub gentry: u64,
    pub sentry: u64,
}

/// The first failure of an audit, with what C's `AUDIT_FAIL` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    pub guest_levels: u32,
    pub shadow_levels: u32,
    /// Width of a guest entry in bytes (how C prints it).
    pub gpte_bytes: usize,
    /// Table level (1-4).
    pub level: u32,
    pub gmfn: Mfn,
    pub smfn: Mfn,
    /// `None` for C's `AUDIT_FAIL_MIN` (a whole-table verdict).
    pub entry: Option<EntryPair>,
    pub what: What,
}

impl Failure {
    fn new<L: GuestLevel>(
        level: u32,
        gmfn: Mfn,
        smfn: Mfn,
        entry: Option<EntryPair>,
        what: What,
    ) -> Self {
        Failure {
            guest_levels: L::LEVELS,
            shadow_levels: L::SHADOW_LEVELS,
            gpte_bytes: L::GUEST_PTE_BYTES,
            level,
            gmfn,
            smfn,
            entry,
            what,
        }
    }
}

impl fmt::Display for What {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            What::Flags(s) => f.write_str(s),
            What::GnpButGuestPresent => f.write_str("shadow is GNP magic but guest is present"),
            What::MmioGfn { shadow, guest } => write!(
                f,
                "shadow MMIO gfn is {:x} but guest gfn is {:x}",
                shadow.0, guest.0
            ),
            What::BadTranslation {
                gfn,
                via: Some(via),
                want,
                got,
            } => write!(
                f,
                "bad translation: gfn {:x} (--> {:05x}) --> {:05x} != mfn {:05x}",
                gfn.0, via.0, want.0, got.0
            ),
            What::BadTranslation {
                gfn,
                via: None,
                want,
                got,
            } => write!(
                f,
                "bad translation: gfn {:x} --> {:05x} != mfn {:05x}",
                gfn.0, want.0, got.0
            ),
            What::OutOfSync(m) => write!(f, "gmfn {:x} is out of sync", m.0),
            What::OosNotInHash(m) => write!(f, "gmfn {:05x} marked OOS but not in hash table", m.0),
            What::Fl1BadFlags => f.write_str("fl1e has bad flags"),
        }
    }
}

/// C's `AUDIT_FAIL` / `AUDIT_FAIL_MIN` message (without the BUG()).
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (g, s, l) = (self.guest_levels, self.shadow_levels, self.level);
        match self.entry {
            Some(e) => {
                writeln!(
                    f,
                    "Shadow {g}-on-{s} audit failed at level {l}, index {}",
                    e.index
                )?;
                write!(
                    f,
                    "gl{l}mfn = {:05x} sl{l}mfn = {:05x} &gl{l}e = {:016x} &sl{l}e = {:016x} gl{l}e = ",
                    self.gmfn.0, self.smfn.0, e.gptr, e.sptr
                )?;
                if self.gpte_bytes == 4 {
                    write!(f, "{:08x}", e.gentry)?;
                } else {
                    write!(f, "{:016x}", e.gentry)?;
                }
                writeln!(f, " sl{l}e = {:016x}", e.sentry)?;
            }
            None => {
                writeln!(f, "Shadow {g}-on-{s} audit failed at level {l}")?;
                write!(
                    f,
                    "gl{l}mfn = {:05x} sl{l}mfn = {:05x} ",
                    self.gmfn.0, self.smfn.0
                )?;
            }
        }
        writeln!(f, "Error: {}", self.what)
    }
}

/// `sh_audit_flags` (multi.c 3929-3954): what is wrong with a shadow
/// entry's flags given the guest entry's, at table `level`, for an HVM
/// (`hvm`) or PV vCPU, with `shadow_levels`-level shadows.
pub fn audit_flags(
    hvm: bool,
    shadow_levels: u32,
    level: u32,
    gflags: u32,
    sflags: u32,
) -> Option<&'static str> {
    use flags::*;
    if sflags & PRESENT != 0 && gflags & PRESENT == 0 {
        return Some("shadow is present but guest is not present");
    }
    if sflags & GLOBAL != 0 && !hvm {
        return Some("global bit set in PV shadow");
    }
    if level == 2 && sflags & PSE != 0 {
        return Some("PS bit set in shadow");
    }
    if shadow_levels == 3 && level == 3 {
        // All the other bits are blank in PAE L3 entries.
        return None;
    }
    if sflags & PRESENT != 0 && gflags & ACCESSED == 0 {
        return Some("accessed bit not propagated");
    }
    if (level == 1 || (level == 2 && gflags & PSE != 0)) && sflags & RW != 0 && gflags & DIRTY == 0
    {
        return Some("dirty bit not propagated");
    }
    if sflags & USER != gflags & USER {
        return Some("user/supervisor bit does not match");
    }
    if sflags & NX_BIT != gflags & NX_BIT {
        return Some("NX bit does not match");
    }
    if sflags & RW != 0 && gflags & RW == 0 {
        return Some("shadow grants write access but guest does not");
    }
    None
}

/// `sh_audit_fl1_table`'s flag check: the flags (AVAIL bits ignored) an
/// FL1 entry may have, or a magic entry.
///
/// Deliberate difference from C: the cache-attribute bits (PWT, PCD, PAT)
/// are ignored too.  `_sh_propagate` sets them on FL1 entries of direct
/// MMIO inside a guest superpage (`get_pat_flags`, or UC mode), so C's
/// whitelist fails on correct shadows (found by the host simulator).
pub fn fl1_flags_ok(sl1e: u64) -> bool {
    use flags::*;
    let f = get_pte_flags(sl1e) & !(AVAIL0 | AVAIL1 | AVAIL2 | PWT | PCD | PAT);
    f == 0
        || f == PRESENT | USER | RW | ACCESSED
        || f == PRESENT | USER | ACCESSED
        || f == PRESENT | USER | RW | ACCESSED | DIRTY
        || f == PRESENT | USER | ACCESSED | DIRTY
        || sh_l1e_is_magic(sl1e)
}

/// Visits the present entries of shadow `smfn` (level `level`, type `t`)
/// with the guest entry each shadows, from the guest table `gmfn`; `check`
/// returns the first problem.
fn audit_entries<P: Platform, L: GuestLevel>(
    p: &P,
    d: P::Dom,
    level: u32,
    gmfn: Mfn,
    smfn: Mfn,
    mut check: impl FnMut(usize, u64, u64) -> Option<What>,
) -> Result<(), Failure> {
    let guest = Mapped::new(p, gmfn);
    let bytes = L::GUEST_PTE_BYTES;
    let mut failure = None;
    let mut visit = |slot: crate::platform::Slot, gi: usize| -> bool {
        let ge = guest.get(gi, bytes);
        let se = slot.get();
        match check(gi, ge, se) {
            None => false,
            Some(what) => {
                let entry = EntryPair {
                    index: gi,
                    gptr: guest.as_ptr() as u64 + (gi * bytes) as u64,
                    sptr: slot.ptr() as u64,
                    gentry: ge,
                    sentry: se,
                };
                failure = Some(Failure::new::<L>(level, gmfn, smfn, Some(entry), what));
                true
            }
        }
    };
    match level {
        1 => iter::foreach_l1e_gi::<P, L>(p, smfn, &mut visit),
        2 => iter::foreach_l2e_gi::<P, L>(p, d, smfn, false, &mut visit),
        3 => iter::foreach_l3e_gi::<P, L>(p, smfn, &mut visit),
        _ => iter::foreach_l4e_gi::<P, L>(p, d, smfn, false, &mut visit),
    };
    failure.map_or(Ok(()), Err)
}

/// The guest table a shadow shadows (C's `backpointer`).
fn guest_of<P: Core>(p: &P, smfn: Mfn) -> Mfn {
    debug_assert!(p.sp_head(smfn));
    Mfn(p.sp_backpointer(smfn))
}

/// `sh_audit_l1_table` (multi.c 3956-4022).
pub fn audit_l1_table<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    sl1mfn: Mfn,
) -> Result<(), Failure> {
    let d = p.vcpu_domain(v);
    let gl1mfn = guest_of(p, sl1mfn);

    // An out-of-sync L1's shadow may lag its guest table arbitrarily: only
    // check that the OOS hash knows it.
    if p.mfn_is_out_of_sync(gl1mfn) {
        if !p.oos_hash_is_present(d, gl1mfn) {
            return Err(Failure::new::<L>(
                1,
                gl1mfn,
                sl1mfn,
                None,
                What::OosNotInHash(gl1mfn),
            ));
        }
        return Ok(());
    }

    let hvm = p.is_hvm_domain(d);
    audit_entries::<P, L>(p, d, 1, gl1mfn, sl1mfn, |_, gl1e, sl1e| {
        let gflags = L::guest_e_get_flags(gl1e);
        if sh_l1e_is_magic(sl1e) {
            if sh_l1e_is_gnp(sl1e) {
                return (gflags & flags::PRESENT != 0).then_some(What::GnpButGuestPresent);
            }
            debug_assert!(sh_l1e_is_mmio(sl1e));
            let (shadow, guest) = (sh_l1e_mmio_get_gfn(sl1e), L::guest_e_get_gfn(gl1e));
            return (shadow != guest).then_some(What::MmioGfn { shadow, guest });
        }
        if let Some(s) = audit_flags(hvm, L::SHADOW_LEVELS, 1, gflags, get_pte_flags(sl1e)) {
            return Some(What::Flags(s));
        }
        let gfn = L::guest_e_get_gfn(gl1e);
        let got = shadow_e_get_mfn(sl1e);
        let (want, t) = p.get_gfn_query_unlocked(d, gfn);
        (!t.is_grant() && want != got).then_some(What::BadTranslation {
            gfn,
            via: None,
            want,
            got,
        })
    })
}

/// `sh_audit_fl1_table` (multi.c 4024-4048).  An FL1 shadow has no guest
/// table behind it (its backpointer is a gfn): only flags are checked.
pub fn audit_fl1_table<P: Platform, L: GuestLevel>(p: &P, sl1mfn: Mfn) -> Result<(), Failure> {
    let mut failure = None;
    iter::foreach_l1e_gi::<P, L>(p, sl1mfn, |slot, gi| {
        let sl1e = slot.get();
        if fl1_flags_ok(sl1e) {
            return false;
        }
        let entry = EntryPair {
            index: gi,
            gptr: 0,
            sptr: slot.ptr() as u64,
            gentry: 0,
            sentry: sl1e,
        };
        failure = Some(Failure::new::<L>(
            1,
            INVALID_MFN,
            sl1mfn,
            Some(entry),
            What::Fl1BadFlags,
        ));
        true
    });
    failure.map_or(Ok(()), Err)
}

/// What `sh_audit_l2/l3/l4_table` share: an upper-level guest table must
/// not be out of sync, and each present shadow entry must pass the flags
/// check and point at `want(guest index, guest flags, gfn)`, which returns
/// the expected shadow and, for the message, the guest frame it shadows.
fn audit_upper_table<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    level: u32,
    smfn: Mfn,
    want: impl Fn(usize, u32, Gfn) -> (Mfn, Option<Mfn>),
) -> Result<(), Failure> {
    let d = p.vcpu_domain(v);
    let gmfn = guest_of(p, smfn);
    // Only L1s may be out of sync.
    if p.mfn_is_out_of_sync(gmfn) {
        return Err(Failure::new::<L>(
            level,
            gmfn,
            smfn,
            None,
            What::OutOfSync(gmfn),
        ));
    }
    let hvm = p.is_hvm_domain(d);
    audit_entries::<P, L>(p, d, level, gmfn, smfn, |gi, ge, se| {
        let gflags = L::guest_e_get_flags(ge);
        if let Some(s) = audit_flags(hvm, L::SHADOW_LEVELS, level, gflags, get_pte_flags(se)) {
            return Some(What::Flags(s));
        }
        let gfn = L::guest_e_get_gfn(ge);
        let got = shadow_e_get_mfn(se);
        let (want, via) = want(gi, gflags, gfn);
        (want != got).then_some(What::BadTranslation {
            gfn,
            via,
            want,
            got,
        })
    })
}

/// `get_shadow_status(d, gmfn, t)` for a frame the p2m returned, which
/// may be invalid if the guest's entry points at a hole: then there is no
/// shadow (C would assert on the invalid frame).
fn shadow_of<P: Core>(p: &P, d: P::Dom, gmfn: Mfn, t: u32) -> Mfn {
    if p.mfn_valid(gmfn) {
        p.get_shadow_status(d, gmfn, t)
    } else {
        INVALID_MFN
    }
}

/// The shadow of type `t` of the guest table at `gfn`.
fn shadow_of_gfn<P: Core>(p: &P, d: P::Dom, gfn: Gfn, t: u32) -> Mfn {
    shadow_of(p, d, p.get_gfn_query_unlocked(d, gfn).0, t)
}

/// `sh_audit_l2_table` (multi.c 4050-4099), for L2 and L2h shadows: a
/// superpage entry points at the FL1 shadow of its gfn, others at the L1
/// shadow of the guest L1.
pub fn audit_l2_table<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    sl2mfn: Mfn,
) -> Result<(), Failure> {
    let d = p.vcpu_domain(v);
    audit_upper_table::<P, L>(p, v, 2, sl2mfn, |_, gflags, gfn| {
        if gflags & flags::PSE != 0 {
            (crate::fl1::get_fl1_shadow_status::<P, L>(p, d, gfn), None)
        } else {
            let (gl1mfn, _) = p.get_gfn_query_unlocked(d, gfn);
            (shadow_of(p, d, gl1mfn, L::SH_L1), Some(gl1mfn))
        }
    })
}

/// `sh_audit_l3_table` (multi.c 4102-4148), 4-level guests.
pub fn audit_l3_table<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    sl3mfn: Mfn,
) -> Result<(), Failure> {
    let d = p.vcpu_domain(v);
    let pv32 = p.is_pv_32bit_domain(d);
    audit_upper_table::<P, L>(p, v, 3, sl3mfn, |gi, _, gfn| {
        // A 32-bit PV guest's 4th L3 entry maps the L2 with Xen's slots.
        let t = if pv32 && gi == 3 { L::SH_L2H } else { L::SH_L2 };
        (shadow_of_gfn(p, d, gfn, t), None)
    })
}

/// `sh_audit_l4_table` (multi.c 4150-4193), 4-level guests.
pub fn audit_l4_table<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    sl4mfn: Mfn,
) -> Result<(), Failure> {
    let d = p.vcpu_domain(v);
    audit_upper_table::<P, L>(p, v, 4, sl4mfn, |_, _, gfn| {
        (shadow_of_gfn(p, d, gfn, L::SH_L3), None)
    })
}

/// The audit of one shadow of this guest level, by its type; shadows of
/// other types pass.
pub fn audit_shadow<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    smfn: Mfn,
    t: u32,
) -> Result<(), Failure> {
    if t == sh_type::NONE {
        Ok(())
    } else if t == L::SH_L1 {
        audit_l1_table::<P, L>(p, v, smfn)
    } else if t == L::SH_FL1 {
        audit_fl1_table::<P, L>(p, smfn)
    } else if t == L::SH_L2 || t == L::SH_L2H {
        audit_l2_table::<P, L>(p, v, smfn)
    } else if t == L::SH_L3 {
        audit_l3_table::<P, L>(p, v, smfn)
    } else if t == L::SH_L4 {
        audit_l4_table::<P, L>(p, v, smfn)
    } else {
        Ok(())
    }
}

/// C's `shadow_audit_tables(v)` for the vCPU's current mode (level `L`):
/// audits every shadow of that mode in the hash.  Paging lock held.
pub fn audit_tables<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu) -> Result<(), Failure> {
    let d = p.vcpu_domain(v);
    let mut result = Ok(());
    p.for_each_shadow(d, |smfn, t| {
        result = audit_shadow::<P, L>(p, v, smfn, t);
        result.is_err()
    });
    result
}

/// `sh_audit_gw` (multi.c 314-356): audits the shadows of the tables the
/// guest walk `gw` went through.
pub fn audit_gw<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    gw: &GuestWalk,
) -> Result<(), Failure> {
    let d = p.vcpu_domain(v);
    let status = |gmfn: Mfn, t: u32| {
        if t != sh_type::NONE && p.mfn_valid(gmfn) {
            let smfn = p.get_shadow_status(d, gmfn, t);
            p.mfn_valid(smfn).then_some(smfn)
        } else {
            None
        }
    };
    if L::LEVELS >= 4 {
        if let Some(s) = status(gw.l4mfn, L::SH_L4) {
            audit_l4_table::<P, L>(p, v, s)?;
        }
        if let Some(s) = status(gw.l3mfn, L::SH_L3) {
            audit_l3_table::<P, L>(p, v, s)?;
        }
    }
    if let Some(s) = status(gw.l2mfn, L::SH_L2) {
        audit_l2_table::<P, L>(p, v, s)?;
    }
    if L::LEVELS >= 4 {
        // 32-bit PV guests' L2 with Xen's slots.
        if let Some(s) = status(gw.l2mfn, L::SH_L2H) {
            audit_l2_table::<P, L>(p, v, s)?;
        }
    }
    if let Some(s) = status(gw.l1mfn, L::SH_L1) {
        audit_l1_table::<P, L>(p, v, s)?;
    } else {
        let gflags = L::guest_e_get_flags(gw.l2e);
        if gflags & flags::PRESENT != 0 && gflags & flags::PSE != 0 {
            let s = crate::fl1::get_fl1_shadow_status::<P, L>(p, d, L::guest_e_get_gfn(gw.l2e));
            if p.mfn_valid(s) {
                audit_fl1_table::<P, L>(p, s)?;
            }
        }
    }
    Ok(())
}

/// The fault handler's audit points (C's `shadow_audit_tables(v);
/// sh_audit_gw(v, &gw);` pairs): nothing unless auditing is switched on;
/// a failure is reported through the platform (Xen: message and BUG()).
/// Paging lock held.
#[inline(always)]
pub fn audit_fault<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, gw: &GuestWalk) {
    // The switch is tested inline (one load on the fault path when off);
    // the audit itself stays out of line.
    if p.shadow_audit_enabled() {
        audit_fault_on::<P, L>(p, v, gw);
    }
}

#[inline(never)]
fn audit_fault_on<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, gw: &GuestWalk) {
    if let Err(f) = audit_tables::<P, L>(p, v).and_then(|()| audit_gw::<P, L>(p, v, gw)) {
        p.shadow_audit_failed(&f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flags::*;

    #[test]
    fn flags_verdicts_follow_c_order() {
        let a = PRESENT | ACCESSED;
        assert_eq!(audit_flags(true, 4, 1, a | USER, a | USER), None);
        assert_eq!(
            audit_flags(true, 4, 1, 0, PRESENT),
            Some("shadow is present but guest is not present")
        );
        assert_eq!(
            audit_flags(false, 4, 1, a | GLOBAL, a | GLOBAL),
            Some("global bit set in PV shadow")
        );
        assert_eq!(audit_flags(true, 4, 1, a | GLOBAL, a | GLOBAL), None);
        assert_eq!(
            audit_flags(true, 4, 2, a | PSE, a | PSE),
            Some("PS bit set in shadow")
        );
        assert_eq!(
            audit_flags(true, 4, 1, PRESENT, PRESENT),
            Some("accessed bit not propagated")
        );
        assert_eq!(
            audit_flags(true, 4, 1, a | RW, a | RW),
            Some("dirty bit not propagated")
        );
        assert_eq!(audit_flags(true, 4, 1, a | RW | DIRTY, a | RW), None);
        // Upper levels have no dirty bit to propagate, unless a superpage.
        assert_eq!(audit_flags(true, 4, 2, a | RW, a | RW), None);
        assert_eq!(
            audit_flags(true, 4, 2, a | RW | PSE, a | RW),
            Some("dirty bit not propagated")
        );
        assert_eq!(
            audit_flags(true, 4, 1, a | USER, a),
            Some("user/supervisor bit does not match")
        );
        assert_eq!(
            audit_flags(true, 4, 1, a | NX_BIT, a),
            Some("NX bit does not match")
        );
        assert_eq!(
            audit_flags(true, 4, 1, a | DIRTY, a | RW),
            Some("shadow grants write access but guest does not")
        );
        // Read-only shadows of writable guest entries are normal.
        assert_eq!(audit_flags(true, 4, 1, a | RW | DIRTY, a), None);
        // PAE L3 shadows: only the first three checks.
        assert_eq!(audit_flags(true, 3, 3, PRESENT, PRESENT), None);
        assert_eq!(
            audit_flags(true, 4, 3, PRESENT, PRESENT),
            Some("accessed bit not propagated")
        );
    }

    #[test]
    fn fl1_flags() {
        assert!(fl1_flags_ok(0));
        assert!(fl1_flags_ok(
            0x1000 | (PRESENT | USER | RW | ACCESSED | DIRTY) as u64
        ));
        assert!(fl1_flags_ok(
            0x1000 | (PRESENT | USER | ACCESSED | AVAIL0) as u64
        ));
        assert!(!fl1_flags_ok(0x1000 | (PRESENT | ACCESSED) as u64));
        assert!(fl1_flags_ok(crate::propagate::sh_l1e_gnp_raw()));
    }

    #[test]
    fn message_is_cs() {
        let f = Failure {
            guest_levels: 2,
            shadow_levels: 3,
            gpte_bytes: 4,
            level: 1,
            gmfn: Mfn(0x1234),
            smfn: Mfn(0x42),
            entry: Some(EntryPair {
                index: 7,
                gptr: 0x1000,
                sptr: 0x2000,
                gentry: 0x5067,
                sentry: 0x8000_0000_0123_4065,
            }),
            what: What::Flags("NX bit does not match"),
        };
        let s = std::format!("{f}");
        assert_eq!(
            s,
            "Shadow 2-on-3 audit failed at level 1, index 7\n\
             gl1mfn = 01234 sl1mfn = 00042 &gl1e = 0000000000001000 &sl1e = 0000000000002000 gl1e = 00005067 \
             sl1e = 8000000001234065\nError: NX bit does not match\n"
        );
        let m = Failure {
            entry: None,
            level: 2,
            what: What::OutOfSync(Mfn(0x99)),
            ..f
        };
        assert_eq!(
            std::format!("{m}"),
            "Shadow 2-on-3 audit failed at level 2\ngl2mfn = 01234 sl2mfn = 00042 Error: gmfn 99 is out of sync\n"
        );
    }
}
