//! `cargo xtask`: the project's build, boot and test driver.
//!
//! ```text
//! cargo xtask run            main job: build both hypervisors, boot guests
//! cargo xtask test           everything CI runs (host tests, builds, boots)
//! cargo xtask setup          install Debian packages and rustup parts
//! cargo xtask fetch          get and patch the Xen source
//! cargo xtask build [VARIANT...] [--debug]   reference | rust (default: both)
//! cargo xtask boot VARIANT MODE [--debug] [--audit] [--smp]
//!                            boot one guest, print the log (--audit:
//!                            `shadow-audit`; --smp: two vCPUs, smp_* tests only)
//! cargo xtask status         print docs/status.md from the entry catalogue
//! cargo xtask fuzz [--execs N] [--jobs J] [--no-trace-compares] [TARGET...]
//!                                                     run the fuzz targets
//! cargo xtask migrate [VARIANT...] [--case NAME]... [--debug] [--verbose] [--no-build]
//!                     [--break stale=N|logdirty]
//!                            live-migration test (docs/migration.md)
//! cargo xtask bench migrate [--case NAME]...  its figures, both hypervisors
//! cargo xtask bench [--modes m1,m2] [--only OP]   C vs Rust instruction counts
//! cargo xtask profile OP MODE [--skip N] [--fn F]   one operation's
//!                                  instructions per function, C vs Rust
//! cargo xtask stack [--no-build]   code size and stack figures of both builds
//! ```
//! Everything lives under `build/` in the checkout and is rebuilt only when
//! its inputs change.

mod bench;
mod dom0;
mod fuzz;
mod harness;
mod migrate;
mod profile;
mod setup;
mod stack;
mod status;
mod xen;

use std::path::PathBuf;
use std::process::ExitCode;

/// The checkout this xtask was built from.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `build/` under the checkout (or `$XEN_SHADOW_BUILD`).
pub fn build_dir() -> PathBuf {
    std::env::var_os("XEN_SHADOW_BUILD")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("build"))
}

/// Progress line on stderr.
#[macro_export]
macro_rules! step {
    ($($arg:tt)*) => { eprintln!("==> {}", format!($($arg)*)) };
}

pub type Result<T = ()> = std::result::Result<T, String>;

/// The number after option `name` in `it` (`_` separators allowed, as in
/// `10_000_000`).
pub fn num_arg<'a, T: std::str::FromStr>(
    it: &mut impl Iterator<Item = &'a String>,
    name: &str,
) -> Result<T> {
    it.next()
        .and_then(|n| n.replace('_', "").parse().ok())
        .ok_or_else(|| format!("{name} needs a number"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let debug = args.iter().any(|a| a == "--debug");
    let audit = args.iter().any(|a| a == "--audit");
    let smp = args.iter().any(|a| a == "--smp");
    let words: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let result = match words.as_slice() {
        ["setup"] => setup::setup(),
        ["fetch"] => setup::setup().and_then(|_| xen::fetch().map(|_| ())),
        ["build", variants @ ..] => build(variants, debug),
        ["boot", variant, mode] => boot(variant, mode, debug, audit, smp),
        ["status"] => {
            print!("{}", status::render());
            Ok(())
        }
        ["run"] => harness::main_job(),
        ["migrate", ..] => migrate::Options::parse(&args[1..]).and_then(|o| migrate::migrate(&o)),
        ["bench", "migrate", ..] => {
            migrate::Options::parse(&args[2..]).and_then(|o| migrate::bench(&o))
        }
        ["bench", ..] => {
            // Its options (`--modes`, `--only`) take values: pass them raw.
            let raw: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
            bench::bench(&raw)
        }
        ["profile", ..] => profile::profile(&args[1..]),
        ["stack"] => stack_cmd(args.iter().any(|a| a == "--no-build")),
        ["test"] => harness::test_all(),
        ["fuzz", ..] => fuzz::run(&args[1..]),
        _ => Err(format!(
            "usage: see the top of {}/ci/src/main.rs",
            repo().display()
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--no-build`: analyse the hypervisors already in build/xen/.
fn stack_cmd(no_build: bool) -> Result {
    let (reference, rust) = if no_build {
        (
            xen::out_dir(xen::Variant::Reference, false),
            xen::out_dir(xen::Variant::Rust, false),
        )
    } else {
        setup::setup()?;
        let src = xen::fetch()?;
        (
            xen::build(&src, xen::Variant::Reference, false)?,
            xen::build(&src, xen::Variant::Rust, false)?,
        )
    };
    print!("{}", stack::report(&reference, &rust)?);
    Ok(())
}

fn build(variants: &[&str], debug: bool) -> Result {
    setup::setup()?;
    let src = xen::fetch()?;
    let variants: Vec<xen::Variant> = if variants.is_empty() {
        vec![xen::Variant::Reference, xen::Variant::Rust]
    } else {
        variants
            .iter()
            .map(|v| xen::Variant::parse(v))
            .collect::<Result<_>>()?
    };
    for v in variants {
        xen::build(&src, v, debug)?;
    }
    Ok(())
}

fn boot(variant: &str, mode: &str, debug: bool, audit: bool, smp: bool) -> Result {
    let v = xen::Variant::parse(variant)?;
    setup::setup()?;
    let src = xen::fetch()?;
    let xen = xen::build(&src, v, debug)?;
    let guests = harness::build_guests()?;
    let mut run = harness::Boot::new(&xen, v, debug, harness::Mode::parse(mode)?, &guests)?;
    if audit {
        run = run.audited();
    }
    if smp {
        run = run.smp();
    }
    let out = run.run()?;
    print!("{}", out.log);
    println!("outcome: {}", out.outcome);
    Ok(())
}
