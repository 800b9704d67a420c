//! The oracle: a small x86 page walk written from the architecture manuals
//! (Intel SDM vol. 3, chapter 4; AMD APM vol. 2, chapter 5), independent of
//! the port and of the simulator's Xen-style walker.  It answers one
//! question: for this guest state and this access, what must the guest see?
//!
//! Covered: 32-bit paging (with 4 MiB pages when CR4.PSE), PAE paging (the
//! four PDPTEs as loaded at CR3 time) and 4-level paging; present and
//! reserved bits at every level; U/S, R/W with CR0.WP, NX (EFER.NXE), SMEP,
//! SMAP (EFLAGS.AC clear); the error code; which entries get A and D.
//!
//! Where Xen defines behaviour the architecture does not (a guest table in
//! a frame that is not RAM), the oracle follows Xen's documented choice,
//! marked "platform" below.  Under shadow paging Xen hides 1 GiB pages and
//! PSE-36 from the guest's CPUID, so those encodings are reserved here too.

use std::vec::Vec;

/// Paging mode and control bits of the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cpu {
    /// 2 (32-bit), 3 (PAE) or 4 (4-level).
    pub levels: u32,
    pub wp: bool,
    /// EFER.NXE (PAE and 4-level only).
    pub nxe: bool,
    pub smep: bool,
    pub smap: bool,
    /// CR4.PSE (32-bit paging only; PAE and 4-level always have 2 MiB pages).
    pub pse: bool,
    /// MAXPHYADDR.
    pub maxphyaddr: u32,
}

/// The access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Acc {
    pub write: bool,
    pub user: bool,
    pub fetch: bool,
}

/// What the guest must see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Translation to guest-physical address `gpa`.  `walked` lists the
    /// guest-physical addresses of the entries used, root first (they must
    /// have A set afterwards; the last one D too for a write).
    Ok { gpa: u64, walked: Vec<u64> },
    /// #PF with this error code.
    Fault(u32),
}

pub const PF_P: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_U: u32 = 4;
pub const PF_RSVD: u32 = 8;
pub const PF_I: u32 = 16;

const P: u64 = 1;
const RW: u64 = 2;
const US: u64 = 4;
const PS: u64 = 0x80;
const XD: u64 = 1 << 63;

/// What a walk found, before the access rights are applied: the walk
/// itself (which entries it reads, where it stops) does not depend on the
/// access, only the rights check and the error code do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walk {
    /// The guest-physical addresses of the entries read, root first (also
    /// those of a walk that faults).
    pub walked: Walked,
    pub end: WalkEnd,
}

/// The entries a walk read (at most 4: PAE walks start at the PDPTEs
/// loaded at CR3 time, 32-bit walks read 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Walked {
    addrs: [u64; 4],
    len: usize,
}

impl Walked {
    fn push(&mut self, a: u64) {
        self.addrs[self.len] = a;
        self.len += 1;
    }
    pub fn as_slice(&self) -> &[u64] {
        &self.addrs[..self.len]
    }
}

/// Where a [`Walk`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkEnd {
    /// A leaf at `gpa`, with the rights the entries on the way combine to.
    Leaf {
        gpa: u64,
        user_ok: bool,
        write_ok: bool,
        exec_ok: bool,
    },
    /// A not-present entry (or a table that is not RAM).
    NotPresent,
    /// A reserved bit set in a present entry.
    Reserved,
}

/// Translates `va` for `acc`.  `read(gpa, bytes)` reads guest-physical
/// memory; `None` means the address is not RAM.  `root` is CR3's address
/// (4-level, 32-bit) or, for PAE, the four PDPTEs loaded at CR3 time.
pub fn translate(
    cpu: &Cpu,
    read: &dyn Fn(u64, u32) -> Option<u64>,
    cr3: u64,
    pdptes: Option<[u64; 4]>,
    va: u64,
    acc: Acc,
) -> Outcome {
    rights(cpu, walk(cpu, read, cr3, pdptes, va), acc)
}

