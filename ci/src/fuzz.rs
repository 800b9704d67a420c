//! `cargo xtask fuzz [--execs N] [--jobs J] [--no-trace-compares] [TARGET...]`:
//! runs each cargo-fuzz
//! target of `fuzz/` for N executions (default 100000; with J jobs, N per
//! job) and prints, per
//! target, the executions, libFuzzer's coverage figures (`cov`: edges,
//! `ft`: features), the corpus size, the rate and the findings (crash
//! artifacts).  Fails if any target found something.
//!
//! The targets need nightly-only rustc flags; like the Xen object build
//! (`ffi/xen-object.sh`) the stable toolchain runs them with
//! `RUSTC_BOOTSTRAP=1`.  Debug assertions are on (`-a`), so arithmetic
//! overflow panics; no sanitizer is needed for safe Rust (`-s none`).
//! `--no-trace-compares` builds without libFuzzer's comparison tracing
//! (every integer comparison of the instrumented code calls into libFuzzer,
//! which feeds its comparison-guided mutations): the same checks, several
//! times the executions per second, less guidance (docs/testing.md).

use std::process::Command;

use crate::{repo, step, Result};

/// The targets in `fuzz/Cargo.toml`.
pub const TARGETS: [&str; 3] = ["guest_ops", "pte_writes", "walk_compare"];

/// What one libFuzzer run reported.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub execs: u64,
    pub cov: u64,
    pub ft: u64,
    pub corpus: u64,
    pub exec_per_sec: u64,
    pub findings: Vec<String>,
    /// Inputs libFuzzer saved as slow (> 10 s on a loaded machine): not
    /// findings.
    pub slow: u64,
}

/// Parses libFuzzer's output (`-print_final_stats=1`).
pub fn parse(out: &str) -> Report {
    let mut r = Report::default();
    let num = |s: &str| -> u64 {
        s.trim()
            .trim_end_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .unwrap_or(0)
    };
    for line in out.lines() {
        if let Some(v) = line.strip_prefix("stat::number_of_executed_units:") {
            // One line per job: they add up.
            r.execs += num(v);
        } else if let Some(v) = line.strip_prefix("stat::average_exec_per_sec:") {
            r.exec_per_sec += num(v);
        } else if line.starts_with('#') && line.contains(" cov: ") {
            // "#4096	pulse  cov: 812 ft: 2213 corp: 57/1831b exec/s: 2048 rss: 46Mb"
            let mut it = line.split_whitespace();
            while let Some(w) = it.next() {
                match w {
                    "cov:" => r.cov = it.next().map(num).unwrap_or(r.cov),
                    "ft:" => r.ft = it.next().map(num).unwrap_or(r.ft),
                    "corp:" => {
                        r.corpus = it
                            .next()
                            .and_then(|c| c.split('/').next())
                            .map(num)
                            .unwrap_or(r.corpus)
                    }
                    _ => {}
                }
            }
        } else if line.contains("Test unit written to") && line.contains("/slow-unit-") {
            r.slow += 1;
        } else if line.contains("Test unit written to") || line.contains("panicked at") {
            r.findings.push(line.trim().to_string());
        }
    }
    r
}

