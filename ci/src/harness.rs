//! The QEMU harness: boots a hypervisor with a guest kernel as dom0 under
//! `qemu-system-x86_64 -accel tcg` and watches the serial console until the
//! guest's result line, a Xen panic, a machine reset or a timeout.  Logs are
//! kept under build/logs/.  Also the main job and the test command.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::xen::{self, Variant};
use crate::{build_dir, repo, setup, status, step, Result};

/// How the guest kernel runs as dom0.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// PVH dom0 (HVM container) that enters long mode with its own page
    /// tables; TCG has no nested paging, so it runs on shadow paging.
    Hvm64,
    /// 32-bit PVH dom0 with 2-level paging, 4 KiB pages.
    Hvm32,
    /// 32-bit PVH dom0 with 2-level paging and 4 MiB pages.
    Hvm32Pse,
    /// 32-bit PVH dom0 with PAE paging.
    Hvm32Pae,
    /// 64-bit PV dom0 in shadow mode (`dom0=shadow`).
    Pv64Shadow,
    /// 64-bit PV dom0 without shadow paging (Xen's PV MMU only).
    Pv64,
    /// 32-bit PAE PV dom0 in shadow mode (`dom0=shadow`).
    Pv32PaeShadow,
    /// 32-bit PAE PV dom0 without shadow paging.
    Pv32Pae,
}

impl Mode {
    pub const ALL: &'static [Mode] = &[
        Mode::Hvm64,
        Mode::Hvm32,
        Mode::Hvm32Pse,
        Mode::Hvm32Pae,
        Mode::Pv64Shadow,
        Mode::Pv64,
        Mode::Pv32PaeShadow,
        Mode::Pv32Pae,
    ];

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|m| m.name()).collect();
                format!("unknown mode {s:?} ({})", names.join(", "))
            })
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Hvm64 => "hvm64",
            Mode::Hvm32 => "hvm32",
            Mode::Hvm32Pse => "hvm32pse",
            Mode::Hvm32Pae => "hvm32pae",
            Mode::Pv64Shadow => "pv64-shadow",
            Mode::Pv64 => "pv64",
            Mode::Pv32PaeShadow => "pv32pae-shadow",
            Mode::Pv32Pae => "pv32pae",
        }
    }

    /// The guest kernel's own name for the paging mode it sets up.
    pub fn guest_mode(self) -> &'static str {
        match self {
            Mode::Pv64Shadow => "pv64",
            Mode::Pv32PaeShadow => "pv32pae",
            m => m.name(),
        }
    }

    /// Whether dom0 runs on shadow paging in this mode.
    fn shadowed(self) -> bool {
        !matches!(self, Mode::Pv64 | Mode::Pv32Pae)
    }

    pub fn xen_dom0_args(self) -> &'static str {
        match self {
            Mode::Hvm64 | Mode::Hvm32 | Mode::Hvm32Pse | Mode::Hvm32Pae => {
                "dom0=pvh,shadow dom0-iommu=none"
            }
            Mode::Pv64Shadow | Mode::Pv32PaeShadow => "dom0=shadow",
            Mode::Pv64 | Mode::Pv32Pae => "",
        }
    }
}

/// The built guest kernels: guest mode name -> ELF.
pub type Guests = BTreeMap<String, PathBuf>;

/// Builds the guest test kernels.  tests/guest/build.sh prints the ELF
/// paths; `guest64.elf` serves hvm64 and pv64, `guest32.elf` the 32-bit
/// modes (the mode is chosen on the dom0 command line).
pub fn build_guests() -> Result<Guests> {
    step!("building guest test kernels (tests/guest)");
    let out = setup::output(Command::new("bash").arg(repo().join("tests/guest/build.sh")))?;
    let mut guests = Guests::new();
    for line in out.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let path = PathBuf::from(line);
        let modes: &[&str] = match path.file_name().and_then(|n| n.to_str()) {
            Some("guest64.elf") => &["hvm64", "pv64"],
            Some("guest32.elf") => &["hvm32", "hvm32pse", "hvm32pae", "pv32pae"],
            _ => return Err(format!("tests/guest/build.sh: unexpected output {line:?}")),
        };
        for m in modes {
            guests.insert(m.to_string(), path.clone());
        }
    }
    if guests.is_empty() {
        return Err("tests/guest/build.sh listed no kernel".into());
    }
    Ok(guests)
}

