//! Plain values of Xen's shadow code: frame numbers, PTE flag bits, shadow
//! type codes, `shadow_flags` bits, `shadow_set_lNe()` results and p2m types.
//! Numbers are those of the one configuration the Rust build supports
//! (CONFIG_HVM=y, CONFIG_PV=y; the Kconfig option enforces it), checked
//! against Xen's headers by `rust-glue.c`'s BUILD_BUG_ONs.

/// A machine frame number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash, Default)]
#[repr(transparent)]
pub struct Mfn(pub u64);

/// A guest frame number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash, Default)]
#[repr(transparent)]
pub struct Gfn(pub u64);

/// `INVALID_MFN` / `INVALID_GFN`.
pub const INVALID_MFN: Mfn = Mfn(!0);
pub const INVALID_GFN: Gfn = Gfn(!0);

impl Mfn {
    pub const fn valid_bits(self) -> bool {
        self.0 != INVALID_MFN.0
    }
    /// `mfn_to_maddr`.
    pub const fn maddr(self) -> u64 {
        self.0 << PAGE_SHIFT
    }
    pub const fn add(self, n: u64) -> Mfn {
        Mfn(self.0.wrapping_add(n))
    }
}

impl Gfn {
    pub const fn gaddr(self) -> u64 {
        self.0 << PAGE_SHIFT
    }
}

pub const PAGE_SHIFT: u32 = 12;
pub const PAGE_SIZE: u64 = 1 << PAGE_SHIFT;
pub const PAGE_MASK: u64 = !(PAGE_SIZE - 1);
/// `PADDR_BITS`, `PADDR_MASK`.
pub const PADDR_BITS: u32 = 52;
pub const PADDR_MASK: u64 = (1 << PADDR_BITS) - 1;

/// PTE flag bits as `get_pte_flags()` returns them: bits 0-11 of the
/// entry, and bits 52-63 folded down to 12-23 (so NX is bit 23).
pub mod flags {
    pub const PRESENT: u32 = 0x001;
    pub const RW: u32 = 0x002;
    pub const USER: u32 = 0x004;
    pub const PWT: u32 = 0x008;
    pub const PCD: u32 = 0x010;
    pub const ACCESSED: u32 = 0x020;
    pub const DIRTY: u32 = 0x040;
    /// PSE in L2/L3 entries, PAT in L1 entries.
    pub const PSE: u32 = 0x080;
    pub const PAT: u32 = 0x080;
    /// PAT bit of a superpage entry.
    pub const PSE_PAT: u32 = 0x1000;
    pub const GLOBAL: u32 = 0x100;
    pub const AVAIL0: u32 = 0x200;
    pub const AVAIL1: u32 = 0x400;
    pub const AVAIL2: u32 = 0x800;
    pub const AVAIL: u32 = 0xE00;
    /// `_PAGE_NX_BIT`; `_PAGE_NX` is this or 0 depending on `cpu_has_nx`
    /// (see `Platform::page_nx`).
    pub const NX_BIT: u32 = 1 << 23;
    /// `_PAGE_GUEST_KERNEL`.
    pub const GUEST_KERNEL: u32 = 1 << 12;
    pub const CACHE_ATTRS: u32 = PAT | PCD | PWT;
}

/// `get_pte_flags()`.
pub const fn get_pte_flags(x: u64) -> u32 {
    (((x >> 40) as u32) & !0xFFF) | ((x as u32) & 0xFFF)
}

/// `put_pte_flags()`.
pub const fn put_pte_flags(f: u32) -> u64 {
    (((f as u64) & !0xFFF) << 40) | ((f as u64) & 0xFFF)
}

/// `lNe_get_mfn(e)` of a 64-bit (shadow or PAE/long-mode guest) entry.
pub const fn shadow_e_get_mfn(e: u64) -> Mfn {
    Mfn((e & PADDR_MASK & PAGE_MASK) >> PAGE_SHIFT)
}

/// `lNe_from_mfn(mfn, flags)` of a 64-bit entry (the layout is shared by
/// every level).
pub const fn shadow_e_from_mfn(mfn: Mfn, f: u32) -> u64 {
    mfn.maddr() | put_pte_flags(f)
}

/// `ROOT_PAGETABLE_FIRST_XEN_SLOT`, `ROOT_PAGETABLE_LAST_XEN_SLOT`: Xen's
/// slots of a PV guest's L4.
pub const ROOT_PAGETABLE_FIRST_XEN_SLOT: usize = 256;
pub const ROOT_PAGETABLE_LAST_XEN_SLOT: usize = 271;

