//! `cargo xtask profile OP MODE [--skip N] [--fn F] [--start K]`: where the instructions of one
//! benchmark operation go, function by function, C against Rust (issue 7:
//! "profile with the instruction counts, not by guessing").
//!
//! Each hypervisor boots the benchmark guest (`bench=OP`) under QEMU TCG
//! with `-icount` and its gdb stub.  gdb (batch, Python) puts a hardware
//! breakpoint on the guest's first `RDTSC` of the operation's timing
//! window, lets `--skip` samples pass (warm state, default 20), then
//! single-steps until the guest reaches another `RDTSC` of that function,
//! recording every instruction address: the operation's exact instruction
//! trace through Xen (QEMU's default single-step masks interrupts and
//! timers, so nothing else is in it).  The trace is attributed to the
//! symbols of each xen-syms and printed side by side: instructions and
//! calls per function.
//!
//! The window's instructions are the benchmark's figure plus the empty
//! window (two RDTSCs), so totals match `cargo xtask bench` within a few
//! instructions.  One trace takes 10-60 s.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::harness::{self, Mode};
use crate::xen::{self, Variant};
use crate::{build_dir, setup, step, Result};

/// The gdb script: env T_START (hex), T_ENDS (hex list), T_PORT, T_SKIP,
/// T_OUT.
const TRACE_PY: &str = r#"
import gdb, os
start = int(os.environ["T_START"], 16)
ends = set(int(x, 16) for x in os.environ["T_ENDS"].split(","))
gdb.execute("set pagination off")
gdb.execute("set architecture i386:x86-64")
gdb.execute("target remote :" + os.environ["T_PORT"])
gdb.execute("hbreak *%#x" % start)
for i in range(int(os.environ["T_SKIP"])):
    gdb.execute("continue", to_string=True)
gdb.execute("delete")
pcs = []
while len(pcs) < 5000000:
    gdb.execute("stepi", to_string=True)
    pc = int(gdb.parse_and_eval("$pc")) & 0xffffffffffffffff
    if pc in ends:
        break
    pcs.append(pc)
with open(os.environ["T_OUT"], "w") as f:
    f.write("".join("%x\n" % p for p in pcs))
gdb.execute("kill")
"#;

/// Text symbols of an ELF, sorted by address (`nm -n -C`).
struct Symbols(Vec<(u64, String)>);

impl Symbols {
    fn load(elf: &Path) -> Result<Symbols> {
        let out = setup::output(Command::new("nm").args(["-n", "-C"]).arg(elf))?;
        let mut v = Vec::new();
        for l in out.lines() {
            let mut it = l.splitn(3, ' ');
            let (Some(a), Some(t), Some(n)) = (it.next(), it.next(), it.next()) else {
                continue;
            };
            if matches!(t, "t" | "T" | "w" | "W") {
                if let Ok(a) = u64::from_str_radix(a, 16) {
                    v.push((a, n.to_string()));
                }
            }
        }
        Ok(Symbols(v))
    }

    /// The symbol containing `pc` and whether `pc` is its first byte.
    fn find(&self, pc: u64) -> (&str, bool) {
        match self.0.partition_point(|(a, _)| *a <= pc) {
            0 => ("?", false),
            i => (self.0[i - 1].1.as_str(), self.0[i - 1].0 == pc),
        }
    }
}

/// Operations whose window is in code the benchmark dom0 copies into a
/// domU it runs (`tests/guest/src/bench/dirty.rs`): the symbol that starts
/// that code in the guest image, and the domU virtual address it runs at.
const DOMU_CODE: &[(&str, &str, u64)] = &[("logdirty_dirty_page", "domu_blob_start", 0x4000)];