/// How a boot ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The guest printed `N passed, M failed`.
    Result {
        passed: u32,
        failed: u32,
    },
    /// Xen panicked; the line says why (BUG, assertion, fatal fault).
    Panic(String),
    /// QEMU exited (machine reset with -no-reboot, or poweroff) first.
    Exited,
    Timeout,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Result { passed, failed } => write!(f, "{passed} passed, {failed} failed"),
            Outcome::Panic(why) => write!(f, "Xen panic: {why}"),
            Outcome::Exited => write!(f, "machine stopped before the guest's result line"),
            Outcome::Timeout => write!(f, "timeout"),
        }
    }
}

pub struct Finished {
    pub outcome: Outcome,
    pub log: String,
    pub log_path: PathBuf,
    /// The Xen banner and shadow-implementation lines.
    pub banner: Vec<String>,
    pub seconds: f64,
}

/// Guest tests an audited boot skips:
/// * `shadow_pool_pressure` builds thousands of page tables, and the audit
///   checks every shadow at every fault;
/// * `pse_bit_ignored` leaves a state that C's own audit rejects ("accessed
///   bit not propagated", reproduced with the reference's debug build):
///   without CR4.PSE, guest_walk.c clears PS in its copy of the PDE, so
///   set_ad_bits' cmpxchg against the guest's PDE (PS still set) fails and
///   the PDE never gets its A bit, while the shadow is built from the copy.
pub const AUDIT_SKIP: &str = "shadow_pool_pressure:pse_bit_ignored";

/// One boot: hypervisor + guest + mode.
pub struct Boot {
    name: String,
    xen: PathBuf,
    guest: PathBuf,
    mode: Mode,
    /// Xen options added to the mode's (e.g. `shadow-audit`).
    xen_args: String,
    /// Guest options added to `mode=` (e.g. `skip=`).
    guest_args: String,
    /// Two vCPUs (QEMU `-smp 2`, `dom0_max_vcpus=2`) and only the guest's
    /// `smp_*` tests: the SMP pass.
    smp: bool,
    timeout: Duration,
    /// Extra QEMU arguments (benchmarks).
    qemu_extra: Vec<String>,
}

impl Boot {
    pub fn new(
        xen_dir: &Path,
        v: Variant,
        debug: bool,
        mode: Mode,
        guests: &Guests,
    ) -> Result<Self> {
        let guest = guests
            .get(mode.guest_mode())
            .ok_or_else(|| format!("no guest kernel for mode {}", mode.guest_mode()))?
            .clone();
        Ok(Boot {
            name: format!(
                "{}{}-{}",
                v.name(),
                if debug { "-debug" } else { "" },
                mode.name()
            ),
            xen: xen_dir.join("xen"),
            guest,
            mode,
            xen_args: String::new(),
            guest_args: String::new(),
            smp: false,
            timeout: Duration::from_secs(120),
            qemu_extra: Vec::new(),
        })
    }

    /// The same boot with the shadow audit on from boot (`shadow-audit`:
    /// every shadow of the guest's mode is checked against its guest table
    /// at each page fault; a mismatch BUG()s).
    /// The audit costs O(shadows) per fault, so the tests that build
    /// thousands of tables are left out ([`AUDIT_SKIP`]).
    pub fn audited(mut self) -> Self {
        self.xen_args.push_str(" shadow-audit");
        self.guest_args.push_str(" skip=");
        self.guest_args.push_str(AUDIT_SKIP);
        self.name.push_str("-audit");
        self.timeout = Duration::from_secs(600);
        self
    }

    /// The same boot with two vCPUs, running only the `smp_*` tests (the
    /// one-vCPU boots skip them).  Kept separate so that the one-vCPU runs
    /// keep their shadow-pool size (it grows with vCPUs) and their timing.
    pub fn smp(mut self) -> Self {
        self.smp = true;
        self.guest_args.push_str(" only=smp_");
        self.name.push_str("-smp");
        self
    }

