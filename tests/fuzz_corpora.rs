//! The fuzz targets of `fuzz/` on stable: every target runs over its seed
//! corpus (`fuzz/corpus/<target>/`) and over deterministic pseudo-random
//! mutations of it, so CI exercises them without nightly or libFuzzer.
//! A panic or a failed round-trip assertion in a target fails the test and
//! names the target and the input (hex) that caused it.
//!
//! Coverage-guided runs: `fuzz/smoke.sh` (nightly + cargo-fuzz).

#[path = "../fuzz/targets.rs"]
mod targets;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Mutations per target (spread over its seeds).
const MUTATIONS_PER_TARGET: usize = 5000;

/// xorshift64*: tiny, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes that make parsers take unusual branches.
const INTERESTING: &[u8] = &[
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x07, 0x08, 0x0a, 0x0d, 0x20, 0x22, 0x25, 0x2e, 0x2f, 0x3a,
    0x3b, 0x3f, 0x40, 0x45, 0x5b, 0x5c, 0x7f, 0x80, 0xc0, 0xc1, 0xfe, 0xff,
];

/// One mutation of `seed`, libFuzzer-style: flip, set, insert, delete,
/// duplicate, splice with `other`, or truncate; one to four of them.
fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let len = b.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                b[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                b[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if len > 0 => {
                let i = rng.below(len);
                b[i] = rng.next() as u8;
            }
            3 => {
                let i = rng.below(len + 1);
                let v = if rng.below(2) == 0 {
                    INTERESTING[rng.below(INTERESTING.len())]
                } else {
                    rng.next() as u8
                };
                b.insert(i, v);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                b.drain(i..i + n);
            }
            5 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                let piece = b[i..i + n].to_vec();
                let at = rng.below(len + 1);
                b.splice(at..at, piece);
            }
            6 if !other.is_empty() => {
                let i = rng.below(other.len());
                let n = 1 + rng.below((other.len() - i).min(64));
                let at = rng.below(len + 1);
                let end = (at + n).min(len);
                b.splice(at..end, other[i..i + n].iter().copied());
            }
            7 => b.truncate(rng.below(len + 1)),
            _ => {}
        }
    }
    b
}

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&p).expect("read seed"))
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Runs `f` on `input`; on a panic returns the message.
fn run(f: targets::Target, input: &[u8]) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| f(input))).map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "non-string panic".into())
    })
}

#[test]
fn every_target_has_a_seed_corpus() {
    for (name, _) in targets::TARGETS {
        assert!(!seeds(name).is_empty(), "fuzz/corpus/{name} is empty");
        let bin = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/fuzz_targets")
            .join(format!("{name}.rs"));
        assert!(bin.is_file(), "no cargo-fuzz binary {}", bin.display());
    }
}

#[test]
fn targets_survive_their_corpora_and_mutations() {
    // Keep the report readable: the default hook would print every panic.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    for (ti, (name, f)) in targets::TARGETS.iter().enumerate() {
        let seeds = seeds(name);
        let mut fail = |what: String, input: &[u8], msg: String| {
            if failures.len() < 20 {
                failures.push(format!("{name}: {what}: input {} : {msg}", hex(input)));
            }
        };
        for (file, data) in &seeds {
            if let Err(msg) = run(*f, data) {
                fail(format!("seed {file}"), data, msg);
            }
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (ti as u64 + 1).wrapping_mul(0x1000_0001));
        for i in 0..MUTATIONS_PER_TARGET {
            let (_, seed) = &seeds[i % seeds.len()];
            let (_, other) = &seeds[rng.below(seeds.len())];
            let input = mutate(&mut rng, seed, other);
            if let Err(msg) = run(*f, &input) {
                fail(format!("mutation {i}"), &input, msg);
            }
        }
    }
    std::panic::set_hook(hook);
    assert!(
        failures.is_empty(),
        "fuzz targets failed:\n{}",
        failures.join("\n")
    );
}
