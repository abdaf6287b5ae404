//! Shared by the X12 tests: the shipped definitions, reading a sample, numbers.

use std::path::PathBuf;
use std::str::FromStr;

use flowmap::format::x12::{Definitions, Reader, SetRecord, X12Error};
use serde_json::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn definitions() -> Definitions {
    Definitions::load(&root().join("mappings/x12")).expect("the shipped X12 definitions load")
}

pub fn sample(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/x12").join(name)).expect("the sample exists")
}

pub fn read_sample(name: &str) -> Vec<Result<SetRecord, X12Error>> {
    let defs = definitions();
    let bytes = sample(name);
    Reader::new(bytes.as_slice(), name, &defs).collect()
}

/// A JSON number written exactly as `text` (amounts keep their digits).
pub fn dec(text: &str) -> Value {
    Value::Number(serde_json::Number::from_str(text).expect("a number"))
}