    /// Turns this boot into a benchmark run (`cargo xtask bench`): the
    /// guest gets `bench=<filter>`, QEMU `-icount shift=0,sleep=off` (the
    /// TSC counts instructions) and 1600 MiB (the log-dirty benchmarks
    /// populate a 1 GiB domain), the log name a `-bench` suffix.
    pub fn bench(mut self, filter: &str, timeout: Duration) -> Self {
        self.name.push_str("-bench");
        self.qemu_extra = ["-icount", "shift=0,sleep=off", "-m", "1600"]
            .map(String::from)
            .to_vec();
        self.guest_args.push_str(&format!(" bench={filter}"));
        self.timeout = timeout;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn run(&self) -> Result<Finished> {
        let logs = build_dir().join("logs");
        fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
        let log_path = logs.join(format!("{}.log", self.name));
        let cpus = if self.smp { "2" } else { "1" };
        let append = format!(
            "console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot=false {} dom0_mem=256M,max:256M dom0_max_vcpus={cpus}{}",
            self.mode.xen_dom0_args(),
            self.xen_args
        );
        // QEMU's -initrd takes "file args": the dom0 command line follows
        // the file name (commas doubled; we have none).
        let initrd = format!(
            "{} mode={}{}",
            self.guest.display(),
            self.mode.guest_mode(),
            self.guest_args
        );
        let start = Instant::now();
        let mut child = qemu_xen("512", cpus, &self.xen, &append, &initrd)
            .args(["-serial", "stdio"])
            .args(&self.qemu_extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("qemu-system-x86_64: {e}"))?;
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<Option<String>>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).split(b'\n').map_while(|l| l.ok()) {
                let line = String::from_utf8_lossy(&line)
                    .trim_end_matches('\r')
                    .to_string();
                if tx.send(Some(line)).is_err() {
                    return;
                }
            }
            let _ = tx.send(None);
        });
        let mut log = String::new();
        let mut banner = Vec::new();
        let outcome = loop {
            let left = self.timeout.saturating_sub(start.elapsed());
            match rx.recv_timeout(left) {
                Ok(Some(line)) => {
                    log.push_str(&line);
                    log.push('\n');
                    if let Some(o) = classify(&line, &mut banner) {
                        // A panic prints a register dump after its first
                        // line; keep a little more of it for the log.
                        if matches!(o, Outcome::Panic(_)) {
                            let until = Instant::now() + Duration::from_secs(2);
                            while let Ok(Some(l)) =
                                rx.recv_timeout(until.saturating_duration_since(Instant::now()))
                            {
                                log.push_str(&l);
                                log.push('\n');
                            }
                        }
                        break o;
                    }
                }
                Ok(None) => break Outcome::Exited,
                Err(mpsc::RecvTimeoutError::Timeout) => break Outcome::Timeout,
                Err(mpsc::RecvTimeoutError::Disconnected) => break Outcome::Exited,
            }
        };
        let _ = child.kill();
        let _ = child.wait();
        let mut f = fs::File::create(&log_path).map_err(|e| e.to_string())?;
        let _ = writeln!(
            f,
            "# qemu -kernel {} -append '{append}' -initrd '{initrd}'",
            self.xen.display()
        );
        let _ = f.write_all(log.as_bytes());
        let _ = writeln!(f, "# outcome: {outcome}");
        Ok(Finished {
            outcome,
            log,
            log_path,
            banner,
            seconds: start.elapsed().as_secs_f64(),
        })
    }
}

/// Reads one serial line: the guest's result, a Xen panic, or notes.
fn classify(line: &str, banner: &mut Vec<String>) -> Option<Outcome> {
    if line.contains("Xen version") || line.contains("Shadow paging:") {
        banner.push(line.to_string());
    }
    if line.contains("Panic on CPU") {
        return None; // the reason follows on the next line
    }
    if line.contains("Xen BUG at")
        || line.contains("Assertion '")
        || line.contains("FATAL PAGE FAULT")
        || line.contains("FATAL TRAP")
    {
        return Some(Outcome::Panic(
            line.trim_start_matches("(XEN) ").to_string(),
        ));
    }
    parse_result(line).map(|(passed, failed)| Outcome::Result { passed, failed })
}

