//! Seeded mutations of real inputs, for the bounded fuzz tests (tests/fuzz.rs):
//! the same seed gives the same inputs on every machine, so a crash found once
//! is found again, and its input number reproduces it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// splitmix64 (as sandbox/src/random.rs): tiny, and the same sequence for a seed everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; `n` must not be 0.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Bytes that change how a YAML, JSON or expression parser reads what follows.
const SPECIAL: &[u8] = b"{}[]()|~*!&%@#:,-'\"\\\n\t .0123456789<>=?";

/// Sequences that are not UTF-8: a lone continuation byte, cut sequences, a surrogate, overlong and out-of-range forms.
const NOT_UTF8: &[&[u8]] = &[b"\xff", b"\x80", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\xf4\x90\x80\x80"];

/// What a mutation may insert that a random byte rarely makes.
pub struct Vocabulary {
    /// Openers and their closers, repeated around `core` to nest deep and still parse
    /// (`- ` for YAML's block lists, `(` `)` for expressions, `[` `]` for JSON).
    pub nest: &'static [(&'static str, &'static str)],
    pub core: &'static str,
    /// YAML: a nest (or a wide list) goes in as a new key below a `key:` line
    /// (`  deep7:` then `    - - - … x`), where the file still parses; anywhere
    /// else it is mostly a syntax error at once, before the parser is deep.
    pub nest_as_value: bool,
    /// Words of the language (`extends: x.flow.yaml`, `| lpad(9223372036854775807)`, …).
    pub words: &'static [&'static str],
    /// The largest huge scalar inserted, in bytes.
    pub huge: usize,
}

/// `seed` changed in one to three ways; the names of the mutations, for the report.
pub fn mutate(rng: &mut Rng, seed: &[u8], vocabulary: &Vocabulary) -> (Vec<u8>, Vec<&'static str>) {
    let mut bytes = seed.to_vec();
    let mut done = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(bytes.len() + 1);
        let name = match rng.below(10) {
            0 => {
                let last = bytes.len().saturating_sub(1);
                if let Some(b) = bytes.get_mut(at.min(last)) {
                    *b ^= 1 << rng.below(8);
                }
                "bit flip"
            }
            1 => {
                let b = *rng.pick(SPECIAL);
                bytes.insert(at, b);
                "special byte"
            }
            2 => {
                let len = 1 + rng.below(64);
                bytes.drain(at..(at + len).min(bytes.len()));
                "deletion"
            }
            3 => {
                let len = 1 + rng.below(256);
                let from = rng.below(bytes.len().max(1));
                let copy: Vec<u8> = bytes[from.min(bytes.len())..(from + len).min(bytes.len())].to_vec();
                let to = rng.below(bytes.len() + 1);
                bytes.splice(to..to, copy);
                "duplication"
            }
            4 => {
                let (open, close) = rng.pick(vocabulary.nest);
                let times = [10, 70, 300, 3_000][rng.below(4)];
                let nest = format!("{}{}{}", open.repeat(times), vocabulary.core, close.repeat(times));
                insert_value(rng, &mut bytes, at, &nest, vocabulary.nest_as_value);
                "deep nesting"
            }
            5 => {
                bytes.splice(at..at, rng.pick(NOT_UTF8).iter().copied());
                "invalid UTF-8"
            }
            6 if rng.below(2) == 0 => {
                let len = 1_000 + rng.below(vocabulary.huge);
                bytes.splice(at..at, std::iter::repeat_n(b'x', len));
                "huge scalar"
            }
            6 => {
                // Many small nodes on one line: what is looked up by line and column is scanned for.
                let wide = format!("[{}1]", "1, ".repeat(1_000 + rng.below(vocabulary.huge / 20)));
                insert_value(rng, &mut bytes, at, &wide, vocabulary.nest_as_value);
                "wide line"
            }
            7 => {
                bytes.truncate(at);
                "truncation"
            }
            _ => {
                bytes.splice(at..at, rng.pick(vocabulary.words).bytes());
                "word"
            }
        };
        done.push(name);
    }
    (bytes, done)
}

