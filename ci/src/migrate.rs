//! The live-migration test (issue 6, toolstack half): Debian's Xen 4.17
//! toolstack in a dom0 booted on our hypervisor under QEMU TCG migrates a
//! guest that keeps writing a verifiable pattern (tests/migrate/pattern.c)
//! to localhost; after arrival the guest checks every page against its own
//! table of last-written sequence numbers and reports the bad pages.
//!
//! One QEMU boot per case; the dom0's /init (tests/migrate/dom0-init.sh)
//! runs the case and reports in `MIG ...` lines on Xen's serial console,
//! which are parsed here.  See docs/migration.md.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::dom0::{self, Dom0};
use crate::xen::{self, Variant};
use crate::{build_dir, setup, step, Result};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Case {
    /// One live migration of a PV guest (shadow log-dirty on a PV guest).
    PvLive,
    /// One live migration of a PVH guest (shadow-paged, log-dirty in the
    /// shadows: TCG has no nested paging).
    PvhLive,
    /// `xl save` then `xl restore` of a PV guest.
    SaveRestore,
    /// Ten back-to-back live migrations of the same PV guest, each verified.
    Pv10x,
    /// Live migration of a PV guest that also churns its page tables.
    PvPtChurn,
}

impl Case {
    pub const ALL: &'static [Case] = &[
        Case::PvLive,
        Case::PvhLive,
        Case::SaveRestore,
        Case::Pv10x,
        Case::PvPtChurn,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Case::PvLive => "pv-live",
            Case::PvhLive => "pvh-live",
            Case::SaveRestore => "save-restore",
            Case::Pv10x => "pv-10x",
            Case::PvPtChurn => "pv-ptchurn",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|c| c.name()).collect();
                format!("unknown migration case {s:?} ({})", names.join(", "))
            })
    }

    /// Whether the case's operations are live migrations, during which the
    /// guest must rewrite its whole pattern area (the sweep streamstat
    /// starts).
    fn live(self) -> bool {
        self != Case::SaveRestore
    }

    /// (operations, guest verifications) a complete run reports.
    fn expected(self) -> (usize, usize) {
        match self {
            Case::SaveRestore => (2, 1),
            Case::Pv10x => (10, 10),
            _ => (1, 1),
        }
    }

    /// Generous: a case takes 40-80 s (pv-10x about 250 s) on an idle
    /// 2-core machine, several times that when the machine is shared.
    fn timeout(self) -> Duration {
        Duration::from_secs(match self {
            Case::Pv10x => 1200,
            _ => 480,
        })
    }
}

/// One save, restore or migration, as the dom0 measured it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Op {
    pub kind: String,
    /// Wall time of the xl command (dom0 uptime clock, 10 ms steps).
    pub total_s: f64,
    /// Pre-copy iterations including the final stop-and-copy one.
    pub rounds: Option<u32>,
    /// Pages written to the stream, all iterations.
    pub pages: Option<u64>,
    /// Guest suspended on the source -> guest unpaused on the target.
    pub downtime_s: Option<f64>,
    /// First page in the stream -> start of the stop-and-copy iteration.
    pub precopy_s: Option<f64>,
}

/// One verification by the guest.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verify {
    /// Pages of the pattern area, all checked.
    pub pages: u64,
    pub bad: u64,
    pub stale: u64,
    pub corrupt: u64,
    /// Pages the guest's sweep rewrote since the previous verification
    /// (all of the area once the sweep a live migration starts is done).
    pub swept: Option<u64>,
    /// How long that sweep took (it starts just behind iteration 1's copy).
    pub sweep_ms: Option<u64>,
    /// The guest's size in pages (its memory target, from the dom0).
    pub domain_pages: Option<u64>,
    /// The memory the guest's kernel manages (MemTotal), in pages: the
    /// guest's size less what the kernel took at boot (its image, the
    /// page array).
    pub mem_total_pages: Option<u64>,
}

/// What the serial log of one case says.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub ops: Vec<Op>,
    pub verifies: Vec<Verify>,
    /// The dom0's own verdict line: (PASS?, rest of the line).
    pub result: Option<(bool, String)>,
    /// A Xen or dom0 kernel panic line.
    pub panic: Option<String>,
    pub steps: Vec<String>,
    pub ended: bool,
}

fn field<'a>(words: &[&'a str], key: &str) -> Option<&'a str> {
    words
        .iter()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}

