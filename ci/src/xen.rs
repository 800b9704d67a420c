//! The Xen source (Debian's source package, exact version, checked) and the
//! builds of the two hypervisors from that one patched tree.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::setup::{output, run};
use crate::{build_dir, repo, step, Result};

pub const XEN_VERSION: &str = "4.17.5+72-g01140da4e8";
pub const DEB_REVISION: &str = "4.17.5+72-g01140da4e8-1";
pub const ORIG_SHA256: &str = "53922f4d0a02c577f2ea9d63f65989cd88715779eebeed879ca1d314103ee06e";

/// Fixed identity strings, so a rebuild with unchanged inputs relinks
/// nothing and the image is reproducible.
const MAKE_IDENTITY: &[&str] = &[
    "XEN_BUILD_DATE=Thu Jan  1 00:00:00 UTC 2026",
    "XEN_BUILD_TIME=00:00:00",
    "XEN_BUILD_HOST=xen-shadow-rs",
    "XEN_WHOAMI=xen-shadow-rs",
    "XEN_DOMAIN=build",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Variant {
    /// multi.c, as Xen ships it.
    Reference,
    /// CONFIG_SHADOW_RUST=y: the xen-shadow-rs object instead of multi.c.
    Rust,
}

impl Variant {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "reference" | "c" => Ok(Self::Reference),
            "rust" => Ok(Self::Rust),
            _ => Err(format!(
                "unknown hypervisor variant {s:?} (reference, rust)"
            )),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Self::Reference => "reference",
            Self::Rust => "rust",
        }
    }
}