/// `is_guest_l4_slot(d, slot)` (x86_64/page.h): a 32-bit PV guest owns only
/// slot 0 of its (Xen-built) L4; a 64-bit one everything but Xen's slots.
pub const fn is_guest_l4_slot(pv32: bool, slot: usize) -> bool {
    if pv32 {
        slot == 0
    } else {
        slot < ROOT_PAGETABLE_FIRST_XEN_SLOT || slot > ROOT_PAGETABLE_LAST_XEN_SLOT
    }
}

/// Shadow type codes (private.h, CONFIG_HVM numbering).
pub mod sh_type {
    pub const NONE: u32 = 0;
    pub const MIN_SHADOW: u32 = 1;
    pub const L1_32: u32 = 1;
    pub const FL1_32: u32 = 2;
    pub const L2_32: u32 = 3;
    pub const L1_PAE: u32 = 4;
    pub const FL1_PAE: u32 = 5;
    pub const L2_PAE: u32 = 6;
    pub const L1_64: u32 = 7;
    pub const FL1_64: u32 = 8;
    pub const L2_64: u32 = 9;
    pub const L2H_64: u32 = 10;
    pub const L3_64: u32 = 11;
    pub const L4_64: u32 = 12;
    pub const MAX_SHADOW: u32 = 12;
    pub const P2M_TABLE: u32 = 13;
    pub const MONITOR_TABLE: u32 = 14;
    pub const OOS_SNAPSHOT: u32 = 15;
    pub const UNUSED: u32 = 16;
}

/// `shadow_flags` bits of guest pages (private.h).
pub mod shf {
    use super::sh_type as t;
    pub const L1_32: u32 = 1 << t::L1_32;
    pub const FL1_32: u32 = 1 << t::FL1_32;
    pub const L2_32: u32 = 1 << t::L2_32;
    pub const L1_PAE: u32 = 1 << t::L1_PAE;
    pub const FL1_PAE: u32 = 1 << t::FL1_PAE;
    pub const L2_PAE: u32 = 1 << t::L2_PAE;
    pub const L1_64: u32 = 1 << t::L1_64;
    pub const FL1_64: u32 = 1 << t::FL1_64;
    pub const L2_64: u32 = 1 << t::L2_64;
    pub const L2H_64: u32 = 1 << t::L2H_64;
    pub const L3_64: u32 = 1 << t::L3_64;
    pub const L4_64: u32 = 1 << t::L4_64;
    pub const PAGE_TYPE_MASK: u32 = ((1 << (t::MAX_SHADOW + 1)) - 1) - ((1 << t::MIN_SHADOW) - 1);
    pub const SHF_32: u32 = L1_32 | FL1_32 | L2_32;
    pub const SHF_PAE: u32 = L1_PAE | FL1_PAE | L2_PAE;
    pub const SHF_64: u32 = L1_64 | FL1_64 | L2_64 | L2H_64 | L3_64 | L4_64;
    pub const L1_ANY: u32 = L1_32 | L1_PAE | L1_64;
    pub const FL1_ANY: u32 = FL1_32 | FL1_PAE | FL1_64;
    pub const OUT_OF_SYNC: u32 = 1 << (t::MAX_SHADOW + 1);
    pub const OOS_MAY_WRITE: u32 = 1 << (t::MAX_SHADOW + 2);
}

/// Results of `shadow_set_lNe()` (private.h).
pub mod set {
    pub const CHANGED: i32 = 0x1;
    pub const FLUSH: i32 = 0x2;
    pub const ERROR: i32 = 0x4;
}

/// `SHOPT_*` optimisation bits (private.h); all are compiled in with HVM.
pub mod shopt {
    pub const WRITABLE_HEURISTIC: u32 = 0x01;
    pub const EARLY_UNSHADOW: u32 = 0x02;
    pub const FAST_FAULT_PATH: u32 = 0x04;
    pub const PREFETCH: u32 = 0x08;
    pub const LINUX_L3_TOPLEVEL: u32 = 0x10;
    pub const SKIP_VERIFY: u32 = 0x20;
    pub const VIRTUAL_TLB: u32 = 0x40;
    pub const FAST_EMULATION: u32 = 0x80;
    pub const OUT_OF_SYNC: u32 = 0x100;
}

