//! Code size and stack figures of the shadow module (issues 3 and 7),
//! measured the same way for the C reference (`guest_{2,3,4}.o`) and the
//! Rust object (`rust_multi.o`, which also holds the C shims of ffi/c).
//!
//! * Text size: the `.text*` sections of the objects (`size -A`).
//! * Frame of a function: from the disassembly of the linked `xen-syms`
//!   (`objdump -d`): walking the function's instructions in address order,
//!   `push` adds 8 bytes, `pop` removes 8, `sub/add $N,%rsp` add/remove N;
//!   the frame is the deepest point reached plus the 8-byte return address.
//!   One method for both languages, so the figures compare.
//! * Deepest chain: the static call graph of `xen-syms` (direct `call`s;
//!   a `jmp` to the start of another function is a tail call, which reuses
//!   the caller's frame), from the `page_fault` hook of
//!   `sh_paging_mode__guest_N`.  Calls into the rest of Xen are followed
//!   with the same method ("full"); "module" stops at the first function
//!   outside the shadow module.  Indirect calls (retpoline thunks,
//!   `alternative_call`s patched at boot, x86_emulate's hooks) cannot be
//!   followed statically and end a chain; recursion is cut at the first
//!   repeat; Rust's panic path (which ends in BUG()) is not followed.
//! * For Rust, the compiler's own per-function figure (`.stack_sizes` from
//!   `-Z emit-stack-sizes`, in `rust_multi_full.o`) is printed as a cross
//!   check.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::{setup, Result};

/// The shadow module's object files in a build directory.
fn objects(dir: &Path, rust: bool) -> Vec<std::path::PathBuf> {
    let sh = dir.join("arch/x86/mm/shadow");
    if rust {
        vec![sh.join("rust_multi.o")]
    } else {
        (2..=4).map(|n| sh.join(format!("guest_{n}.o"))).collect()
    }
}

fn run(cmd: &str, args: &[&str], file: &Path) -> Result<String> {
    setup::output(Command::new(cmd).args(args).arg(file))
}

/// Sum of the sizes of the `.text*` sections.
fn text_size(obj: &Path) -> Result<u64> {
    let out = run("size", &["-A"], obj)?;
    Ok(out
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?;
            let size = w.next()?.parse::<u64>().ok()?;
            name.starts_with(".text").then_some(size)
        })
        .sum())
}

/// FILE symbols and defined function names of the module's objects.
fn module_names(objs: &[std::path::PathBuf]) -> Result<(BTreeSet<String>, BTreeSet<String>)> {
    let (mut files, mut funcs) = (BTreeSet::new(), BTreeSet::new());
    for o in objs {
        for l in run("readelf", &["-sW"], o)?.lines() {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.len() < 8 {
                continue;
            }
            match w[3] {
                "FILE" => {
                    files.insert(w[7].to_string());
                }
                "FUNC" if w[6] != "UND" => {
                    funcs.insert(w[7].to_string());
                }
                _ => {}
            }
        }
    }
    Ok((files, funcs))
}

/// Addresses of the module's functions in `xen-syms`: locals under one of
/// the module's FILE symbols, globals by name.
fn module_addrs(
    xen_syms: &Path,
    files: &BTreeSet<String>,
    funcs: &BTreeSet<String>,
) -> Result<BTreeSet<u64>> {
    let mut out = BTreeSet::new();
    let mut in_file = false;
    for l in run("readelf", &["-sW"], xen_syms)?.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        if w.len() < 8 {
            continue;
        }
        if w[3] == "FILE" {
            in_file = files.contains(w[7]);
            continue;
        }
        if w[3] != "FUNC" || !funcs.contains(w[7]) {
            continue;
        }
        if (w[4] == "LOCAL" && in_file) || w[4] == "GLOBAL" {
            if let Ok(a) = u64::from_str_radix(w[1], 16) {
                out.insert(a);
            }
        }
    }
    Ok(out)
}