/// apt options that use a private sources list and state directory: the
/// machine's own apt configuration is never edited.  The deb-src entry reuses
/// the mirror the machine's bookworm `deb` entry points at.
fn apt_options(dir: &Path) -> Result<Vec<String>> {
    let etc = dir.join("etc");
    fs::create_dir_all(etc.join("sources.list.d")).map_err(|e| e.to_string())?;
    fs::create_dir_all(dir.join("lists/partial")).map_err(|e| e.to_string())?;
    fs::create_dir_all(dir.join("cache/archives/partial")).map_err(|e| e.to_string())?;
    let uri = bookworm_mirror()?;
    let sources = format!(
        "Types: deb-src\nURIs: {uri}\nSuites: bookworm\nComponents: main\n\
         Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    );
    fs::write(etc.join("sources.list.d/xen-src.sources"), sources).map_err(|e| e.to_string())?;
    Ok(vec![
        "-o".into(),
        "Dir::Etc::SourceList=/dev/null".into(),
        "-o".into(),
        format!(
            "Dir::Etc::SourceParts={}",
            etc.join("sources.list.d").display()
        ),
        "-o".into(),
        format!("Dir::State::Lists={}", dir.join("lists").display()),
        "-o".into(),
        format!("Dir::Cache={}", dir.join("cache").display()),
        "-o".into(),
        "APT::Sandbox::User=root".into(),
    ])
}

/// The URI of the machine's Debian bookworm archive (deb822 or one-line).
pub fn bookworm_mirror() -> Result<String> {
    let mut texts = Vec::new();
    if let Ok(dir) = fs::read_dir("/etc/apt/sources.list.d") {
        for e in dir.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "sources" || x == "list") {
                texts.push(fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    texts.push(fs::read_to_string("/etc/apt/sources.list").unwrap_or_default());
    for text in &texts {
        for stanza in text.split("\n\n") {
            let field = |name: &str| {
                stanza
                    .lines()
                    .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
            };
            if let (Some(uris), Some(suites)) = (field("URIs:"), field("Suites:")) {
                if suites.split_whitespace().any(|s| s == "bookworm") {
                    return Ok(uris.split_whitespace().next().unwrap().to_string());
                }
            }
        }
        for l in text.lines() {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.first() == Some(&"deb") {
                let rest: Vec<&str> = w[1..]
                    .iter()
                    .copied()
                    .filter(|x| !x.starts_with('['))
                    .collect();
                if rest.len() >= 2 && rest[1] == "bookworm" {
                    return Ok(rest[0].to_string());
                }
            }
        }
    }
    Err("no Debian bookworm entry in the machine's apt sources".into())
}

fn sha256(path: &Path) -> Result<String> {
    let out = output(Command::new("sha256sum").arg(path))?;
    Ok(out.split_whitespace().next().unwrap_or("").to_string())
}

/// A digest of everything that shapes the patched tree.
fn patches_digest() -> Result<String> {
    let dir = repo().join("patches");
    let mut files = vec![dir.join("series")];
    for name in fs::read_to_string(dir.join("series"))
        .map_err(|e| e.to_string())?
        .lines()
    {
        if !name.trim().is_empty() && !name.starts_with('#') {
            files.push(dir.join(name.trim()));
        }
    }
    let out = output(Command::new("sha256sum").args(&files))?;
    Ok(out
        .split_whitespace()
        .step_by(2)
        .collect::<Vec<_>>()
        .join(" "))
}

/// Downloads (once) Debian's `xen` source package of the exact version,
/// checks the orig tarball, unpacks it and applies patches/.  Returns the
/// source tree (its `xen/` directory holds the hypervisor).
pub fn fetch() -> Result<PathBuf> {
    let base = build_dir();
    let dl = base.join("dl");
    fs::create_dir_all(&dl).map_err(|e| e.to_string())?;
    let orig = dl.join(format!("xen_{XEN_VERSION}.orig.tar.xz"));
    let dsc = dl.join(format!("xen_{DEB_REVISION}.dsc"));
    if !(orig.exists() && dsc.exists() && sha256(&orig)? == ORIG_SHA256) {
        step!("downloading Debian source package xen={DEB_REVISION}");
        let opts = apt_options(&base.join("apt"))?;
        run(Command::new("apt-get").args(&opts).args(["update", "-q"]))?;
        run(Command::new("apt-get")
            .args(&opts)
            .args(["source", "--download-only", "-q"])
            .arg(format!("xen={DEB_REVISION}"))
            .current_dir(&dl))?;
    }
    let got = sha256(&orig)?;
    if got != ORIG_SHA256 {
        return Err(format!(
            "{}: sha256 {got}, expected {ORIG_SHA256}",
            orig.display()
        ));
    }
    step!("orig tarball sha256 ok ({ORIG_SHA256})");

    let tree = base.join("src/xen");
    let stamp = base.join("src/stamp");
    let want = format!("{ORIG_SHA256}\n{}\n", patches_digest()?);
    if fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str())
        && tree.join("xen").is_dir()
    {
        step!("Xen source up to date: {}", tree.display());
        return Ok(tree);
    }
    step!("unpacking {} and applying patches/", dsc.display());
    let _ = fs::remove_dir_all(&tree);
    let _ = fs::remove_file(&stamp);
    fs::create_dir_all(base.join("src")).map_err(|e| e.to_string())?;
    run(Command::new("dpkg-source")
        .arg("-x")
        .arg(&dsc)
        .arg(&tree)
        .env("DEB_BUILD_OPTIONS", ""))?;
    let series = fs::read_to_string(repo().join("patches/series")).map_err(|e| e.to_string())?;
    for name in series
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        step!("applying patches/{name}");
        run(Command::new("patch")
            .args(["-p1", "--forward", "--batch", "-s", "-i"])
            .arg(repo().join("patches").join(name))
            .current_dir(&tree))?;
    }
    fs::write(&stamp, want).map_err(|e| e.to_string())?;
    Ok(tree)
}

/// The build directory of one hypervisor.
pub fn out_dir(v: Variant, debug: bool) -> PathBuf {
    build_dir()
        .join("xen")
        .join(format!("{}{}", v.name(), if debug { "-debug" } else { "" }))
}

/// The checked-in configuration fragments for a variant.
fn fragments(v: Variant, debug: bool) -> Vec<PathBuf> {
    let dir = repo().join("patches/configs");
    let mut f = vec![dir.join("base.config")];
    if v == Variant::Rust {
        f.push(dir.join("rust.config"));
    }
    if debug {
        f.push(dir.join("debug.config"));
    }
    f
}

/// Configures (when the fragments changed) and builds one hypervisor;
/// returns its build directory.  Then proves the result (see `check`).
pub fn build(src: &Path, v: Variant, debug: bool) -> Result<PathBuf> {
    build_at(src, v, debug, out_dir(v, debug), None)
}

/// The root package's cargo feature of the migration test's demonstration
/// build in which the Rust log-dirty bitmap loses dirty bits, and the
/// symbol that only that feature defines.
pub const BREAK_LOGDIRTY_FEATURE: &str = "break-logdirty";
const BREAK_LOGDIRTY_SYMBOL: &str = "xen_shadow_rs_break_logdirty";

/// `build` into another build directory (the migration test's deliberately
/// broken hypervisors: the reference from another tree, the rust one with
/// the cargo feature `features`).  Without `features` the Rust object is
/// built with none, whatever the environment says.
pub fn build_at(
    src: &Path,
    v: Variant,
    debug: bool,
    out: PathBuf,
    features: Option<&str>,
) -> Result<PathBuf> {
    fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let xen_src = src.join("xen");
    let mut fragment = String::new();
    for f in fragments(v, debug) {
        fragment += &fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
    }
    let frag_stamp = out.join(".config.fragment");
    if fs::read_to_string(&frag_stamp).ok().as_deref() != Some(fragment.as_str())
        || !out.join(".config").exists()
    {
        step!("configuring {} hypervisor in {}", v.name(), out.display());
        fs::write(out.join(".config"), &fragment).map_err(|e| e.to_string())?;
        run(Command::new("make")
            .arg("-s")
            .arg(format!("O={}", out.display()))
            .arg("olddefconfig")
            .current_dir(&xen_src))?;
        fs::write(&frag_stamp, &fragment).map_err(|e| e.to_string())?;
    }
    let config = fs::read_to_string(out.join(".config")).map_err(|e| e.to_string())?;
    for line in fragment
        .lines()
        .filter(|l| l.starts_with("CONFIG_") || l.starts_with("# CONFIG_"))
    {
        if !config.lines().any(|c| c == line) {
            return Err(format!("{}: Kconfig did not keep `{line}`", out.display()));
        }
    }

    step!(
        "building {}{} hypervisor (make -j2)",
        v.name(),
        if debug { " debug" } else { "" }
    );
    let jobs = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let mut make = Command::new("make");
    make.arg(format!("-j{jobs}"))
        .arg(format!("O={}", out.display()))
        .arg(format!("DEB_VERSION={DEB_REVISION}"))
        .arg("DEB_MAINTAINER=Debian Xen Team <pkg-xen-devel@lists.alioth.debian.org>")
        .args(MAKE_IDENTITY)
        .current_dir(&xen_src);
    if v == Variant::Rust {
        make.arg(format!("XEN_SHADOW_RS={}", repo().display()));
        make.arg("XEN_VENDORVERSION=-shadow-rs");
    }
    // Read by ffi/xen-object.sh (through make's environment).
    match features {
        Some(f) => make.env("XEN_SHADOW_RS_FEATURES", f),
        None => make.env_remove("XEN_SHADOW_RS_FEATURES"),
    };
    run(&mut make)?;
    check(&xen_src, &out, v, debug)?;
    if v == Variant::Rust {
        check_break_marker(&out, features == Some(BREAK_LOGDIRTY_FEATURE))?;
    }
    Ok(out)
}

/// Global symbols an object defines (`T`/`D`/`R`/`B`...) or needs (`U`).
fn symbols(obj: &Path, undefined: bool) -> Result<BTreeSet<String>> {
    let mut cmd = Command::new("nm");
    cmd.args(["--plugin", "/dev/null"]);
    if undefined {
        cmd.arg("-u");
    } else {
        cmd.arg("--defined-only").arg("-g");
    }
    let text = output(cmd.arg(obj))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .map(str::to_string)
        .collect())
}