/// The walk of `va` ([`translate`] without the access).
pub fn walk(
    cpu: &Cpu,
    read: &dyn Fn(u64, u32) -> Option<u64>,
    cr3: u64,
    pdptes: Option<[u64; 4]>,
    va: u64,
) -> Walk {
    let maxpa_mask: u64 = (1u64 << cpu.maxphyaddr.min(52)) - 1;
    // Address bits M..51 must be zero in every 64-bit entry.
    let addr_rsvd = ((1u64 << 52) - 1) & !maxpa_mask;
    let xd_rsvd = if cpu.nxe { 0 } else { XD };

    let mut walked = Walked::default();
    let mut user_ok = true;
    let mut write_ok = true;
    let mut exec_ok = true;
    let done = |walked: Walked, end: WalkEnd| Walk { walked, end };

    let leaf_gpa: u64;
    match cpu.levels {
        4 | 3 => {
            let (start_level, mut table) = if cpu.levels == 4 {
                (4u32, cr3 & 0x000f_ffff_ffff_f000)
            } else {
                // PAE: the PDPTE was loaded at CR3 time.
                let pdpte = pdptes.unwrap_or([0; 4])[((va >> 30) & 3) as usize];
                if pdpte & P == 0 {
                    return done(walked, WalkEnd::NotPresent);
                }
                // PDPTE reserved bits: 1, 2, 5-8, 63 and the address bits.
                if pdpte & (0x1e6 | XD | addr_rsvd | (0x7ff << 52)) != 0 {
                    return done(walked, WalkEnd::Reserved);
                }
                (2u32, pdpte & 0x000f_ffff_ffff_f000)
            };
            let mut level = start_level;
            loop {
                let shift = 12 + 9 * (level - 1);
                let idx = (va >> shift) & 511;
                let ea = table + idx * 8;
                let Some(e) = read(ea, 8) else {
                    // platform: a table in a frame that is not RAM reads as
                    // not present (Xen's walker cannot map it).
                    return done(walked, WalkEnd::NotPresent);
                };
                walked.push(ea);
                if e & P == 0 {
                    return done(walked, WalkEnd::NotPresent);
                }
                let mut rsvd = e & (addr_rsvd | xd_rsvd) != 0;
                let large = e & PS != 0 && level <= 3;
                if level == 4 && e & PS != 0 {
                    rsvd = true;
                }
                if level == 3 && e & PS != 0 {
                    // platform: no 1 GiB pages under shadow paging.
                    rsvd = true;
                }
                if level == 2 && large {
                    // Bits 13-20 of a 2 MiB page entry.
                    rsvd |= e & 0x1f_e000 != 0;
                }
                if cpu.levels == 3 {
                    // PAE PDEs/PTEs: bits 52-62 reserved too.
                    rsvd |= e & (0x7ff << 52) != 0;
                }
                if rsvd {
                    return done(walked, WalkEnd::Reserved);
                }
                user_ok &= e & US != 0;
                write_ok &= e & RW != 0;
                exec_ok &= e & XD == 0 || !cpu.nxe;
                let frame = e & 0x000f_ffff_ffff_f000 & maxpa_mask;
                if level == 1 || large {
                    let span = (1u64 << shift) - 1;
                    leaf_gpa = (frame & !span) | (va & span);
                    break;
                }
                table = frame;
                level -= 1;
            }
        }
        _ => {
            // 32-bit paging: 32-bit entries, 10-bit indices.
            let va = va & 0xffff_ffff;
            let pde_a = (cr3 & 0xffff_f000) + ((va >> 22) & 1023) * 4;
            let Some(pde) = read(pde_a, 4) else {
                return done(walked, WalkEnd::NotPresent);
            };
            walked.push(pde_a);
            if pde & P == 0 {
                return done(walked, WalkEnd::NotPresent);
            }
            user_ok &= pde & US != 0;
            write_ok &= pde & RW != 0;
            if pde & PS != 0 && cpu.pse {
                // platform: no PSE-36, so bits 13-21 are reserved.
                if pde & 0x3f_e000 != 0 {
                    return done(walked, WalkEnd::Reserved);
                }
                leaf_gpa = (pde & 0xffc0_0000) | (va & 0x3f_ffff);
            } else {
                let pte_a = (pde & 0xffff_f000) + ((va >> 12) & 1023) * 4;
                let Some(pte) = read(pte_a, 4) else {
                    return done(walked, WalkEnd::NotPresent);
                };
                walked.push(pte_a);
                if pte & P == 0 {
                    return done(walked, WalkEnd::NotPresent);
                }
                user_ok &= pte & US != 0;
                write_ok &= pte & RW != 0;
                leaf_gpa = (pte & 0xffff_f000) | (va & 0xfff);
            }
        }
    }
    done(
        walked,
        WalkEnd::Leaf {
            gpa: leaf_gpa,
            user_ok,
            write_ok,
            exec_ok,
        },
    )
}

/// What the guest must see for `acc` after walk `w`: the rights check
/// (SDM 4.6) and the error code.
pub fn rights(cpu: &Cpu, w: Walk, acc: Acc) -> Outcome {
    match check(cpu, &w.end, acc) {
        Ok(gpa) => Outcome::Ok {
            gpa,
            walked: w.walked.as_slice().to_vec(),
        },
        Err(ec) => Outcome::Fault(ec),
    }
}