/// One function of the disassembly.
#[derive(Default)]
struct Func {
    name: String,
    frame: u64,
    calls: BTreeSet<u64>,
    tails: BTreeSet<u64>,
}

fn parse_imm(s: &str) -> Option<i64> {
    let h = s.strip_prefix("$0x")?;
    u64::from_str_radix(h, 16).ok().map(|v| v as i64)
}

/// Parses `objdump -d` of `xen-syms` into functions keyed by address.
fn disassemble(xen_syms: &Path) -> Result<BTreeMap<u64, Func>> {
    let text = run("objdump", &["-d", "-w", "--no-show-raw-insn"], xen_syms)?;
    let mut funcs: BTreeMap<u64, Func> = BTreeMap::new();
    let mut cur: Option<u64> = None;
    let (mut depth, mut max) = (0i64, 0i64);
    let finish = |funcs: &mut BTreeMap<u64, Func>, cur: Option<u64>, max: i64| {
        if let Some(f) = cur.and_then(|c| funcs.get_mut(&c)) {
            f.frame = max.max(0) as u64 + 8;
        }
    };
    for line in text.lines() {
        if let Some(head) = line.strip_suffix(">:") {
            if let Some((addr, name)) = head.split_once(" <") {
                if let Ok(a) = u64::from_str_radix(addr.trim(), 16) {
                    finish(&mut funcs, cur, max);
                    funcs.insert(
                        a,
                        Func {
                            name: name.to_string(),
                            ..Default::default()
                        },
                    );
                    cur = Some(a);
                    (depth, max) = (0, 0);
                }
            }
            continue;
        }
        let Some(c) = cur else { continue };
        let Some((_, insn)) = line.split_once(":\t") else {
            continue;
        };
        let mut w = insn.split_whitespace();
        let mnem = w.next().unwrap_or("");
        let ops = w.next().unwrap_or("");
        if mnem.starts_with("push") {
            depth += 8;
        } else if mnem.starts_with("pop") {
            depth -= 8;
        } else if (mnem == "sub" || mnem == "add") && ops.ends_with(",%rsp") {
            if let Some(n) = ops.split(',').next().and_then(parse_imm) {
                depth += if mnem == "sub" { n } else { -n };
            }
        } else if mnem.starts_with("call") || mnem.starts_with('j') {
            // `call ffff82d0402a1b30 <name>`: a direct target.
            let target = ops
                .split_whitespace()
                .next()
                .and_then(|t| u64::from_str_radix(t, 16).ok());
            let sym = insn.split_once('<').map(|(_, s)| s.trim_end_matches('>'));
            if let (Some(t), Some(sym)) = (target, sym) {
                if let Some(f) = funcs.get_mut(&c) {
                    if mnem.starts_with("call") {
                        f.calls.insert(t);
                    } else if !sym.contains('+') && t != c && !sym.starts_with("__x86_") {
                        f.tails.insert(t);
                    }
                }
            }
        }
        max = max.max(depth);
    }
    finish(&mut funcs, cur, max);
    Ok(funcs)
}

/// Deepest stack use from `f`: (bytes, chain of function addresses).
fn deepest(
    funcs: &BTreeMap<u64, Func>,
    f: u64,
    module: Option<&BTreeSet<u64>>,
    memo: &mut HashMap<u64, (u64, Vec<u64>)>,
    on_path: &mut BTreeSet<u64>,
) -> (u64, Vec<u64>) {
    if let Some(r) = memo.get(&f) {
        return r.clone();
    }
    let Some(func) = funcs.get(&f) else {
        return (0, vec![]);
    };
    if module.is_some_and(|m| !m.contains(&f)) || !on_path.insert(f) {
        return (0, vec![]);
    }
    let mut best = (func.frame, vec![f]);
    // A Rust panic ends in BUG() (the panic handler prints and traps): not
    // a path that returns to the caller's work, so it is not followed.
    let panics = |a: &u64| {
        funcs
            .get(a)
            .is_some_and(|g| g.name.contains("panicking") || g.name.contains("rust_begin_unwind"))
    };
    for &c in func.calls.iter().filter(|c| !panics(c)) {
        let (d, mut chain) = deepest(funcs, c, module, memo, on_path);
        if func.frame + d > best.0 {
            chain.insert(0, f);
            best = (func.frame + d, chain);
        }
    }
    for &t in &func.tails {
        let (d, mut chain) = deepest(funcs, t, module, memo, on_path);
        if d > best.0 {
            chain.insert(0, f);
            best = (d, chain);
        }
    }
    on_path.remove(&f);
    memo.insert(f, best.clone());
    best
}

