//! `cargo xtask bench`: instruction counts of shadow-paging operations on
//! the reference (C multi.c) and the rust hypervisor, plus code size and
//! stack figures (`crate::stack`).
//!
//! Both hypervisors are built from the same tree; the benchmark guest
//! (tests/guest with `bench=<filter>`) boots as dom0 of each under
//! `qemu-system-x86_64 -icount shift=0,sleep=off`, where the TSC the guest
//! reads counts executed instructions.  The guest prints one `bench ...`
//! line per operation (see tests/guest/src/bench/mod.rs); this module pairs
//! the C and Rust figures and prints one table with their ratio.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::time::Duration;

use crate::harness::{self, Boot, Mode, Outcome};
use crate::xen::{self, Variant};
use crate::{build_dir, setup, stack, step, Result};

/// Modes benchmarked by default (the issue asks for these three).
const DEFAULT_MODES: &[&str] = &["hvm32pae", "hvm64", "pv64-shadow"];

/// One operation's figures from one boot.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub insns: u64,
    pub lo: u64,
    pub hi: u64,
    pub samples: String,
}

/// Parses the guest's `bench <op> mode=<m> n=<s>x<b> insns=<x> lo=<y> hi=<z> base=<w>`
/// lines (Xen may prefix them with `(d0) `).
pub fn parse(log: &str) -> BTreeMap<String, Figure> {
    let mut out = BTreeMap::new();
    for line in log.lines() {
        let Some(at) = line.find("bench ") else {
            continue;
        };
        let mut words = line[at + 6..].split_whitespace();
        let Some(op) = words.next() else { continue };
        let kv: BTreeMap<&str, &str> = words.filter_map(|w| w.split_once('=')).collect();
        let num = |k: &str| kv.get(k).and_then(|v| v.parse::<u64>().ok());
        if let (Some(insns), Some(lo), Some(hi), Some(n)) =
            (num("insns"), num("lo"), num("hi"), kv.get("n"))
        {
            out.insert(
                op.to_string(),
                Figure {
                    insns,
                    lo,
                    hi,
                    samples: n.to_string(),
                },
            );
        }
    }
    out
}

/// `(hi - lo) / median` of the batch medians, in percent.
fn spread(f: &Figure) -> f64 {
    if f.insns == 0 {
        0.0
    } else {
        100.0 * (f.hi.saturating_sub(f.lo)) as f64 / f.insns as f64
    }
}

pub fn bench(args: &[&str]) -> Result {
    let mut modes: Vec<String> = DEFAULT_MODES.iter().map(|s| s.to_string()).collect();
    let mut filter = "all".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--modes" => {
                modes = it
                    .next()
                    .ok_or("--modes needs a list")?
                    .split(',')
                    .map(str::to_string)
                    .collect()
            }
            "--only" => {
                filter = it
                    .next()
                    .ok_or("--only needs an operation name")?
                    .to_string()
            }
            other => return Err(format!("bench: unknown argument {other:?}")),
        }
    }
    setup::setup()?;
    let src = xen::fetch()?;
    let reference = xen::build(&src, Variant::Reference, false)?;
    let rust = xen::build(&src, Variant::Rust, false)?;
    let guests = harness::build_guests()?;

    let mut boots = Vec::new();
    for m in &modes {
        let mode = Mode::parse(m)?;
        for (dir, v) in [(&reference, Variant::Reference), (&rust, Variant::Rust)] {
            boots.push(
                Boot::new(dir, v, false, mode, &guests)?.bench(&filter, Duration::from_secs(600)),
            );
        }
    }
    step!("benchmark boots (QEMU -icount shift=0,sleep=off), two at a time");
    let finished = harness::run_all(boots);

    let mut table = String::new();
    let mut worst: Option<(f64, String)> = None;
    let mut problems = Vec::new();
    writeln!(
        table,
        "| operation | mode | C insns/op | Rust insns/op | Rust/C | C spread | Rust spread |"
    )
    .ok();
    writeln!(table, "| --- | --- | ---: | ---: | ---: | ---: | ---: |").ok();
    for (m, pair) in modes.iter().zip(finished.chunks(2)) {
        let [(cname, c), (rname, r)] = pair else {
            problems.push(format!("{m}: missing boots"));
            continue;
        };
        let (c, r) = match (c, r) {
            (Ok(c), Ok(r)) => (c, r),
            (Err(e), _) | (_, Err(e)) => {
                problems.push(format!("{m}: {e}"));
                continue;
            }
        };
        for (name, f) in [(cname, c), (rname, r)] {
            if !matches!(f.outcome, Outcome::Result { failed: 0, .. }) {
                problems.push(format!(
                    "{name}: {} (log {})",
                    f.outcome,
                    f.log_path.display()
                ));
            }
        }
        let (cf, rf) = (parse(&c.log), parse(&r.log));
        for (op, a) in &cf {
            let Some(b) = rf.get(op) else {
                problems.push(format!("{m} {op}: no rust figure"));
                continue;
            };
            let ratio = if a.insns == 0 {
                f64::NAN
            } else {
                b.insns as f64 / a.insns as f64
            };
            if worst.as_ref().is_none_or(|(w, _)| ratio > *w) {
                worst = Some((ratio, format!("{op} {m}")));
            }
            writeln!(
                table,
                "| {op} | {m} | {} | {} | {ratio:.3} | {:.1} % | {:.1} % |",
                a.insns,
                b.insns,
                spread(a),
                spread(b)
            )
            .ok();
        }
    }
    println!(
        "\nInstructions per operation (median of 5 batch medians, empty window subtracted):\n"
    );
    print!("{table}");
    if let Some((w, what)) = &worst {
        println!("\nhighest Rust/C: {w:.3} ({what})");
    }

    let st = stack::report(&reference, &rust)?;
    println!("\n{st}");

    let out = build_dir().join("bench");
    fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let md = format!(
        "Command: `cargo xtask bench{}{}`\n\n{table}\n{st}",
        if args.is_empty() { "" } else { " " },
        args.join(" ")
    );
    fs::write(out.join("results.md"), md).map_err(|e| e.to_string())?;
    step!("results written to {}", out.join("results.md").display());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_lines_are_parsed_with_prefix() {
        let log = "(d0) bench pte_write mode=hvm64 n=32x5 insns=1234 lo=1200 hi=1300 base=50\n\
                   (d0) bench empty-window mode=hvm64 insns=50\n\
                   test pte_write: PASS\n\
                   bench broken mode=hvm64 insns=x\n";
        let f = parse(log);
        assert_eq!(f.len(), 1);
        let p = &f["pte_write"];
        assert_eq!((p.insns, p.lo, p.hi), (1234, 1200, 1300));
        assert_eq!(p.samples, "32x5");
        assert!((spread(p) - 100.0 * 100.0 / 1234.0).abs() < 1e-9);
    }
}
