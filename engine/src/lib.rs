//! flowmap: a declarative integration engine. Flow files (YAML) say where
//! records come from, how each target field is computed, which look-ups must
//! succeed, how duplicates are found, where records go and what is written
//! back. The modules follow the pipeline:
//!
//! load → compile → fetch → lookup → map → validate → deliver → write_back
//!
//! with `run` driving the stages over pages and batches of records (one driver
//! for dry-runs and live runs), the ports at each seam — source (`fetch`),
//! look-up (`access`), target (`deliver`), write-back (`write_back`) — with an
//! implementation per transport (HTTP in `http`, files in `transport`, recorded
//! fixtures for dry-runs), file `format`s (JSON, CSV, X12), and `report` /
//! `testing` / `cli` around them.

pub mod access;
pub mod bench;
pub mod cli;
pub mod compile;
pub mod deliver;
pub mod diagnostic;
pub mod expr;
pub mod fetch;
pub mod format;
pub mod http;
pub mod keys;
pub mod limits;
pub mod load;
pub mod lookup;
pub mod map;
pub mod model;
pub mod project;
pub mod report;
pub mod run;
pub mod serve;
pub mod testing;
pub mod transport;
pub mod validate;
pub mod value;
pub mod write_back;
