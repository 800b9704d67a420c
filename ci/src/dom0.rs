//! The migration test's dom0: Debian bookworm's Xen 4.17 toolstack and
//! kernel, busybox, and the test's own files (tests/migrate/), as an
//! initramfs.
//!
//! The .deb files are fetched by exact version with a private apt
//! configuration under `build/dom0/apt/` (the machine's apt configuration is
//! not touched), cached in `build/dom0/debs/` and checked against the sha256
//! sums below before every use.  They are unpacked with `dpkg-deb -x`, never
//! installed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::setup::{output, run};
use crate::{build_dir, repo, step, Result};

/// Every package the dom0 and the domU are made of: (name, exact version,
/// sha256 of the .deb).  Xen's packages are those of the hypervisor's
/// source package (xen::DEB_REVISION); the rest are what the toolstack
/// links against, the kernel and busybox.
pub const DEBS: &[(&str, &str, &str)] = &[
    (
        "xen-utils-4.17",
        "4.17.5+72-g01140da4e8-1",
        "2e0dc8bf6f08bd655b58ed1150ff97790637b641c79f9c8331ee242d651ae935",
    ),
    (
        "xen-utils-common",
        "4.17.5+72-g01140da4e8-1",
        "6919ccbf26703ea7ed0368db7ef96b00c47fc6da37d3a9a0de57e2ff4c7bd281",
    ),
    (
        "xenstore-utils",
        "4.17.5+72-g01140da4e8-1",
        "252f50267fd7734d6ca035b5ab1e30d4b688ccddcded6c0c908f27ffa0ff1e64",
    ),
    (
        "libxenmisc4.17",
        "4.17.5+72-g01140da4e8-1",
        "a4fa17c1b2ebcba786fb836668544adb3f3fb3fe364855d2185d8ffa62c53f9a",
    ),
    (
        "libxencall1",
        "4.17.5+72-g01140da4e8-1",
        "ebc1eee0055e48f3087010d146ced41a86d541964f9cfd307602c9636468b223",
    ),
    (
        "libxenevtchn1",
        "4.17.5+72-g01140da4e8-1",
        "8a72c80afd46771baa611e1a31de8c5becb06779dead336ad345e625ebb80859",
    ),
    (
        "libxenforeignmemory1",
        "4.17.5+72-g01140da4e8-1",
        "403cdb05a64851e4eea4c87b1ab50845a8371ac5fc361bcf2daacbe63b79a6ae",
    ),
    (
        "libxengnttab1",
        "4.17.5+72-g01140da4e8-1",
        "31180a1f5076fc1c59f5035d9326d4c7cfc0ae1c5978485153b161d3b6a253bb",
    ),
    (
        "libxenstore4",
        "4.17.5+72-g01140da4e8-1",
        "56d2c3577047398810ce6e318ecbcb88944f3cacdadcbf5a5ed1f1b74784111f",
    ),
    (
        "libxentoollog1",
        "4.17.5+72-g01140da4e8-1",
        "063973644ce91c34dea31acc1d806c6cd26e7f7d6d152d06dd70fc817ad0a3e9",
    ),
    (
        "libxendevicemodel1",
        "4.17.5+72-g01140da4e8-1",
        "f16055e3a12c38abd5a10530a0895d274e69d26fb73aa373efd5f5477785712b",
    ),
    (
        "libxenhypfs1",
        "4.17.5+72-g01140da4e8-1",
        "60f0b99631a3b312b8c206f2caee5c59a0bfab738b90a88db4c322e7613e635f",
    ),
    (
        "libxentoolcore1",
        "4.17.5+72-g01140da4e8-1",
        "18326e8ce11a42c7e2646a6954cfd22b1ac1cc889c4508d4ed94c913e2658541",
    ),
    (
        "libyajl2",
        "2.1.0-3+deb12u2",
        "b512a6efbe735e7c731185a1b3ea477ff306f0c3f6aa2970e85b12f01fe8063b",
    ),
    (
        "libc6",
        "2.36-9+deb12u14",
        "ba4f88f73dbc3ae9055f3c20f4523bfdbaf1ad13ff95e258924f77d20b4fbedf",
    ),
    (
        "libgcc-s1",
        "12.2.0-14+deb12u1",
        "3016e62cb4b7cd8038822870601f5ed131befe942774d0f745622cc77d8a88f7",
    ),
    (
        "libncurses6",
        "6.4-4",
        "72300f09f02669c06c99b641ea795d52300ec7eb65eaccddf7bc3b72934f0ef5",
    ),
    (
        "libtinfo6",
        "6.4-4",
        "072d908f38f51090ca28ca5afa3b46b2957dc61fe35094c0b851426859a49a51",
    ),
    (
        "libext2fs2",
        "1.47.0-2+b2",
        "dff731f2318df99da4b8bf5f330f415f95b94c609bac29e7b2edba0a38f22a98",
    ),
    (
        "libcom-err2",
        "1.47.0-2+b2",
        "a2bac7015e78fbc0c504df3e441f3a22292f1d2d77f9ccda760057f3690e22f2",
    ),
    (
        "liblzma5",
        "5.4.1-1+deb12u1",
        "f96d8876b53ec89d76a992bc199679b818cf518225a768954d9451fb556a4eb7",
    ),
    (
        "libuuid1",
        "2.38.1-5+deb12u3",
        "5fff398321da62d28a842bcbabd193d72ae21724962c029dc32b1dc6b2deaeaf",
    ),
    (
        "libzstd1",
        "1.5.4+dfsg2-5",
        "6315b5ac38b724a710fb96bf1042019398cb656718b1522279a5185ed39318fa",
    ),
    (
        "zlib1g",
        "1:1.2.13.dfsg-1",
        "d7dd1d1411fedf27f5e27650a6eff20ef294077b568f4c8c5e51466dc7c08ce4",
    ),
    (
        "busybox-static",
        "1:1.35.0-4+deb12u1+b1",
        "3d3fdbe91d4660c873e14b092c213fe81c1da6362daa236eb25d0171eb108744",
    ),
    (
        "linux-image-6.1.0-50-amd64-unsigned",
        "6.1.176-1",
        "439422e41d2dbb840b60b81e3bf5e5955bfa56b7a8c268aec83c9ff882d421e6",
    ),
];