/// Post-build proof:
/// * the symbols common.c takes from the per-level code are exactly the
///   catalogue's (`xen_shadow_rs::entry`), for this configuration;
/// * in the rust build the Rust object defines every one of them and no C
///   object defines any (no guest_*.o), and the Rust object passes
///   check-object.sh; in the reference build guest_{2,3,4}.o define them;
/// * Xen's check-endbr.sh accepts xen-syms (IBT).
pub fn check(xen_src: &Path, out: &Path, v: Variant, debug: bool) -> Result {
    let shadow = out.join("arch/x86/mm/shadow");
    let mut expected = BTreeSet::new();
    xen_shadow_rs::entry::for_each_symbol(debug, |name, l| {
        expected.insert(format!("{name}__guest_{l}"));
    });
    let needed: BTreeSet<String> = symbols(&shadow.join("common.o"), true)?
        .into_iter()
        .filter(|s| s.contains("__guest_"))
        .collect();
    if needed != expected {
        return Err(format!(
            "common.o needs {:?}, the entry catalogue lists {:?}",
            needed.difference(&expected).collect::<Vec<_>>(),
            expected.difference(&needed).collect::<Vec<_>>()
        ));
    }
    let mut c_defined = BTreeSet::new();
    for e in fs::read_dir(&shadow).map_err(|e| e.to_string())?.flatten() {
        let p = e.path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".o")
            && name != "rust_multi.o"
            && name != "built_in.o"
            && !name.ends_with(".init.o")
        {
            c_defined.extend(
                symbols(&p, false)?
                    .into_iter()
                    .filter(|s| needed.contains(s)),
            );
        }
    }
    match v {
        Variant::Rust => {
            if !c_defined.is_empty() {
                return Err(format!(
                    "C objects define {c_defined:?}: multi.c is still linked"
                ));
            }
            let rust = symbols(&shadow.join("rust_multi.o"), false)?;
            let missing: Vec<_> = needed.iter().filter(|s| !rust.contains(*s)).collect();
            if !missing.is_empty() {
                return Err(format!("the Rust object does not define {missing:?}"));
            }
            run(Command::new("sh")
                .arg(repo().join("ffi/check-object.sh"))
                .arg(shadow.join("rust_multi.o")))?;
            step!(
                "symbols: the Rust object defines all {} symbols common.c needs; no C object does",
                needed.len()
            );
        }
        Variant::Reference => {
            if c_defined != needed {
                return Err(format!(
                    "guest_*.o define {c_defined:?}, common.o needs {needed:?}"
                ));
            }
            step!(
                "symbols: guest_{{2,3,4}}.o define the {} symbols of the catalogue",
                needed.len()
            );
        }
    }
    check_logdirty(out, v)?;
    run(Command::new("sh")
        .arg(xen_src.join("tools/check-endbr.sh"))
        .arg(out.join("xen-syms")))?;
    step!("check-endbr.sh xen-syms: ok");
    Ok(())
}