/// `N passed, M failed` at the end of a line (Xen may prefix dom0 output).
pub fn parse_result(line: &str) -> Option<(u32, u32)> {
    let tail = line.trim_end();
    let idx = tail.rfind(" passed, ")?;
    let passed: u32 = tail[..idx]
        .rsplit(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    let rest = tail[idx + " passed, ".len()..].strip_suffix(" failed")?;
    Some((passed, rest.parse().ok()?))
}

/// Runs boots two at a time (2 cores), in order of the input.
pub fn run_all(boots: Vec<Boot>) -> Vec<(String, Result<Finished>)> {
    let mut results = Vec::new();
    let mut it = boots.into_iter();
    loop {
        let batch: Vec<Boot> = it.by_ref().take(2).collect();
        if batch.is_empty() {
            break;
        }
        let handles: Vec<_> = batch
            .into_iter()
            .map(|b| std::thread::spawn(move || (b.name().to_string(), b.run())))
            .collect();
        for h in handles {
            let (name, r) = h.join().expect("boot thread");
            match &r {
                Ok(f) => step!(
                    "boot {name}: {} ({:.1} s, log {})",
                    f.outcome,
                    f.seconds,
                    f.log_path.display()
                ),
                Err(e) => step!("boot {name}: error {e}"),
            }
            results.push((name, r));
        }
    }
    results
}

type Results = Vec<(String, std::result::Result<String, String>)>;

/// Judges boots that come in (reference, rust) pairs of one mode, and
/// compares each pair's per-test verdicts.
fn push_pairs(
    results: &mut Results,
    finished: Vec<(String, Result<Finished>)>,
    expects: &[Expect],
) {
    for ((name, r), &expect) in finished.iter().zip(expects) {
        let verdict = match r {
            Ok(f) => judge(f, expect).map_err(|e| format!("{e} (log {})", f.log_path.display())),
            Err(e) => Err(e.clone()),
        };
        results.push((format!("boot {name}"), verdict));
    }
    for pair in finished.chunks(2) {
        if let [(rname, Ok(rf)), (_, Ok(uf))] = pair {
            let mode = rname.trim_start_matches("reference-");
            results.push((
                format!("same verdicts {mode}"),
                compare_verdicts(&rf.log, &uf.log),
            ));
        }
    }
}

/// Debug builds of both hypervisors (CONFIG_DEBUG: ASSERTs, the audit
/// callbacks) booted in every shadow mode with the shadow audit on from
/// boot (`shadow-audit`): C's audit judges the reference, the port's the
/// rust hypervisor, and their verdicts must agree test by test.
fn debug_audit_pass(src: &Path, guests: &Guests, results: &mut Results) -> Result {
    let reference = xen::build(src, Variant::Reference, true);
    results.push((
        "build reference debug + checks".into(),
        reference
            .as_ref()
            .map(|_| "ok".into())
            .map_err(Clone::clone),
    ));
    let rust = xen::build(src, Variant::Rust, true);
    results.push((
        "build rust debug + checks".into(),
        rust.as_ref().map(|_| "ok".into()).map_err(Clone::clone),
    ));
    let (Ok(reference), Ok(rust)) = (&reference, &rust) else {
        return Ok(());
    };
    let mut boots = Vec::new();
    for &mode in Mode::ALL.iter().filter(|m| m.shadowed()) {
        if guests.contains_key(mode.guest_mode()) {
            boots.push(Boot::new(reference, Variant::Reference, true, mode, guests)?.audited());
            boots.push(Boot::new(rust, Variant::Rust, true, mode, guests)?.audited());
        }
    }
    let expects = vec![Expect::Pass; boots.len()];
    push_pairs(results, run_all(boots), &expects);
    Ok(())
}

/// What a boot is expected to do.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// All guest tests pass (any Xen panic is a failure).
    Pass,
}

fn judge(f: &Finished, expect: Expect) -> std::result::Result<String, String> {
    match (&f.outcome, expect) {
        (Outcome::Result { passed, failed: 0 }, Expect::Pass) if *passed > 0 => {
            Ok(format!("{}", f.outcome))
        }
        _ => Err(format!("{}", f.outcome)),
    }
}

/// The guest's per-test verdicts (`test NAME: PASS|FAIL|SKIP ...`), in order.
pub fn test_verdicts(log: &str) -> Vec<(String, String)> {
    log.lines()
        .filter_map(|l| {
            let at = l.find("test ")?;
            let (name, rest) = l[at + 5..].split_once(": ")?;
            if name.is_empty() || name.contains(' ') {
                return None;
            }
            let verdict = rest.split_whitespace().next()?;
            matches!(verdict, "PASS" | "FAIL" | "SKIP")
                .then(|| (name.to_string(), verdict.to_string()))
        })
        .collect()
}

