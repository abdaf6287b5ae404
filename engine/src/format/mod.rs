//! Formats: how a file's bytes become records (the source side) and records
//! become bytes (the target side). JSON is the HTTP systems' format; X12 and
//! delimited text are file formats.

pub mod csv;
pub mod x12;