/// The guest's RDTSC addresses inside function `func` (demangled name
/// `func` or ending in `::func`), from its disassembly, relocated by
/// `reloc` = (where `func` starts in the image, where it runs) for code
/// that runs elsewhere.
fn rdtscs(guest: &Path, func: &str, reloc: Option<u64>) -> Result<Vec<u64>> {
    let dis = setup::output(
        Command::new("objdump")
            .args(["-d", "--no-show-raw-insn", "-C"])
            .arg(guest),
    )?;
    let mut inside = false;
    let mut found = Vec::new();
    let mut base = 0;
    for l in dis.lines() {
        if let Some(head) = l.strip_suffix(">:") {
            let (addr, name) = head.split_once(" <").unwrap_or(("", ""));
            inside = name == func || name.ends_with(&format!("::{func}"));
            if inside {
                base = u64::from_str_radix(addr.trim(), 16).map_err(|e| e.to_string())?;
            }
        } else if inside && l.trim_end().ends_with("rdtsc") {
            let addr = l.trim().split(':').next().unwrap_or("");
            let a = u64::from_str_radix(addr, 16).map_err(|e| e.to_string())?;
            found.push(match reloc {
                Some(to) => a - base + to,
                None => a,
            });
        }
    }
    if found.len() < 2 {
        return Err(format!("no RDTSC pair in guest function {func}"));
    }
    Ok(found)
}