/// Differential check: the rust hypervisor must give every test the same
/// verdict as the reference one.  Returns the differences by name.
pub fn compare_verdicts(reference: &str, rust: &str) -> std::result::Result<String, String> {
    let a = test_verdicts(reference);
    let b = test_verdicts(rust);
    let mut diffs = Vec::new();
    for (name, va) in &a {
        match b.iter().find(|(n, _)| n == name) {
            Some((_, vb)) if vb == va => {}
            Some((_, vb)) => diffs.push(format!("{name}: reference {va}, rust {vb}")),
            None => diffs.push(format!("{name}: reference {va}, rust did not run it")),
        }
    }
    for (name, vb) in &b {
        if !a.iter().any(|(n, _)| n == name) {
            diffs.push(format!("{name}: rust {vb}, reference did not run it"));
        }
    }
    if a.is_empty() {
        diffs.push("no test verdicts in the reference log".into());
    }
    if diffs.is_empty() {
        Ok(format!("{} tests, identical verdicts", a.len()))
    } else {
        Err(diffs.join("; "))
    }
}

/// README command 1: build both hypervisors from one patched tree and show
/// the Rust shadow code at work.
pub fn main_job() -> Result {
    setup::setup()?;
    let src = xen::fetch()?;
    let reference = xen::build(&src, Variant::Reference, false)?;
    let rust = xen::build(&src, Variant::Rust, false)?;
    let guests = build_guests()?;
    let boots = vec![
        Boot::new(&rust, Variant::Rust, false, Mode::Hvm64, &guests)?,
        Boot::new(&rust, Variant::Rust, false, Mode::Pv64Shadow, &guests)?,
        Boot::new(&reference, Variant::Reference, false, Mode::Hvm64, &guests)?,
    ];
    let expects = [Expect::Pass, Expect::Pass, Expect::Pass];
    let mut ok = true;
    for ((name, r), expect) in run_all(boots).into_iter().zip(expects) {
        let f = r?;
        println!("\n---- {name} ----");
        for b in &f.banner {
            println!("{b}");
        }
        let guest_lines: Vec<&str> = f
            .log
            .lines()
            .filter(|l| {
                l.contains("test ") || parse_result(l).is_some() || l.contains("xen-shadow-rs:")
            })
            .collect();
        for l in guest_lines.iter().rev().take(12).rev() {
            println!("{l}");
        }
        match judge(&f, expect) {
            Ok(s) => println!("{name}: {s}"),
            Err(s) => {
                println!("{name}: FAILED: {s} (log {})", f.log_path.display());
                ok = false;
            }
        }
    }
    if ok {
        Ok(())
    } else {
        Err("main job failed".into())
    }
}