/// The kernel release inside the linux-image package (dom0 and domU).
pub const KERNEL_RELEASE: &str = "6.1.0-50-amd64";

/// The dom0 kernel modules the toolstack needs (in load order, see
/// tests/migrate/dom0-init.sh), under kernel/drivers/xen/.
const MODULES: &[&str] = &[
    "xen-evtchn.ko",
    "xen-privcmd.ko",
    "xenfs/xenfs.ko",
    "xen-gntdev.ko",
    "xen-gntalloc.ko",
];

/// The test's own files copied into the dom0 (source in tests/migrate/,
/// destination in the initramfs, mode).
const OWN_FILES: &[(&str, &str, u32)] = &[
    ("dom0-init.sh", "init", 0o755),
    ("mig-local", "usr/local/bin/mig-local", 0o755),
    ("pv.cfg", "etc/xen/pv.cfg", 0o644),
    ("pvh.cfg", "etc/xen/pvh.cfg", 0o644),
    ("pv-churn.cfg", "etc/xen/pv-churn.cfg", 0o644),
];

/// What QEMU boots: the dom0 kernel (plain ELF vmlinux: Xen has no xz
/// decompressor for dom0, and an ELF loads faster) and the initramfs.
pub struct Dom0 {
    pub vmlinux: PathBuf,
    pub initramfs: PathBuf,
}

/// The file name apt-get download gives a package (an epoch's colon is
/// written %3a).
fn deb_file(name: &str, version: &str) -> String {
    format!("{name}_{}_amd64.deb", version.replace(':', "%3a"))
}

fn sha256(path: &Path) -> Result<String> {
    let out = output(Command::new("sha256sum").arg(path))?;
    Ok(out.split_whitespace().next().unwrap_or("").to_string())
}

