//! Delimited text (CSV with a declared column list). Filled in by issue 11.