/// The demonstration feature `break-logdirty` is in the Rust object exactly
/// when it was asked for: the normal rust hypervisor never has it.
fn check_break_marker(out: &Path, want: bool) -> Result {
    let rust = symbols(&out.join("arch/x86/mm/shadow/rust_multi.o"), false)?;
    let has = rust.contains(BREAK_LOGDIRTY_SYMBOL);
    if has != want {
        return Err(format!(
            "{}: the Rust object {} {BREAK_LOGDIRTY_SYMBOL} (feature {BREAK_LOGDIRTY_FEATURE} {})",
            out.display(),
            if has { "defines" } else { "does not define" },
            if want { "asked for" } else { "not asked for" }
        ));
    }
    if want {
        step!("DEMONSTRATION build: feature {BREAK_LOGDIRTY_FEATURE} is in the Rust object");
    } else {
        step!("feature {BREAK_LOGDIRTY_FEATURE}: not in the Rust object (normal build)");
    }
    Ok(())
}

/// Every symbol an object defines, global or local (`nm --defined-only`).
fn all_defined(obj: &Path) -> Result<BTreeSet<String>> {
    let text = output(
        Command::new("nm")
            .args(["--plugin", "/dev/null", "--defined-only"])
            .arg(obj),
    )?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .map(str::to_string)
        .collect())
}

/// Log-dirty in Rust (`xen_shadow_rs::entry::LOGDIRTY_EXPORTS`): for each
/// function whose option is on in this build, the Rust object defines the
/// symbol and the C object that used to define the function does not; with
/// the option off (and always in the reference build), the C object still
/// defines the global ones, so the check is known to look at the right place.
fn check_logdirty(out: &Path, v: Variant) -> Result {
    let config = fs::read_to_string(out.join(".config")).map_err(|e| e.to_string())?;
    let rust = match v {
        Variant::Rust => symbols(&out.join("arch/x86/mm/shadow/rust_multi.o"), false)?,
        Variant::Reference => BTreeSet::new(),
    };
    let (mut moved, mut kept) = (0, 0);
    for x in xen_shadow_rs::entry::LOGDIRTY_EXPORTS {
        let on = config.lines().any(|l| l == x.option.config_line());
        let c_defines = all_defined(&out.join(x.object))?.contains(x.replaces);
        if on {
            if !rust.contains(x.symbol) {
                return Err(format!(
                    "{}: the Rust object does not define {}",
                    x.option.config_line(),
                    x.symbol
                ));
            }
            if c_defines {
                return Err(format!(
                    "{}: {} still defines {}",
                    x.option.config_line(),
                    x.object,
                    x.replaces
                ));
            }
            moved += 1;
        } else {
            // (A static C function may be inlined and leave no symbol; the
            // global ones cannot.)
            if !c_defines && x.replaces == x.symbol {
                return Err(format!(
                    "{} does not define {} (is the check looking at the right object?)",
                    x.object, x.replaces
                ));
            }
            if rust.contains(x.symbol) {
                return Err(format!(
                    "{} is off but the Rust object defines {}",
                    x.option.config_line(),
                    x.symbol
                ));
            }
            kept += 1;
        }
    }
    step!("log-dirty: {moved} functions from the Rust object, {kept} from C");
    Ok(())
}