/// `p2m_type_t` (asm/p2m.h).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u32)]
pub enum P2mType {
    RamRw = 0,
    Invalid = 1,
    RamLogdirty = 2,
    RamRo = 3,
    MmioDm = 4,
    MmioDirect = 5,
    PopulateOnDemand = 6,
    GrantMapRw = 7,
    GrantMapRo = 8,
    RamPagingOut = 9,
    RamPaged = 10,
    RamPagingIn = 11,
    RamShared = 12,
    RamBroken = 13,
    MapForeign = 14,
    IoreqServer = 15,
}

impl P2mType {
    /// Converts Xen's integer; unknown values become `Invalid` (never UB).
    pub const fn from_raw(x: u32) -> P2mType {
        use P2mType::*;
        match x {
            0 => RamRw,
            1 => Invalid,
            2 => RamLogdirty,
            3 => RamRo,
            4 => MmioDm,
            5 => MmioDirect,
            6 => PopulateOnDemand,
            7 => GrantMapRw,
            8 => GrantMapRo,
            9 => RamPagingOut,
            10 => RamPaged,
            11 => RamPagingIn,
            12 => RamShared,
            13 => RamBroken,
            14 => MapForeign,
            15 => IoreqServer,
            _ => Invalid,
        }
    }
    const fn mask(self) -> u32 {
        1 << (self as u32)
    }
    const fn is(self, m: u32) -> bool {
        self.mask() & m != 0
    }
    /// `p2m_is_ram`.
    pub const fn is_ram(self) -> bool {
        use P2mType::*;
        self.is(RamRw.mask()
            | RamLogdirty.mask()
            | RamRo.mask()
            | RamPagingOut.mask()
            | RamPaged.mask()
            | RamPagingIn.mask()
            | RamShared.mask()
            | IoreqServer.mask())
    }
    /// `p2m_is_mmio`.
    pub const fn is_mmio(self) -> bool {
        self.is(P2mType::MmioDm.mask() | P2mType::MmioDirect.mask())
    }
    /// `p2m_is_grant`.
    pub const fn is_grant(self) -> bool {
        self.is(P2mType::GrantMapRw.mask() | P2mType::GrantMapRo.mask())
    }
    /// `p2m_is_readonly` (P2M_RO_TYPES).
    pub const fn is_readonly(self) -> bool {
        use P2mType::*;
        self.is(RamLogdirty.mask() | RamRo.mask() | GrantMapRo.mask() | RamShared.mask())
    }
    /// `p2m_is_discard_write`.
    pub const fn is_discard_write(self) -> bool {
        self.is(P2mType::RamRo.mask() | P2mType::GrantMapRo.mask())
    }
    /// `p2m_is_pod`.
    pub const fn is_pod(self) -> bool {
        matches!(self, P2mType::PopulateOnDemand)
    }
    /// `p2m_is_valid`: RAM or MMIO.
    pub const fn is_valid(self) -> bool {
        self.is_ram() || self.is_mmio()
    }
    /// `p2m_is_paging`: always false, CONFIG_MEM_PAGING is off in the
    /// supported configuration (P2M_PAGING_TYPES = 0).
    pub const fn is_paging(self) -> bool {
        false
    }
}

/// `shadow_size(type)`: pages making up one shadow of that type
/// (multi-page shadows of 32-bit guests).
pub const fn shadow_size(t: u32) -> u32 {
    match t {
        sh_type::L1_32 | sh_type::FL1_32 => 2,
        sh_type::L2_32 => 4,
        sh_type::NONE..=sh_type::UNUSED => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pte_flag_folding_round_trips() {
        let e: u64 = (1 << 63) | 0x1234_5000 | 0x67;
        let f = get_pte_flags(e);
        assert_eq!(f & flags::NX_BIT, flags::NX_BIT);
        assert_eq!(f & 0xFFF, 0x67);
        assert_eq!(put_pte_flags(f), (1 << 63) | 0x67);
    }

    #[test]
    fn shf_bits_do_not_overlap_oos_bits() {
        assert_eq!(
            shf::PAGE_TYPE_MASK & (shf::OUT_OF_SYNC | shf::OOS_MAY_WRITE),
            0
        );
        assert_eq!(shf::PAGE_TYPE_MASK, 0x1ffe);
    }

    #[test]
    fn p2m_classes() {
        assert!(P2mType::RamLogdirty.is_ram() && P2mType::RamLogdirty.is_readonly());
        assert!(P2mType::MmioDirect.is_valid() && !P2mType::Invalid.is_valid());
        assert!(!P2mType::GrantMapRw.is_valid());
        assert_eq!(P2mType::from_raw(99), P2mType::Invalid);
    }
}