/// The `page_fault` hook (offset 0) of `sh_paging_mode__guest_<n>`.
fn page_fault_hook(xen_syms: &Path, n: u32) -> Result<u64> {
    let nm = run("nm", &[], xen_syms)?;
    let sym = format!("sh_paging_mode__guest_{n}");
    let addr = nm
        .lines()
        .find_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() == 3 && w[2] == sym).then(|| w[0].to_string())
        })
        .ok_or_else(|| format!("{sym} not in {}", xen_syms.display()))?;
    let a = u64::from_str_radix(&addr, 16).map_err(|e| e.to_string())?;
    let dump = setup::output(
        Command::new("objdump")
            .arg("-s")
            .arg(format!("--start-address=0x{a:x}"))
            .arg(format!("--stop-address=0x{:x}", a + 8))
            .arg(xen_syms),
    )?;
    // " ffff82d0404a1230 10a52f40 d082ffff  ..." -> little-endian bytes.
    let line = dump
        .lines()
        .find(|l| {
            l.trim_start().starts_with(&addr[addr.len() - 8..]) || l.trim_start().starts_with(&addr)
        })
        .ok_or("objdump -s printed no data")?;
    let hex: String = line
        .split_whitespace()
        .skip(1)
        .take(2)
        .collect::<Vec<_>>()
        .concat();
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect();
    let arr: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or("short paging_mode dump")?;
    Ok(u64::from_le_bytes(arr))
}

