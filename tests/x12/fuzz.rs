//! A bounded mutation fuzz: the samples with bytes flipped, inserted, deleted,
//! duplicated and cut; the reader must come to its end on every one without
//! panicking. Plus the bounds: a file without terminators is not read whole.

use flowmap::format::x12::{MAX_SEGMENT_BYTES, Reader, X12ErrorKind};

use super::roundtrip::Rng;
use super::support::{definitions, sample};

const SAMPLES: [&str; 6] =
    ["850_tilde_lines.x12", "855_nak_crlf.x12", "810_newline.x12", "mailbag_mixed.x12", "unpadded_isa.x12", "envelope_faults.x12"];
const INTERESTING: &[u8] = b"*~|>^:\n\r\x15\x00ISAGSEST0123456789 ";

pub fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        let byte = if rng.below(2) == 0 { *rng.pick(INTERESTING) } else { rng.next() as u8 };
        match rng.below(6) {
            0 if at < bytes.len() => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            2 if at < bytes.len() => {
                bytes.remove(at);
            }
            3 => bytes.truncate(at),
            4 => {
                let end = (at + rng.below(40)).min(bytes.len());
                let chunk = bytes[at..end].to_vec();
                bytes.splice(at..at, chunk);
            }
            _ => {
                let end = (at + rng.below(8)).min(bytes.len());
                bytes.drain(at..end);
            }
        }
    }
}

#[test]
fn no_mutation_of_the_samples_makes_the_reader_panic() {
    let defs = definitions();
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut cases = 0;
    for name in SAMPLES {
        let original = sample(name);
        for _ in 0..700 {
            let mut bytes = original.clone();
            mutate(&mut rng, &mut bytes);
            // Every item is a set or an error; the iterator ends.
            let items = Reader::new(bytes.as_slice(), name, &defs).take(10_000).count();
            assert!(items < 10_000);
            cases += 1;
        }
    }
    assert_eq!(cases, 4200);
}

#[test]
fn random_bytes_after_a_valid_isa_end_in_errors_not_panics() {
    let defs = definitions();
    let mut rng = Rng(42);
    let isa = &sample("850_tilde_lines.x12")[..107];
    for _ in 0..300 {
        let mut bytes = isa.to_vec();
        bytes.extend((0..rng.below(2000)).map(|_| if rng.below(3) == 0 { *rng.pick(INTERESTING) } else { rng.next() as u8 }));
        let _ = Reader::new(bytes.as_slice(), "r.x12", &defs).take(10_000).count();
    }
}

#[test]
fn a_file_without_segment_terminators_stops_at_the_segment_limit() {
    let defs = definitions();
    let mut bytes = sample("850_tilde_lines.x12")[..107].to_vec();
    bytes.extend(std::iter::repeat_n(b'A', MAX_SEGMENT_BYTES * 3));
    let items: Vec<_> = Reader::new(bytes.as_slice(), "big.x12", &defs).collect();
    let first = items.first().and_then(|r| r.as_ref().err()).expect("an error");
    assert_eq!(first.kind, X12ErrorKind::Limit);
    assert_eq!(
        first.to_string(),
        "big.x12, interchange 000000101, segment 2: a segment is longer than 65536 bytes: the segment terminator is missing"
    );
}