/// `value` at `at`, or (YAML) as the value of a new key below a `key:` line.
fn insert_value(rng: &mut Rng, bytes: &mut Vec<u8>, at: usize, value: &str, as_value: bool) {
    let keys: Vec<(usize, usize)> = if as_value { value_starts(bytes) } else { Vec::new() };
    if keys.is_empty() {
        bytes.splice(at..at, value.bytes());
    } else {
        let (line_end, indent) = *rng.pick(&keys);
        let entry = format!("\n{}deep{}:\n{}{value}", " ".repeat(indent + 2), rng.below(1000), " ".repeat(indent + 4));
        bytes.splice(line_end..line_end, entry.into_bytes());
    }
}

/// Where each line that ends with `:` (a key whose value follows) ends, and its indentation.
fn value_starts(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            let line = &bytes[start..i];
            if line.trim_ascii_end().ends_with(b":") {
                out.push((start + line.trim_ascii_end().len(), line.iter().take_while(|&&c| c == b' ').count()));
            }
            start = i + 1;
        }
    }
    out
}

/// What a fuzz target found: every input tried, those that panicked, those that took too long.
#[derive(Default)]
pub struct Tally {
    pub inputs: usize,
    pub crashes: Vec<String>,
    pub hangs: Vec<String>,
    pub slowest: Duration,
    /// The input running now and since when, for the watch in `fuzz`.
    current: Arc<Mutex<Option<(Instant, String)>>>,
}

/// An input taking longer than this is a hang (a generous bound on 2 shared cores, in a
/// debug build; speed is not asserted otherwise).
pub const HANG: Duration = Duration::from_secs(10);

impl Tally {
    /// Runs `f` on one input, described by `what` for the report, catching a panic.
    pub fn run(&mut self, what: String, f: impl FnOnce()) {
        self.inputs += 1;
        let started = Instant::now();
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some((started, what.clone()));
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let took = started.elapsed();
        self.slowest = self.slowest.max(took);
        if let Err(panic) = caught {
            let why = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
            self.crashes.push(format!("{what}: {why}"));
        }
        if took > HANG {
            self.hangs.push(format!("{what} took {took:?}"));
        }
    }
}

/// Runs a fuzz target on a thread with a compile worker's stack (2 MiB), watching it: an
/// input still running after `HANG` fails the test at once (the thread cannot be stopped, but
/// the test run is not held up). Prints the figures so they can be quoted, and fails on any
/// crash or hang. A stack overflow cannot be caught: it ends the test process, which fails too.
pub fn fuzz(target: &'static str, seed: u64, body: impl FnOnce(&mut Tally) + Send + 'static) {
    let current = Arc::new(Mutex::new(None));
    let mut tally = Tally { current: current.clone(), ..Tally::default() };
    let worker = std::thread::Builder::new()
        .name(format!("fuzz {target}"))
        .stack_size(2 << 20)
        .spawn(move || {
            body(&mut tally);
            tally
        })
        .expect("a fuzz thread");
    while !worker.is_finished() {
        if let Some((since, what)) = current.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && since.elapsed() > HANG
        {
            panic!("fuzz {target} (seed {seed:#x}): a hang, still running after {HANG:?}: {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let tally = worker.join().expect("the fuzz thread ends");
    println!(
        "fuzz {target} (seed {seed:#x}): {} inputs, {} crashes, {} hangs; slowest input {:.2} s",
        tally.inputs,
        tally.crashes.len(),
        tally.hangs.len(),
        tally.slowest.as_secs_f64()
    );
    assert!(tally.crashes.is_empty() && tally.hangs.is_empty(), "crashes: {:#?}\nhangs: {:#?}", tally.crashes, tally.hangs);
}

/// `bytes` shown briefly, for naming an input.
pub fn brief(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let shown: String = text.chars().take(80).collect();
    format!("{} bytes, starting {shown:?}", bytes.len())
}