/// Rust's compiler-reported frames: `.stack_sizes` of rust_multi_full.o
/// (address field resolved through its relocations, ULEB128 size).
fn rust_stack_sizes(dir: &Path) -> Result<Vec<(u64, String)>> {
    let obj = dir.join(".xen-shadow-rs/link/rust_multi_full.o");
    let relocs = run("readelf", &["-rW"], &obj)?;
    let mut names: BTreeMap<u64, String> = BTreeMap::new();
    let mut in_sec = false;
    for l in relocs.lines() {
        if l.starts_with("Relocation section") {
            in_sec = l.contains(".rela.stack_sizes");
            continue;
        }
        let w: Vec<&str> = l.split_whitespace().collect();
        if in_sec && w.len() >= 5 {
            if let Ok(off) = u64::from_str_radix(w[0], 16) {
                names.insert(off, w[4].to_string());
            }
        }
    }
    let dump = run("objdump", &["-s", "-j", ".stack_sizes"], &obj)?;
    let mut bytes = Vec::new();
    for l in dump.lines().filter(|l| l.starts_with(' ')) {
        for word in l.split_whitespace().skip(1).take(4) {
            if word.len() % 2 != 0 || !word.chars().all(|c| c.is_ascii_hexdigit()) {
                break;
            }
            for i in 0..word.len() / 2 {
                bytes.push(u8::from_str_radix(&word[2 * i..2 * i + 2], 16).unwrap_or(0));
            }
        }
    }
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos + 8 < bytes.len() {
        let name = names.get(&(pos as u64)).cloned().unwrap_or_default();
        pos += 8;
        let (mut v, mut shift) = (0u64, 0);
        while let Some(&b) = bytes.get(pos) {
            pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        out.push((v, name));
    }
    out.sort_by(|a, b| b.cmp(a));
    Ok(out)
}

fn short(name: &str) -> &str {
    if name.len() > 70 {
        &name[..70]
    } else {
        name
    }
}

/// The size and stack section of the results, as markdown.
pub fn report(reference: &Path, rust: &Path) -> Result<String> {
    let mut s = String::new();
    writeln!(s, "### Code size (`.text*` sections)\n").ok();
    writeln!(s, "| object | bytes |\n| --- | ---: |").ok();
    let mut c_total = 0;
    for o in objects(reference, false) {
        let n = text_size(&o)?;
        c_total += n;
        writeln!(
            s,
            "| {} | {n} |",
            o.file_name().unwrap_or_default().to_string_lossy()
        )
        .ok();
    }
    writeln!(s, "| guest_{{2,3,4}}.o total | {c_total} |").ok();
    let r_total = text_size(&objects(rust, true)[0])?;
    writeln!(s, "| rust_multi.o (Rust + ffi/c shims) | {r_total} |").ok();
    writeln!(
        s,
        "\nRust/C text: {:.3}\n",
        r_total as f64 / c_total.max(1) as f64
    )
    .ok();

    writeln!(
        s,
        "### Stack (frames from the xen-syms disassembly, return address included)\n"
    )
    .ok();
    writeln!(
        s,
        "| build | largest module frame | deepest from page_fault, guest 2 / 3 / 4: module only | same, following calls into the rest of Xen (static upper bound) |"
    )
    .ok();
    writeln!(s, "| --- | --- | --- | --- |").ok();
    let mut chains = String::new();
    for (label, dir, rust_side) in [("C", reference, false), ("Rust", rust, true)] {
        let objs = objects(dir, rust_side);
        let (files, names) = module_names(&objs)?;
        let xs = dir.join("xen-syms");
        let module = module_addrs(&xs, &files, &names)?;
        let funcs = disassemble(&xs)?;
        let largest = module
            .iter()
            .filter_map(|a| funcs.get(a))
            .max_by_key(|f| f.frame)
            .map(|f| format!("{} B `{}`", f.frame, short(&f.name)))
            .unwrap_or_default();
        let (mut mods, mut fulls) = (Vec::new(), Vec::new());
        for n in 2..=4 {
            let entry = page_fault_hook(&xs, n)?;
            let (m, chain) = deepest(
                &funcs,
                entry,
                Some(&module),
                &mut HashMap::new(),
                &mut BTreeSet::new(),
            );
            let (f, _) = deepest(
                &funcs,
                entry,
                None,
                &mut HashMap::new(),
                &mut BTreeSet::new(),
            );
            mods.push(m.to_string());
            fulls.push(f.to_string());
            if n == 4 {
                let names: Vec<String> = chain
                    .iter()
                    .filter_map(|a| funcs.get(a))
                    .map(|f| format!("{} ({})", short(&f.name), f.frame))
                    .collect();
                writeln!(
                    chains,
                    "* {label}, guest 4, deepest chain inside the module: {}",
                    names.join(" → ")
                )
                .ok();
            }
        }
        writeln!(
            s,
            "| {label} | {largest} | {} B | {} B |",
            mods.join(" / "),
            fulls.join(" / ")
        )
        .ok();
    }
    writeln!(s, "\n{chains}").ok();
    match rust_stack_sizes(rust) {
        Ok(v) => {
            let over: Vec<String> = v
                .iter()
                .filter(|(n, _)| *n > 1024)
                .map(|(n, f)| format!("{n} B `{}`", short(f.trim_start_matches(".text."))))
                .collect();
            writeln!(
                s,
                "Rust `.stack_sizes` (compiler, return address excluded): {} functions; over 1 KiB: {}.",
                v.len(),
                if over.is_empty() {
                    "none".to_string()
                } else {
                    over.join(", ")
                }
            )
            .ok();
        }
        Err(e) => {
            writeln!(s, "Rust `.stack_sizes`: not available ({e}).").ok();
        }
    }
    Ok(s)
}