/// apt options for binary packages with a private configuration, sources
/// list and state under `dir` (nothing of the machine's apt is touched;
/// `Dir::State::status=/dev/null`: nothing counts as installed).
fn apt_options(dir: &Path) -> Result<Vec<String>> {
    let etc = dir.join("etc/sources.list.d");
    for d in [
        etc.clone(),
        dir.join("lists/partial"),
        dir.join("cache/archives/partial"),
    ] {
        fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let uri = crate::xen::bookworm_mirror()?;
    let sources = format!(
        "Types: deb\nURIs: {uri}\nSuites: bookworm\nComponents: main\nArchitectures: amd64\n\
         Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    );
    fs::write(etc.join("bookworm.sources"), sources).map_err(|e| e.to_string())?;
    Ok([
        "Dir::Etc::SourceList=/dev/null".to_string(),
        format!("Dir::Etc::SourceParts={}", etc.display()),
        format!("Dir::State::Lists={}", dir.join("lists").display()),
        "Dir::State::status=/dev/null".to_string(),
        format!("Dir::Cache={}", dir.join("cache").display()),
        "APT::Sandbox::User=root".to_string(),
        "APT::Architecture=amd64".to_string(),
    ]
    .into_iter()
    .flat_map(|o| ["-o".to_string(), o])
    .collect())
}

/// Downloads the packages missing from the cache, then checks every one.
fn fetch_debs() -> Result<PathBuf> {
    let base = build_dir().join("dom0");
    let debs = base.join("debs");
    fs::create_dir_all(&debs).map_err(|e| e.to_string())?;
    let mut missing = Vec::new();
    for (name, version, sum) in DEBS {
        let f = debs.join(deb_file(name, version));
        if !(f.exists() && sha256(&f)? == *sum) {
            let _ = fs::remove_file(&f);
            missing.push(format!("{name}={version}"));
        }
    }
    if !missing.is_empty() {
        step!(
            "downloading {} Debian packages for the migration dom0",
            missing.len()
        );
        let opts = apt_options(&base.join("apt"))?;
        run(Command::new("apt-get").args(&opts).args(["update", "-q"]))?;
        run(Command::new("apt-get")
            .args(&opts)
            .args(["download", "-q"])
            .args(&missing)
            .current_dir(&debs))?;
    }
    for (name, version, sum) in DEBS {
        let f = debs.join(deb_file(name, version));
        let got = sha256(&f)?;
        if got != *sum {
            return Err(format!("{}: sha256 {got}, expected {sum}", f.display()));
        }
    }
    step!("{} dom0 packages present, sha256 ok", DEBS.len());
    Ok(debs)
}

/// A digest of every input of the initramfs.
fn inputs_digest() -> Result<String> {
    let dir = repo().join("tests/migrate");
    let mut files: Vec<PathBuf> = OWN_FILES.iter().map(|(f, _, _)| dir.join(f)).collect();
    files.push(dir.join("pattern.c"));
    files.push(dir.join("streamstat.c"));
    files.push(repo().join("ci/src/dom0.rs"));
    let sums = output(Command::new("sha256sum").args(&files))?;
    let debs: Vec<&str> = DEBS.iter().map(|(_, _, s)| *s).collect();
    Ok(format!("{sums}{}\n", debs.join("\n")))
}

fn copy(from: &Path, to: &Path, mode: Option<u32>) -> Result {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    // cp -a keeps symlinks (the shared-library links) as they are.
    run(Command::new("cp").arg("-a").arg(from).arg(to))?;
    if let Some(mode) = mode {
        run(Command::new("chmod").arg(format!("{mode:o}")).arg(to))?;
    }
    Ok(())
}

/// A newc cpio archive of `dir`, written by busybox's cpio applet (the
/// machine has no cpio binary).
fn cpio(busybox: &Path, dir: &Path, out: &Path) -> Result {
    let list = output(
        Command::new("find")
            .arg(".")
            .arg("-mindepth")
            .arg("1")
            .current_dir(dir),
    )?;
    let list_path = out.with_extension("list");
    fs::write(&list_path, list).map_err(|e| e.to_string())?;
    let file = fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let input = fs::File::open(&list_path).map_err(|e| e.to_string())?;
    run(Command::new(busybox)
        .args(["cpio", "-o", "-H", "newc"])
        .current_dir(dir)
        .stdin(input)
        .stdout(file)
        .stderr(std::process::Stdio::null()))?;
    let _ = fs::remove_file(&list_path);
    Ok(())
}

/// The uncompressed kernel inside a bzImage: the xz stream after the setup
/// code, decompressed with `xz --single-stream` (which stops at the stream's
/// end and ignores what follows).
fn extract_vmlinux(bzimage: &Path, out: &Path) -> Result {
    let data = fs::read(bzimage).map_err(|e| format!("{}: {e}", bzimage.display()))?;
    let magic = [0xfd, b'7', b'z', b'X', b'Z', 0];
    let at = data
        .windows(magic.len())
        .position(|w| w == magic)
        .ok_or_else(|| format!("{}: no xz stream", bzimage.display()))?;
    let xz_path = out.with_extension("xz");
    fs::write(&xz_path, &data[at..]).map_err(|e| e.to_string())?;
    let file = fs::File::create(out).map_err(|e| e.to_string())?;
    let input = fs::File::open(&xz_path).map_err(|e| e.to_string())?;
    run(Command::new("xz")
        .args(["-dc", "--single-stream"])
        .stdin(input)
        .stdout(file))?;
    let _ = fs::remove_file(&xz_path);
    let elf = fs::read(out).map_err(|e| e.to_string())?;
    if !elf.starts_with(b"\x7fELF") {
        return Err(format!("{}: not an ELF file", out.display()));
    }
    Ok(())
}

/// Fetches the packages and builds (when an input changed) the dom0 kernel
/// and initramfs under `build/dom0/`.
pub fn build() -> Result<Dom0> {
    let debs = fetch_debs()?;
    let base = build_dir().join("dom0");
    let dom0 = Dom0 {
        vmlinux: base.join(format!("vmlinux-{KERNEL_RELEASE}")),
        initramfs: base.join("dom0.cpio"),
    };
    let stamp = base.join("stamp");
    let want = inputs_digest()?;
    if fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str())
        && dom0.vmlinux.exists()
        && dom0.initramfs.exists()
    {
        step!("migration dom0 up to date: {}", dom0.initramfs.display());
        return Ok(dom0);
    }
    let _ = fs::remove_file(&stamp);
    step!("building the migration dom0 initramfs");

    // Every package unpacked into one tree.
    let unpacked = base.join("unpacked");
    let _ = fs::remove_dir_all(&unpacked);
    fs::create_dir_all(&unpacked).map_err(|e| e.to_string())?;
    for (name, version, _) in DEBS {
        run(Command::new("dpkg-deb")
            .arg("-x")
            .arg(debs.join(deb_file(name, version)))
            .arg(&unpacked))?;
    }
    let busybox = unpacked.join("bin/busybox");

    // The test's programs, static: the pattern writer/checker (the domU's
    // /init) and the stream filter (dom0).
    for prog in ["pattern", "streamstat"] {
        run(Command::new("gcc")
            .args(["-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(base.join(prog))
            .arg(repo().join(format!("tests/migrate/{prog}.c"))))?;
    }
    let pattern = base.join("pattern");
    let domu = base.join("domu");
    let _ = fs::remove_dir_all(&domu);
    for d in ["dev", "proc"] {
        fs::create_dir_all(domu.join(d)).map_err(|e| e.to_string())?;
    }
    copy(&pattern, &domu.join("init"), Some(0o755))?;

    // The dom0's tree.
    let root = base.join("rootfs");
    let _ = fs::remove_dir_all(&root);
    for d in [
        "dev", "proc", "sys", "run", "tmp", "var", "etc/xen", "boot", "root",
    ] {
        fs::create_dir_all(root.join(d)).map_err(|e| e.to_string())?;
    }
    // Shared libraries and the loader (usr/lib/x86_64-linux-gnu without
    // glibc's gconv modules, which nothing here uses), the toolstack,
    // busybox.
    for dir in ["lib/x86_64-linux-gnu", "usr/lib/xen-4.17", "lib64"] {
        copy(&unpacked.join(dir), &root.join(dir), None)?;
    }
    fs::create_dir_all(root.join("usr/lib/x86_64-linux-gnu")).map_err(|e| e.to_string())?;
    for e in fs::read_dir(unpacked.join("usr/lib/x86_64-linux-gnu"))
        .map_err(|e| e.to_string())?
        .flatten()
    {
        if e.file_name() != "gconv" {
            copy(
                &e.path(),
                &root.join("usr/lib/x86_64-linux-gnu").join(e.file_name()),
                None,
            )?;
        }
    }
    for tool in ["xenstore-read", "xenstore-write", "xenstore-ls"] {
        let p = unpacked.join("usr/bin").join(tool);
        if p.exists() {
            copy(&p, &root.join("usr/bin").join(tool), None)?;
        }
    }
    copy(&busybox, &root.join("bin/busybox"), Some(0o755))?;
    copy(
        &base.join("streamstat"),
        &root.join("usr/local/bin/streamstat"),
        Some(0o755),
    )?;
    let kmod = format!("lib/modules/{KERNEL_RELEASE}/kernel/drivers/xen");
    for m in MODULES {
        copy(
            &unpacked.join(&kmod).join(m),
            &root.join(&kmod).join(m),
            None,
        )?;
    }
    let vmlinuz = unpacked.join(format!("boot/vmlinuz-{KERNEL_RELEASE}"));
    copy(&vmlinuz, &root.join("boot/vmlinuz"), None)?;
    cpio(&busybox, &domu, &root.join("boot/domu.cpio"))?;
    for (from, to, mode) in OWN_FILES {
        copy(
            &repo().join("tests/migrate").join(from),
            &root.join(to),
            Some(*mode),
        )?;
    }
    cpio(&busybox, &root, &dom0.initramfs)?;
    extract_vmlinux(&vmlinuz, &dom0.vmlinux)?;
    let _ = fs::remove_dir_all(&unpacked);
    fs::write(&stamp, want).map_err(|e| e.to_string())?;
    let size = fs::metadata(&dom0.initramfs).map(|m| m.len()).unwrap_or(0);
    step!(
        "dom0 initramfs {} ({} MiB), kernel {}",
        dom0.initramfs.display(),
        size >> 20,
        dom0.vmlinux.display()
    );
    Ok(dom0)
}