/// README command 2: everything (host tests, builds, boots).
pub fn test_all() -> Result {
    let mut results = Results::new();
    setup::setup()?;

    step!("cargo test (host: paging algorithms, xtask)");
    let host = setup::run(
        Command::new("cargo")
            .args(["test", "--quiet"])
            .current_dir(repo()),
    );
    results.push(("host cargo test".into(), host.map(|_| "ok".into())));

    let expected_status = status::render();
    let on_disk = fs::read_to_string(repo().join("docs/status.md")).unwrap_or_default();
    results.push((
        "docs/status.md matches the entry catalogue".into(),
        if on_disk == expected_status {
            Ok("ok".into())
        } else {
            Err("out of date: run `cargo xtask status > docs/status.md`".into())
        },
    ));

    let src = xen::fetch()?;
    let reference = xen::build(&src, Variant::Reference, false);
    results.push((
        "build reference + checks".into(),
        reference
            .as_ref()
            .map(|_| "ok".into())
            .map_err(Clone::clone),
    ));
    let rust = xen::build(&src, Variant::Rust, false);
    results.push((
        "build rust + checks".into(),
        rust.as_ref().map(|_| "ok".into()).map_err(Clone::clone),
    ));

    let guests = build_guests();
    results.push((
        "build guest kernels".into(),
        guests.as_ref().map(|_| "ok".into()).map_err(Clone::clone),
    ));

    if let (Ok(reference), Ok(rust), Ok(guests)) = (&reference, &rust, &guests) {
        let mut boots = Vec::new();
        let mut expects = Vec::new();
        // Every mode with one vCPU, then the SMP pass (two vCPUs, smp_*
        // tests only), each as a (reference, rust) pair.
        for smp in [false, true] {
            for &mode in Mode::ALL {
                if !guests.contains_key(mode.guest_mode()) {
                    continue;
                }
                for (dir, v) in [(reference, Variant::Reference), (rust, Variant::Rust)] {
                    let b = Boot::new(dir, v, false, mode, guests)?;
                    boots.push(if smp { b.smp() } else { b });
                    expects.push(Expect::Pass);
                }
            }
        }
        push_pairs(&mut results, run_all(boots), &expects);
    }
    if let Ok(guests) = &guests {
        debug_audit_pass(&src, guests, &mut results)?;
    }

    // Live migration with Debian's toolstack (ci/src/migrate.rs): every
    // case on both hypervisors, one row each.
    if let (Ok(reference), Ok(rust)) = (&reference, &rust) {
        results.extend(crate::migrate::test_rows(reference, rust));
    }

    println!("\n{:<50} result", "check");
    let (mut passed, mut failed) = (0, 0);
    for (name, r) in &results {
        match r {
            Ok(s) => {
                passed += 1;
                println!("{name:<50} PASS  {s}");
            }
            Err(s) => {
                failed += 1;
                println!("{name:<50} FAIL  {s}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} checks failed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_line_is_parsed_with_or_without_prefix() {
        assert_eq!(parse_result("12 passed, 0 failed"), Some((12, 0)));
        assert_eq!(parse_result("(d0) 3 passed, 2 failed"), Some((3, 2)));
        assert_eq!(parse_result("3 passed, 2 failed, and more"), None);
        assert_eq!(parse_result("passed, failed"), None);
    }

    #[test]
    fn panics_and_banners_are_recognised() {
        let mut b = Vec::new();
        assert_eq!(
            classify("(XEN) Error: accessed bit not propagated", &mut b),
            None
        );
        assert!(matches!(
            classify("(XEN) Xen BUG at src/xen/core.rs:497", &mut b),
            Some(Outcome::Panic(_))
        ));
        classify(
            "(XEN) Xen version 4.17.5-shadow-rs (Debian 4.17.5+72-g01140da4e8-1)",
            &mut b,
        );
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn judging_follows_expectations() {
        let f = |outcome| Finished {
            outcome,
            log: String::new(),
            log_path: PathBuf::new(),
            banner: vec![],
            seconds: 0.0,
        };
        let pass = f(Outcome::Result {
            passed: 5,
            failed: 0,
        });
        assert!(judge(&pass, Expect::Pass).is_ok());
        assert!(judge(
            &f(Outcome::Result {
                passed: 5,
                failed: 1
            }),
            Expect::Pass
        )
        .is_err());
        assert!(judge(
            &f(Outcome::Result {
                passed: 0,
                failed: 0
            }),
            Expect::Pass
        )
        .is_err());
        let bug = f(Outcome::Panic("Xen BUG".into()));
        assert!(judge(&bug, Expect::Pass).is_err());
        assert!(judge(&f(Outcome::Panic("FATAL PAGE FAULT".into())), Expect::Pass).is_err());
        assert!(judge(&f(Outcome::Timeout), Expect::Pass).is_err());
    }

    #[test]
    fn verdicts_are_compared_by_name() {
        let r = "(d0) test a: PASS\n(d0) test b: SKIP no NX\nrunning 2 tests\n";
        assert_eq!(test_verdicts(r).len(), 2);
        assert!(compare_verdicts(r, "test a: PASS\ntest b: SKIP x\n").is_ok());
        let e = compare_verdicts(r, "test a: FAIL boom\ntest b: SKIP\n").unwrap_err();
        assert!(e.contains("a: reference PASS, rust FAIL"), "{e}");
        assert!(compare_verdicts(r, "test a: PASS\n").is_err());
        assert!(compare_verdicts("", "").is_err());
    }
}

/// QEMU booting the hypervisor `xen` (TCG, `mem` MiB, `cpus` vCPUs, no
/// display, monitor or reboot) with command line `append` and the
/// modules of `initrd` (QEMU's "file args,file args" list); no stdin.
/// Callers add the serial port, their own options and stdout/stderr.
pub fn qemu_xen(mem: &str, cpus: &str, xen: &Path, append: &str, initrd: &str) -> Command {
    let mut c = Command::new("qemu-system-x86_64");
    c.args(["-accel", "tcg", "-m", mem, "-smp", cpus, "-no-reboot"])
        .args(["-display", "none", "-monitor", "none"])
        .arg("-kernel")
        .arg(xen)
        .args(["-append", append, "-initrd", initrd])
        .stdin(Stdio::null());
    c
}