impl Report {
    /// Reads one line of the serial console.
    pub fn line(&mut self, line: &str) {
        if self.panic.is_none()
            && (line.contains("Xen BUG at")
                || line.contains("FATAL PAGE FAULT")
                || line.contains("FATAL TRAP")
                || line.contains("Assertion '")
                || line.contains("Kernel panic")
                || line.contains("Panic on CPU"))
        {
            self.panic = Some(line.trim_start_matches("(XEN) ").to_string());
        }
        let Some(at) = line.find("MIG ") else {
            return;
        };
        let rest = &line[at + 4..];
        let words: Vec<&str> = rest.split_whitespace().collect();
        match words.first().copied() {
            Some("op") => self.ops.push(Op {
                kind: field(&words, "kind").unwrap_or("?").to_string(),
                total_s: field(&words, "total_s")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0.0),
                rounds: field(&words, "rounds").and_then(|v| v.parse().ok()),
                pages: field(&words, "pages").and_then(|v| v.parse().ok()),
                downtime_s: field(&words, "downtime_s")
                    .and_then(|v| v.parse().ok())
                    .filter(|d: &f64| *d >= 0.0),
                precopy_s: field(&words, "precopy_s")
                    .and_then(|v| v.parse().ok())
                    .filter(|d: &f64| *d > 0.0),
            }),
            Some("verify") => {
                let num = |k| field(&words, k).and_then(|v| v.parse().ok());
                match (num("pages"), num("bad"), num("stale"), num("corrupt")) {
                    (Some(pages), Some(bad), Some(stale), Some(corrupt)) => {
                        self.verifies.push(Verify {
                            pages,
                            bad,
                            stale,
                            corrupt,
                            swept: num("swept"),
                            sweep_ms: num("sweep_ms").filter(|&m| m > 0),
                            domain_pages: num("domain_pages").filter(|&p| p > 0),
                            mem_total_pages: num("mem_total_pages").filter(|&p| p > 0),
                        })
                    }
                    _ => self.steps.push(format!("unreadable: {rest}")),
                }
            }
            Some("result") => {
                let pass = words.get(2) == Some(&"PASS");
                self.result = Some((pass, words.get(2..).unwrap_or(&[]).join(" ")));
            }
            Some("step") => self.steps.push(words[1..].join(" ")),
            Some("end") => self.ended = true,
            _ => {}
        }
    }

    /// The longest sweep of a live migration as a share of its pre-copy
    /// (verification i follows operation i): below 100%, every page of the
    /// area was rewritten before the stop-and-copy began (up to the
    /// console's latency in starting the sweep).
    pub fn sweep_share(&self) -> Option<f64> {
        self.verifies
            .iter()
            .zip(&self.ops)
            .filter_map(|(v, o)| Some(v.sweep_ms? as f64 / 1000.0 / o.precopy_s?))
            .reduce(f64::max)
    }

    /// Total bad pages over all verifications.
    pub fn bad(&self) -> u64 {
        self.verifies.iter().map(|v| v.bad).sum()
    }

    /// PASS only if the dom0 says PASS, every expected operation and
    /// verification was reported, each verification checked pages (at
    /// least half of those the guest's kernel manages) and found none bad, after a live
    /// migration the guest's sweep had rewritten every page, and nothing
    /// panicked.
    pub fn judge(&self, case: Case) -> std::result::Result<String, String> {
        let (ops, verifies) = case.expected();
        let first = self.verifies.first();
        let sweep = match self.sweep_share() {
            Some(s) if case.live() => format!(", sweep <= {:.0}% of pre-copy", s * 100.0),
            _ => String::new(),
        };
        let summary = format!(
            "bad={} verified={}x{} of {} guest pages{sweep}, {} ops",
            self.bad(),
            self.verifies.len(),
            first.map(|v| v.pages).unwrap_or(0),
            fmt_opt(first.and_then(|v| v.domain_pages)),
            self.ops.len()
        );
        if let Some(p) = &self.panic {
            return Err(format!("{summary}; panic: {p}"));
        }
        match &self.result {
            None => Err(format!(
                "{summary}; no result line (last step: {})",
                self.steps.last().map(String::as_str).unwrap_or("none")
            )),
            Some((false, why)) => Err(format!("{summary}; dom0: {why}")),
            Some((true, _)) if self.ops.len() != ops || self.verifies.len() != verifies => Err(
                format!("{summary}; expected {ops} ops and {verifies} verifications"),
            ),
            Some((true, _)) if self.verifies.iter().any(|v| v.pages == 0 || v.bad != 0) => {
                Err(summary)
            }
            Some((true, _))
                if self
                    .verifies
                    .iter()
                    .any(|v| v.mem_total_pages.is_some_and(|t| v.pages * 2 < t)) =>
            {
                Err(format!(
                    "{summary}; the pattern area is not half of the guest's MemTotal"
                ))
            }
            Some((true, _))
                if case.live() && self.verifies.iter().any(|v| v.swept != Some(v.pages)) =>
            {
                Err(format!(
                    "{summary}; the sweep did not rewrite every page (swept {})",
                    self.verifies
                        .iter()
                        .map(|v| fmt_opt(v.swept))
                        .collect::<Vec<_>>()
                        .join(",")
                ))
            }
            Some((true, _)) => Ok(summary),
        }
    }
}