/// Builds and runs the targets.
pub fn run(args: &[String]) -> Result {
    let mut execs: u64 = 100_000;
    let mut jobs: u32 = 1;
    let mut trace_compares = true;
    let mut targets = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--execs" => execs = crate::num_arg(&mut it, a)?,
            "--jobs" => jobs = crate::num_arg(&mut it, a)?,
            "--no-trace-compares" => trace_compares = false,
            t if TARGETS.contains(&t) => targets.push(t.to_string()),
            other => {
                return Err(format!(
                    "fuzz: unknown argument {other} (targets: {TARGETS:?})"
                ))
            }
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| t.to_string()).collect();
    }
    ensure_cargo_fuzz()?;
    let root = repo();
    let mut rows = Vec::new();
    let mut failed = false;
    for t in &targets {
        step!("cargo fuzz run {t} ({execs} executions)");
        let corpus = root.join("fuzz/corpus").join(t);
        std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
        let start = std::time::Instant::now();
        let mut cmd = Command::new("cargo");
        cmd.current_dir(&root)
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", "-a", "-s", "none"]);
        if !trace_compares {
            cmd.arg("--no-trace-compares");
        }
        cmd.arg(t).arg("--").arg(format!("-runs={execs}")).args([
            "-print_final_stats=1",
            "-max_len=1024",
            "-timeout=60",
        ]);
        if jobs > 1 {
            // Parallel jobs split the executions between them; libFuzzer
            // writes each job's output to fuzz-<n>.log in the checkout and
            // copies it to stderr when the job ends (so two `xtask fuzz`
            // must not run with --jobs in one checkout at the same time).
            cmd.arg(format!("-jobs={jobs}"))
                .arg(format!("-workers={jobs}"));
        }
        let (status, text) = run_streaming(&mut cmd)
            .map_err(|e| format!("cargo fuzz: {e} (install with `cargo install cargo-fuzz`)"))?;
        let mut r = parse(&text);
        if !status.success() && r.findings.is_empty() {
            r.findings.push(format!("cargo fuzz exited with {status}"));
            eprintln!("{}", tail(&text, 30));
        }
        failed |= !r.findings.is_empty();
        rows.push((t.clone(), r, start.elapsed().as_secs()));
    }
    println!(
        "{:<14} {:>12} {:>7} {:>8} {:>7} {:>9} {:>7}  findings",
        "target", "execs", "cov", "ft", "corpus", "exec/s", "secs"
    );
    for (t, r, secs) in &rows {
        println!(
            "{:<14} {:>12} {:>7} {:>8} {:>7} {:>9} {:>7}  {}",
            t,
            r.execs,
            r.cov,
            r.ft,
            r.corpus,
            r.exec_per_sec,
            secs,
            if r.findings.is_empty() && r.slow == 0 {
                "none".to_string()
            } else if r.findings.is_empty() {
                format!("none ({} slow inputs saved)", r.slow)
            } else {
                r.findings.join("; ")
            }
        );
    }
    if failed {
        Err("fuzzing found problems (artifacts under fuzz/artifacts/)".into())
    } else {
        Ok(())
    }
}

/// Runs `cmd` with its output copied to stderr line by line as it comes
/// (a long run shows its progress, e.g. in a log file), and returns the
/// exit status and all of the output (stdout, then stderr).
fn run_streaming(cmd: &mut Command) -> std::io::Result<(std::process::ExitStatus, String)> {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let copy = |pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut all = String::new();
            let mut r = BufReader::new(pipe);
            let mut buf = Vec::new();
            while r.read_until(b'\n', &mut buf).unwrap_or(0) > 0 {
                let line = String::from_utf8_lossy(&buf);
                let line = line.trim_end_matches('\n');
                eprintln!("{line}");
                all.push_str(line);
                all.push('\n');
                buf.clear();
            }
            all
        })
    };
    let out = child.stdout.take().map(|p| copy(Box::new(p)));
    let err = child.stderr.take().map(|p| copy(Box::new(p)));
    let status = child.wait()?;
    let mut text = String::new();
    for t in [out, err].into_iter().flatten() {
        text.push_str(&t.join().unwrap_or_default());
    }
    Ok((status, text))
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// cargo-fuzz from crates.io if it is missing.
fn ensure_cargo_fuzz() -> Result {
    let have = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if have {
        return Ok(());
    }
    step!("cargo install cargo-fuzz");
    let ok = Command::new("cargo")
        .args(["install", "cargo-fuzz"])
        .status()
        .map_err(|e| e.to_string())?
        .success();
    if ok {
        Ok(())
    } else {
        Err("cargo install cargo-fuzz failed".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_libfuzzer_output() {
        let out = "INFO: Seed: 1\n#2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 30Mb\n\
                   #4096\tpulse  cov: 812 ft: 2213 corp: 57/1831b lim: 43 exec/s: 2048 rss: 46Mb\n\
                   #100000\tDONE   cov: 950 ft: 3001 corp: 80/3Kb lim: 1024 exec/s: 3333 rss: 60Mb\n\
                   Done 100000 runs in 30 second(s)\n\
                   stat::number_of_executed_units: 100000\nstat::average_exec_per_sec:     3333\n\
                   stat::new_units_added:          79\n";
        let r = parse(out);
        assert_eq!(
            r,
            Report {
                execs: 100_000,
                cov: 950,
                ft: 3001,
                corpus: 80,
                exec_per_sec: 3333,
                findings: vec![],
                slow: 0,
            }
        );
        let slow = "Test unit written to /w/fuzz/artifacts/guest_ops/slow-unit-9d34\n";
        assert_eq!((parse(slow).slow, parse(slow).findings.len()), (1, 0));
        let crash = "thread '<unnamed>' panicked at src/sim/guest.rs:1:1:\n==1== ERROR: libFuzzer: deadly signal\n\
                     artifact_prefix='fuzz/artifacts/guest_ops/'; Test unit written to fuzz/artifacts/guest_ops/crash-abc\n";
        assert_eq!(parse(crash).findings.len(), 2);
    }
}