/// [`rights`] on where a walk ended: the gpa, or the #PF error code.
pub fn check(cpu: &Cpu, end: &WalkEnd, acc: Acc) -> Result<u64, u32> {
    let id = acc.fetch && (cpu.smep || (cpu.levels >= 3 && cpu.nxe));
    let ec = (if acc.write { PF_W } else { 0 })
        | (if acc.user { PF_U } else { 0 })
        | (if id { PF_I } else { 0 });
    let (gpa, user_ok, write_ok, exec_ok) = match *end {
        WalkEnd::NotPresent => return Err(ec),
        WalkEnd::Reserved => return Err(ec | PF_P | PF_RSVD),
        WalkEnd::Leaf {
            gpa,
            user_ok,
            write_ok,
            exec_ok,
        } => (gpa, user_ok, write_ok, exec_ok),
    };
    // Access rights (SDM 4.6).
    let allowed = if acc.user {
        user_ok && (!acc.write || write_ok) && (!acc.fetch || exec_ok)
    } else if acc.fetch {
        exec_ok && !(cpu.smep && user_ok)
    } else {
        !(cpu.smap && user_ok) && (!acc.write || write_ok || !cpu.wp)
    };
    if allowed {
        Ok(gpa)
    } else {
        Err(ec | PF_P)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::vec;

    fn cpu4() -> Cpu {
        Cpu {
            levels: 4,
            wp: true,
            nxe: true,
            smep: false,
            smap: false,
            pse: true,
            maxphyaddr: 40,
        }
    }

    struct Mem(HashMap<u64, u64>);
    impl Mem {
        fn read(&self, a: u64, _b: u32) -> Option<u64> {
            if a >= 0x10_0000 {
                return None;
            }
            Some(self.0.get(&a).copied().unwrap_or(0))
        }
    }

    const R: Acc = Acc {
        write: false,
        user: false,
        fetch: false,
    };

    fn four_level(leaf: u64) -> Mem {
        let mut m = HashMap::new();
        m.insert(0x1000, 0x2000 | 0x7);
        m.insert(0x2000, 0x3000 | 0x7);
        m.insert(0x3000, 0x4000 | 0x7);
        m.insert(0x4000, leaf);
        Mem(m)
    }

    #[test]
    fn four_level_rights() {
        let m = four_level(0x5000 | 0x5); // user, read-only
        let rd = |a, b| m.read(a, b);
        let w = Acc { write: true, ..R };
        let uw = Acc {
            write: true,
            user: true,
            fetch: false,
        };
        assert_eq!(
            translate(&cpu4(), &rd, 0x1000, None, 0x123, R),
            Outcome::Ok {
                gpa: 0x5123,
                walked: vec![0x1000, 0x2000, 0x3000, 0x4000]
            }
        );
        assert_eq!(
            translate(&cpu4(), &rd, 0x1000, None, 0x123, uw),
            Outcome::Fault(PF_P | PF_W | PF_U)
        );
        // Supervisor write to a read-only page: WP decides.
        assert_eq!(
            translate(&cpu4(), &rd, 0x1000, None, 0x0, w),
            Outcome::Fault(PF_P | PF_W)
        );
        let nowp = Cpu {
            wp: false,
            ..cpu4()
        };
        assert!(matches!(
            translate(&nowp, &rd, 0x1000, None, 0x0, w),
            Outcome::Ok { .. }
        ));
        // SMAP: supervisor data access to a user page.
        let smap = Cpu {
            smap: true,
            ..cpu4()
        };
        assert_eq!(
            translate(&smap, &rd, 0x1000, None, 0, R),
            Outcome::Fault(PF_P)
        );
        // SMEP: supervisor fetch from a user page.
        let f = Acc { fetch: true, ..R };
        let smep = Cpu {
            smep: true,
            ..cpu4()
        };
        assert_eq!(
            translate(&smep, &rd, 0x1000, None, 0, f),
            Outcome::Fault(PF_P | PF_I)
        );
    }

    #[test]
    fn four_level_faults() {
        let np = four_level(0x5000);
        let rd = |a, b| np.read(a, b);
        assert_eq!(
            translate(&cpu4(), &rd, 0x1000, None, 0, R),
            Outcome::Fault(0)
        );
        // NX with EFER.NXE: fetch faults; without NXE the bit is reserved.
        let nx = four_level(0x5000 | 0x3 | XD);
        let rd = |a, b| nx.read(a, b);
        let f = Acc { fetch: true, ..R };
        assert_eq!(
            translate(&cpu4(), &rd, 0x1000, None, 0, f),
            Outcome::Fault(PF_P | PF_I)
        );
        let nonx = Cpu {
            nxe: false,
            ..cpu4()
        };
        assert_eq!(
            translate(&nonx, &rd, 0x1000, None, 0, R),
            Outcome::Fault(PF_P | PF_RSVD)
        );
        // Address bits above MAXPHYADDR.
        let big = four_level((1 << 45) | 0x3);
        let rd = |a, b| big.read(a, b);
        assert_eq!(
            translate(&cpu4(), &rd, 0x1000, None, 0, R),
            Outcome::Fault(PF_P | PF_RSVD)
        );
        // A table outside RAM: not present (platform).
        let mut hole = four_level(0x5003);
        hole.0.insert(0x3000, 0x40_0000 | 0x7);
        let rd = |a, b| hole.read(a, b);
        assert_eq!(
            translate(&cpu4(), &rd, 0x1000, None, 0, R),
            Outcome::Fault(0)
        );
    }

    #[test]
    fn superpages() {
        let mut m = four_level(0);
        m.0.insert(0x3000, 0x20_0000 | 0x83);
        let rd = |a, b| m.read(a, b);
        assert_eq!(
            translate(&cpu4(), &rd, 0x1000, None, 0x1_2345, R),
            Outcome::Ok {
                gpa: 0x21_2345,
                walked: vec![0x1000, 0x2000, 0x3000]
            }
        );
        m.0.insert(0x3000, 0x20_2000 | 0x83);
        let rd = |a, b| m.read(a, b);
        assert_eq!(
            translate(&cpu4(), &rd, 0x1000, None, 0, R),
            Outcome::Fault(PF_P | PF_RSVD)
        );
        // 1 GiB pages are reserved under shadow paging.
        m.0.insert(0x2000, 0x4000_0000 | 0x83);
        let rd = |a, b| m.read(a, b);
        assert_eq!(
            translate(&cpu4(), &rd, 0x1000, None, 0, R),
            Outcome::Fault(PF_P | PF_RSVD)
        );
    }

    #[test]
    fn two_level_and_pae() {
        let mut m = HashMap::new();
        m.insert(0x1000 + 4, 0x2000 | 0x7); // pde for va 0x40_0000
        m.insert(0x2000 + 8, 0x9000 | 0x7); // pte for va 0x40_2000
        m.insert(0x1000 + 8, 0x80_0000 | 0x87); // 4 MiB page at va 0x80_0000
        let m = Mem(m);
        let rd = |a, b| m.read(a, b);
        let c2 = Cpu {
            levels: 2,
            nxe: false,
            ..cpu4()
        };
        assert_eq!(
            translate(&c2, &rd, 0x1000, None, 0x40_2abc, R),
            Outcome::Ok {
                gpa: 0x9abc,
                walked: vec![0x1004, 0x2008]
            }
        );
        assert!(matches!(
            translate(&c2, &rd, 0x1000, None, 0x81_0000, R),
            Outcome::Ok { gpa: 0x81_0000, .. }
        ));
        let nopse = Cpu { pse: false, ..c2 };
        // Without CR4.PSE the PS bit is ignored: the "PTE" is read from 0x80_0000.
        assert_eq!(
            translate(&nopse, &rd, 0x1000, None, 0x81_0000, R),
            Outcome::Fault(0)
        );
        // Fetches report I/D only with SMEP on 32-bit paging.
        let f = Acc {
            fetch: true,
            user: true,
            write: false,
        };
        assert_eq!(
            translate(&c2, &rd, 0x1000, None, 0x1000, f),
            Outcome::Fault(PF_U)
        );

        let mut m = HashMap::new();
        m.insert(0x3000, 0x4000 | 0x7);
        m.insert(0x4000, 0x5000 | 0x7);
        let m = Mem(m);
        let rd = |a, b| m.read(a, b);
        let c3 = Cpu {
            levels: 3,
            ..cpu4()
        };
        let pd = [0x3000 | 1, 0, 0x3000 | 0x3, 0];
        assert!(matches!(
            translate(&c3, &rd, 0, Some(pd), 0x10, R),
            Outcome::Ok { gpa: 0x5010, .. }
        ));
        assert_eq!(
            translate(&c3, &rd, 0, Some(pd), 0x4000_0000, R),
            Outcome::Fault(0)
        );
        // RW in a PDPTE is reserved.
        assert_eq!(
            translate(&c3, &rd, 0, Some(pd), 0x8000_0000, R),
            Outcome::Fault(PF_P | PF_RSVD)
        );
    }
}