/// One traced run: the instruction addresses of the window.
fn trace(
    xen_dir: &Path,
    mode: Mode,
    guest: &Path,
    op: &str,
    window: (u64, &[u64]),
    skip: u32,
    port: u16,
    out: &Path,
) -> Result<Vec<u64>> {
    let script = build_dir().join("profile/trace.py");
    fs::write(&script, TRACE_PY).map_err(|e| e.to_string())?;
    let append = format!(
        "console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot=false {} \
         dom0_mem=256M,max:256M dom0_max_vcpus=1",
        mode.xen_dom0_args()
    );
    let initrd = format!("{} mode={} bench={op}", guest.display(), mode.guest_mode());
    let serial = out.with_extension("serial");
    // A trace left by an earlier run must not stand in for this one if gdb
    // fails before writing (its script writes `out` only at the end).
    match fs::remove_file(out) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.to_string()),
        _ => {}
    }
    let mut qemu = harness::qemu_xen("1600", "1", &xen_dir.join("xen"), &append, &initrd)
        .arg("-serial")
        .arg(format!("file:{}", serial.display()))
        .args(["-icount", "shift=0,sleep=off", "-S", "-gdb"])
        .arg(format!("tcp::{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("qemu-system-x86_64: {e}"))?;
    std::thread::sleep(std::time::Duration::from_secs(1));
    let ends: Vec<String> = window.1.iter().map(|a| format!("{a:x}")).collect();
    let gdb = Command::new("gdb")
        .args(["-batch", "-nx", "-x"])
        .arg(&script)
        .env("T_START", format!("{:x}", window.0))
        .env("T_ENDS", ends.join(","))
        .env("T_PORT", port.to_string())
        .env("T_SKIP", skip.to_string())
        .env("T_OUT", out)
        .stdin(Stdio::null())
        .output();
    let _ = qemu.kill();
    let _ = qemu.wait();
    let gdb = gdb.map_err(|e| format!("gdb: {e}"))?;
    let text = fs::read_to_string(out).map_err(|e| {
        format!(
            "{}: {e} (gdb: {})",
            out.display(),
            String::from_utf8_lossy(&gdb.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )
    })?;
    text.lines()
        .map(|l| u64::from_str_radix(l, 16).map_err(|e| e.to_string()))
        .collect()
}

/// Per function: (instructions, calls), and the total.
fn attribute(pcs: &[u64], syms: &Symbols) -> (BTreeMap<String, (u64, u64)>, u64) {
    let mut per: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for &pc in pcs {
        let (name, entry) = if pc >= 0xffff_8000_0000_0000 {
            syms.find(pc)
        } else {
            ("<guest>", false)
        };
        let e = per.entry(name.to_string()).or_default();
        e.0 += 1;
        e.1 += u64::from(entry);
    }
    (per, pcs.len() as u64)
}

pub fn profile(args: &[String]) -> Result {
    let mut words = Vec::new();
    let mut skip = 20;
    let mut func = None;
    let mut start = 0usize;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--skip" => skip = crate::num_arg(&mut it, a)?,
            "--fn" => func = Some(it.next().ok_or("--fn needs a guest function name")?.clone()),
            "--start" => start = crate::num_arg(&mut it, a)?,
            w => words.push(w.to_string()),
        }
    }
    let [op, mode] = words.as_slice() else {
        return Err(
            "usage: cargo xtask profile OP MODE [--skip N] [--fn GUEST_FN] [--start K]".into(),
        );
    };
    let mode = Mode::parse(mode)?;
    // The guest function holding the window: the operation's name without
    // a size suffix (cr3_switch16 -> cr3_switch, pte_burst32 -> pte_burst).
    let domu = DOMU_CODE.iter().find(|d| d.0 == op.as_str());
    let func = func.unwrap_or_else(|| match domu {
        Some(d) => d.1.to_string(),
        None => op
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .to_string(),
    });

    setup::setup()?;
    let src = xen::fetch()?;
    let reference = xen::build(&src, Variant::Reference, false)?;
    let rust = xen::build(&src, Variant::Rust, false)?;
    let guests = harness::build_guests()?;
    let guest: PathBuf = guests
        .get(mode.guest_mode())
        .ok_or_else(|| format!("no guest kernel for {}", mode.name()))?
        .clone();
    let marks = rdtscs(&guest, &func, domu.map(|d| d.2))?;
    // The window opens at RDTSC number `start` in address order (the
    // compiler may place the loop's closing RDTSC first, as in `invlpg`:
    // then `--start 1`) and closes at any other.
    let first = *marks
        .get(start)
        .ok_or_else(|| format!("{func} has {} RDTSCs, no number {start}", marks.len()))?;
    let ends: Vec<u64> = marks.iter().copied().filter(|&a| a != first).collect();
    let window = (first, ends.as_slice());
    let dir = build_dir().join("profile");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;

    step!(
        "tracing {op} in {} on both hypervisors (gdb single-step)",
        mode.name()
    );
    let port = 20000 + (std::process::id() % 20000) as u16;
    let (c, r) = std::thread::scope(|s| {
        let c = s.spawn(|| {
            let out = dir.join(format!("reference-{}-{op}.trace", mode.name()));
            trace(&reference, mode, &guest, op, window, skip, port, &out)
        });
        let r = s.spawn(|| {
            let out = dir.join(format!("rust-{}-{op}.trace", mode.name()));
            trace(&rust, mode, &guest, op, window, skip, port + 1, &out)
        });
        (c.join(), r.join())
    });
    let c = c.map_err(|_| "trace thread panicked")??;
    let r = r.map_err(|_| "trace thread panicked")??;
    let (cs, rs) = (
        Symbols::load(&reference.join("xen-syms"))?,
        Symbols::load(&rust.join("xen-syms"))?,
    );
    let (cp, ct) = attribute(&c, &cs);
    let (rp, rt) = attribute(&r, &rs);

    let mut names: Vec<&String> = cp.keys().chain(rp.keys()).collect();
    names.sort();
    names.dedup();
    names.sort_by_key(|n| {
        let a = cp.get(*n).map_or(0, |x| x.0);
        let b = rp.get(*n).map_or(0, |x| x.0);
        std::cmp::Reverse(a.max(b))
    });
    let mut t = String::new();
    writeln!(
        t,
        "{op} {}: C {ct} instructions, Rust {rt} (Rust/C {:.3})",
        mode.name(),
        rt as f64 / ct.max(1) as f64
    )
    .ok();
    writeln!(
        t,
        "{:>8} {:>6} {:>8} {:>6}  function",
        "C insns", "calls", "Rust", "calls"
    )
    .ok();
    for n in names {
        let (a, ac) = cp.get(n).copied().unwrap_or_default();
        let (b, bc) = rp.get(n).copied().unwrap_or_default();
        let short: String = n.chars().take(90).collect();
        writeln!(t, "{a:>8} {ac:>6} {b:>8} {bc:>6}  {short}").ok();
    }
    print!("{t}");
    let out = dir.join(format!("{}-{op}.txt", mode.name()));
    fs::write(&out, &t).map_err(|e| e.to_string())?;
    step!("traces and table in {}", dir.display());
    Ok(())
}