/// One case on one hypervisor, finished.
pub struct Run {
    pub variant: Variant,
    pub case: Case,
    pub report: Report,
    pub log_path: PathBuf,
    pub seconds: f64,
    pub timed_out: bool,
}

impl Run {
    pub fn name(&self) -> String {
        format!("migrate {} {}", self.variant.name(), self.case.name())
    }

    pub fn verdict(&self) -> std::result::Result<String, String> {
        let v = self.report.judge(self.case);
        let t = if self.timed_out { ", timeout" } else { "" };
        match v {
            Ok(s) => Ok(format!("{s}, {:.0} s", self.seconds)),
            Err(s) => Err(format!(
                "{s}{t}, {:.0} s (log {})",
                self.seconds,
                self.log_path.display()
            )),
        }
    }
}

/// Boots `xen` with the test dom0 running `case`; returns when the dom0
/// says it is done, the machine stops, Xen panics, or at the timeout.
pub fn run_case(
    xen: &Path,
    variant: Variant,
    dom0: &Dom0,
    case: Case,
    verbose: bool,
    break_stream: Option<&str>,
) -> Result<Run> {
    let logs = build_dir().join("logs");
    fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let log_path = logs.join(format!("migrate-{}-{}.log", variant.name(), case.name()));
    let append = "console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot=false \
                  dom0_mem=384M,max:384M dom0_max_vcpus=1";
    // First module: the dom0 kernel with its command line (Xen drops the
    // first word); second: the initramfs.  Commas inside QEMU's -initrd
    // list would have to be doubled; there are none.
    let mut kernel_args = format!("console=hvc0 quiet loglevel=3 mig.case={}", case.name());
    if verbose {
        kernel_args += " mig.verbose";
    }
    if let Some(b) = break_stream {
        kernel_args += &format!(" mig.break={b}");
    }
    let initrd = format!(
        "{} {kernel_args},{}",
        dom0.vmlinux.display(),
        dom0.initramfs.display()
    );
    let start = Instant::now();
    let mut child = crate::harness::qemu_xen("768", "1", &xen.join("xen"), &append, &initrd)
        .args(["-serial", "stdio"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("qemu-system-x86_64: {e}"))?;
    let stdout = child.stdout.take().ok_or("qemu: no stdout")?;
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).split(b'\n').map_while(|l| l.ok()) {
            let line = String::from_utf8_lossy(&line)
                .trim_end_matches('\r')
                .to_string();
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut log = fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let _ = writeln!(
        log,
        "# qemu -kernel {}/xen -append '{append}' -initrd '{initrd}'",
        xen.display()
    );
    let mut report = Report::default();
    let mut timed_out = false;
    loop {
        let left = case.timeout().saturating_sub(start.elapsed());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let _ = writeln!(log, "{line}");
                if verbose {
                    println!("{line}");
                }
                report.line(&line);
                if report.ended {
                    break;
                }
                if report.panic.is_some() {
                    // Keep the register dump that follows.
                    let until = Instant::now() + Duration::from_secs(2);
                    while let Ok(l) =
                        rx.recv_timeout(until.saturating_duration_since(Instant::now()))
                    {
                        let _ = writeln!(log, "{l}");
                    }
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                timed_out = true;
                break;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let run = Run {
        variant,
        case,
        report,
        log_path,
        seconds: start.elapsed().as_secs_f64(),
        timed_out,
    };
    let _ = writeln!(
        log,
        "# verdict: {}",
        match run.verdict() {
            Ok(s) => format!("PASS {s}"),
            Err(s) => format!("FAIL {s}"),
        }
    );
    Ok(run)
}

/// Runs `cases` on each hypervisor: the hypervisors in parallel (one QEMU
/// each, 2 cores), the cases of one hypervisor one after the other.
pub fn run_all(
    hypervisors: &[(Variant, PathBuf)],
    dom0: &Dom0,
    cases: &[Case],
    verbose: bool,
    break_stream: Option<&str>,
) -> Vec<Result<Run>> {
    let handles: Vec<_> = hypervisors
        .iter()
        .map(|(v, dir)| {
            let (v, dir) = (*v, dir.clone());
            let dom0 = Dom0 {
                vmlinux: dom0.vmlinux.clone(),
                initramfs: dom0.initramfs.clone(),
            };
            let cases = cases.to_vec();
            let break_stream = break_stream.map(str::to_string);
            std::thread::spawn(move || {
                cases
                    .iter()
                    .map(|&c| {
                        let r = run_case(&dir, v, &dom0, c, verbose, break_stream.as_deref());
                        match &r {
                            Ok(run) => step!(
                                "{}: {}",
                                run.name(),
                                match run.verdict() {
                                    Ok(s) => format!("PASS {s}"),
                                    Err(s) => format!("FAIL {s}"),
                                }
                            ),
                            Err(e) => step!("migrate {} {}: error {e}", v.name(), c.name()),
                        }
                        r
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| {
            h.join()
                .unwrap_or_else(|_| vec![Err("migration thread panicked".to_string())])
        })
        .collect()
}

/// `cargo xtask test` rows: every case on both hypervisors.
pub fn test_rows(
    reference: &Path,
    rust: &Path,
) -> Vec<(String, std::result::Result<String, String>)> {
    let dom0 = match dom0::build() {
        Ok(d) => d,
        Err(e) => return vec![("migration dom0 (Debian packages, initramfs)".into(), Err(e))],
    };
    let mut rows = vec![(
        "migration dom0 (Debian packages, initramfs)".to_string(),
        Ok("ok".to_string()),
    )];
    let hv = [
        (Variant::Reference, reference.to_path_buf()),
        (Variant::Rust, rust.to_path_buf()),
    ];
    let start = Instant::now();
    for r in run_all(&hv, &dom0, Case::ALL, false, None) {
        match r {
            Ok(run) => rows.push((run.name(), run.verdict())),
            Err(e) => rows.push(("migrate".into(), Err(e))),
        }
    }
    step!(
        "migration cases: {:.0} s for both hypervisors",
        start.elapsed().as_secs_f64()
    );
    rows
}

/// Builds what is needed and returns the hypervisors to run on.
/// With `no_build`, the hypervisors already built under build/xen/ are
/// used as they are (so a long run need not hold a build lock).
fn prepare(o: &Options) -> Result<(Vec<(Variant, PathBuf)>, Dom0)> {
    setup::setup()?;
    let mut hv = Vec::new();
    if o.no_build {
        for &v in &o.variants {
            let dir = if o.break_logdirty {
                break_dir(v, o.debug)
            } else {
                xen::out_dir(v, o.debug)
            };
            if !dir.join("xen").exists() {
                return Err(format!(
                    "--no-build: {} does not exist; run cargo xtask build first",
                    dir.join("xen").display()
                ));
            }
            hv.push((v, dir));
        }
    } else {
        let src = xen::fetch()?;
        for &v in &o.variants {
            hv.push((
                v,
                if o.break_logdirty {
                    build_broken(&src, v, o.debug)?
                } else {
                    xen::build(&src, v, o.debug)?
                },
            ));
        }
    }
    Ok((hv, dom0::build()?))
}

/// The build directory of `--break logdirty`'s hypervisor.
fn break_dir(v: Variant, debug: bool) -> PathBuf {
    build_dir().join("xen").join(format!(
        "{}{}-break-logdirty",
        v.name(),
        if debug { "-debug" } else { "" }
    ))
}

/// The demonstration hypervisor of `--break logdirty`, built into
/// build/xen/VARIANT-break-logdirty; never part of patches/ nor of
/// `cargo xtask test`:
/// * reference: a copy of the patched tree plus
///   tests/migrate/break-logdirty.patch (paging.c drops the dirty bit of one
///   pfn in 61);
/// * rust: the patched tree as it is (paging.c's bitmap is not linked:
///   CONFIG_PAGING_LOGDIRTY_RUST), the Rust object built with the cargo
///   feature `break-logdirty` (bitmap.rs drops the same pfns).
fn build_broken(src: &Path, v: Variant, debug: bool) -> Result<PathBuf> {
    let out = break_dir(v, debug);
    let (tree, features) = match v {
        Variant::Reference => (broken_tree(src)?, None),
        Variant::Rust => (src.to_path_buf(), Some(xen::BREAK_LOGDIRTY_FEATURE)),
    };
    // A build directory configured from another source tree (an older
    // rust-break-logdirty was built from the patched copy) is started over.
    let origin = out.join(".break-origin");
    let want = format!("{}\n{}\n", tree.display(), features.unwrap_or("-"));
    if out.exists() && fs::read_to_string(&origin).ok().as_deref() != Some(want.as_str()) {
        step!(
            "{} was built from another tree: starting it over",
            out.display()
        );
        fs::remove_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    fs::write(&origin, want).map_err(|e| e.to_string())?;
    xen::build_at(&tree, v, debug, out, features)
}

/// The copy of the patched tree with tests/migrate/break-logdirty.patch.
fn broken_tree(src: &Path) -> Result<PathBuf> {
    let patch = crate::repo().join("tests/migrate/break-logdirty.patch");
    let tree = build_dir().join("src/xen-break-logdirty");
    let stamp = build_dir().join("src/break-logdirty.stamp");
    let want = format!(
        "{}{}",
        fs::read_to_string(build_dir().join("src/stamp")).unwrap_or_default(),
        fs::read_to_string(&patch).map_err(|e| format!("{}: {e}", patch.display()))?
    );
    if fs::read_to_string(&stamp).ok().as_deref() != Some(want.as_str()) {
        step!(
            "copying the Xen tree to {} and applying {}",
            tree.display(),
            patch.display()
        );
        let _ = fs::remove_dir_all(&tree);
        let _ = fs::remove_file(&stamp);
        setup::run(Command::new("cp").arg("-a").arg(src).arg(&tree))?;
        setup::run(
            Command::new("patch")
                .args(["-p1", "--forward", "--batch", "-i"])
                .arg(&patch)
                .current_dir(&tree),
        )?;
        fs::write(&stamp, want).map_err(|e| e.to_string())?;
    }
    Ok(tree)
}

/// Options of `cargo xtask migrate` and `cargo xtask bench migrate`.
pub struct Options {
    pub variants: Vec<Variant>,
    pub cases: Vec<Case>,
    pub debug: bool,
    pub verbose: bool,
    pub no_build: bool,
    /// `--break stale=N`: streamstat replaces later copies of N pattern
    /// pages with their first copy (proves the check fails; docs/testing.md).
    pub break_stream: Option<String>,
    /// `--break logdirty`: run on a hypervisor that loses dirty bits:
    /// the reference built with tests/migrate/break-logdirty.patch, the
    /// rust one with the Rust crate's `break-logdirty` feature (see
    /// `build_broken`).
    pub break_logdirty: bool,
}

impl Options {
    /// `[reference|rust]... [--case NAME]... [--debug] [--verbose] [--no-build]
    /// [--break stale=N|logdirty]`
    pub fn parse(args: &[String]) -> Result<Self> {
        let mut o = Options {
            variants: Vec::new(),
            cases: Vec::new(),
            debug: false,
            verbose: false,
            no_build: false,
            break_stream: None,
            break_logdirty: false,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--debug" => o.debug = true,
                "--verbose" => o.verbose = true,
                "--no-build" => o.no_build = true,
                "--break" => {
                    let what = it.next().ok_or("--break needs stale=N or logdirty")?;
                    let n = what
                        .strip_prefix("stale=")
                        .and_then(|n| n.parse::<u32>().ok());
                    if what == "logdirty" {
                        o.break_logdirty = true;
                    } else if n.is_some() {
                        o.break_stream = Some(what.clone());
                    } else {
                        return Err(format!("--break {what}: expected stale=N or logdirty"));
                    }
                }
                "--case" => {
                    let name = it.next().ok_or("--case needs a name")?;
                    o.cases.push(Case::parse(name)?);
                }
                v => o.variants.push(Variant::parse(v)?),
            }
        }
        if o.variants.is_empty() {
            o.variants = vec![Variant::Reference, Variant::Rust];
        }
        if o.cases.is_empty() {
            o.cases = Case::ALL.to_vec();
        }
        Ok(o)
    }
}

/// `cargo xtask migrate`: runs the cases, prints a row per case.
pub fn migrate(o: &Options) -> Result {
    let (hv, dom0) = prepare(o)?;
    let runs = run_all(&hv, &dom0, &o.cases, o.verbose, o.break_stream.as_deref());
    let mut failed = 0;
    println!("\n{:<36} result", "case");
    for r in &runs {
        match r {
            Ok(run) => match run.verdict() {
                Ok(s) => println!("{:<36} PASS  {s}", run.name()),
                Err(s) => {
                    failed += 1;
                    println!("{:<36} FAIL  {s}", run.name())
                }
            },
            Err(e) => {
                failed += 1;
                println!("{:<36} FAIL  {e}", "migrate")
            }
        }
    }
    print_bench(&runs);
    println!("{} passed, {failed} failed", runs.len() - failed);
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} migration cases failed"))
    }
}

/// `cargo xtask bench migrate`: every case on both hypervisors, the
/// figures side by side.
pub fn bench(o: &Options) -> Result {
    let o = Options {
        variants: vec![Variant::Reference, Variant::Rust],
        cases: o.cases.clone(),
        debug: o.debug,
        verbose: o.verbose,
        no_build: o.no_build,
        break_stream: o.break_stream.clone(),
        break_logdirty: o.break_logdirty,
    };
    migrate(&o)
}

fn fmt_opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

/// Per case and operation: total time, rounds, pages sent, downtime, for
/// each hypervisor that ran, side by side.
pub fn print_bench(runs: &[Result<Run>]) {
    let runs: Vec<&Run> = runs.iter().filter_map(|r| r.as_ref().ok()).collect();
    let variants: Vec<Variant> = [Variant::Reference, Variant::Rust]
        .into_iter()
        .filter(|v| runs.iter().any(|r| r.variant == *v))
        .collect();
    print!("\n{:<13} {:>2} {:<8}", "case", "op", "kind");
    for v in &variants {
        print!(
            " | {:<9} {:>7} {:>6} {:>7} {:>10}",
            v.name(),
            "total s",
            "rounds",
            "pages",
            "downtime s"
        );
    }
    println!();
    for case in Case::ALL {
        let of: Vec<Option<&Run>> = variants
            .iter()
            .map(|v| {
                runs.iter()
                    .copied()
                    .find(|r| r.variant == *v && r.case == *case)
            })
            .collect();
        let n = of
            .iter()
            .map(|r| r.map(|r| r.report.ops.len()).unwrap_or(0))
            .max()
            .unwrap_or(0);
        for i in 0..n {
            let kind = of
                .iter()
                .find_map(|r| r.and_then(|r| r.report.ops.get(i)))
                .map(|o| o.kind.clone())
                .unwrap_or_default();
            print!("{:<13} {:>2} {:<8}", case.name(), i + 1, kind);
            for r in &of {
                match r.and_then(|r| r.report.ops.get(i)) {
                    Some(o) => print!(
                        " | {:<9} {:>7.2} {:>6} {:>7} {:>10}",
                        "",
                        o.total_s,
                        fmt_opt(o.rounds),
                        fmt_opt(o.pages),
                        fmt_opt(o.downtime_s.map(|d| format!("{d:.2}")))
                    ),
                    None => print!(" | {:<9} {:>7} {:>6} {:>7} {:>10}", "", "-", "-", "-", "-"),
                }
            }
            println!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(lines: &str) -> Report {
        let mut r = Report::default();
        for l in lines.lines() {
            r.line(l);
        }
        r
    }

    #[test]
    fn serial_lines_are_parsed() {
        let r = report(
            "(XEN) boot\nMIG case pv-live start\n\
             MIG op 1 kind=migrate total_s=5.10 rounds=6 pages=40000 downtime_s=1.20 precopy_s=4.00\n\
             MIG verify 1 pages=16384 bad=0 stale=0 corrupt=0 writes=9 max_gap_ms=3 \
             mem_total_pages=30000 swept=16384 sweep_ms=900 domain_pages=32768\n\
             MIG result pv-live PASS bad=0 ops=1\nMIG end\n",
        );
        assert_eq!(r.ops.len(), 1);
        assert_eq!(r.ops[0].rounds, Some(6));
        assert_eq!(r.ops[0].pages, Some(40000));
        assert_eq!(r.ops[0].downtime_s, Some(1.2));
        assert_eq!(r.verifies[0].pages, 16384);
        assert_eq!(r.verifies[0].swept, Some(16384));
        assert_eq!(r.verifies[0].domain_pages, Some(32768));
        assert!(r.ended);
        assert_eq!(
            r.judge(Case::PvLive).unwrap(),
            "bad=0 verified=1x16384 of 32768 guest pages, sweep <= 22% of pre-copy, 1 ops"
        );
        // Ten migrations were expected.
        assert!(r.judge(Case::Pv10x).is_err());
    }

    #[test]
    fn bad_pages_or_panics_fail_even_if_dom0_says_pass() {
        let r = report(
            "MIG op 1 kind=migrate total_s=5 rounds=6 pages=1 downtime_s=-1\n\
             MIG verify 1 pages=16384 bad=3 stale=3 corrupt=0\n\
             MIG result pv-live PASS bad=0 ops=1\n",
        );
        assert_eq!(r.ops[0].downtime_s, None);
        assert_eq!(r.bad(), 3);
        assert!(r.judge(Case::PvLive).is_err());
        let r = report(
            "MIG op 1 kind=migrate total_s=5\nMIG verify 1 pages=16384 bad=0 stale=0 corrupt=0\n\
             (XEN) Xen BUG at multi.c:100\nMIG result pv-live PASS bad=0 ops=1\n",
        );
        assert!(r.judge(Case::PvLive).unwrap_err().contains("panic"));
        let r = report("MIG result pv-live FAIL bad=? ops=0 xl create pv\n");
        assert!(r.judge(Case::PvLive).unwrap_err().contains("xl create"));
        assert!(report("").judge(Case::PvLive).is_err());
    }

    #[test]
    fn a_small_area_or_an_unfinished_sweep_fails() {
        let case = |verify: &str| {
            report(&format!(
                "MIG op 1 kind=migrate total_s=5\nMIG verify 1 {verify}\n\
                 MIG result pv-live PASS bad=0 ops=1\n"
            ))
            .judge(Case::PvLive)
        };
        let ok = "pages=20000 bad=0 stale=0 corrupt=0 mem_total_pages=30000 swept=20000 \
                  domain_pages=32768";
        assert!(case(ok).is_ok());
        let small = "pages=4096 bad=0 stale=0 corrupt=0 mem_total_pages=20000 swept=4096";
        assert!(case(small).unwrap_err().contains("not half"));
        let unswept = "pages=20000 bad=0 stale=0 corrupt=0 swept=19000 domain_pages=32768";
        assert!(case(unswept).unwrap_err().contains("swept 19000"));
        let old = "pages=20000 bad=0 stale=0 corrupt=0";
        assert!(case(old).unwrap_err().contains("swept -"));
        // xl save stops the guest first: no sweep is asked for.
        let r = report(
            "MIG op 1 kind=save total_s=2\nMIG op 2 kind=restore total_s=3\n\
             MIG verify 2 pages=20000 bad=0 stale=0 corrupt=0 swept=0 domain_pages=32768\n\
             MIG result save-restore PASS bad=0 ops=2\n",
        );
        assert!(r.judge(Case::SaveRestore).is_ok());
    }

    #[test]
    fn options_are_parsed() {
        let a: Vec<String> = ["rust", "--case", "pv-10x", "--debug"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = Options::parse(&a).unwrap();
        assert_eq!(o.variants, vec![Variant::Rust]);
        assert_eq!(o.cases, vec![Case::Pv10x]);
        assert!(o.debug);
        assert!(Options::parse(&["--case".to_string()]).is_err());
        let b = |w: &str| Options::parse(&["--break".to_string(), w.to_string()]);
        assert!(b("logdirty").unwrap().break_logdirty);
        assert_eq!(
            b("stale=64").unwrap().break_stream.as_deref(),
            Some("stale=64")
        );
        assert!(b("stale=x").is_err());
        assert!(b("everything").is_err());
        assert_eq!(Options::parse(&[]).unwrap().cases.len(), Case::ALL.len());
    }
}
