//! Flow tests: `<name>.test.yaml` files with records in and the expected
//! payload, block reasons or skip message out, run against fixture answers.

mod compare;
mod runner;
mod update;
mod verdict;
mod yaml_out;

pub use compare::{diff_text, normalise};
pub use runner::{CaseResult, FileResult, run_test_file};
pub use update::{Updated, update_file};
