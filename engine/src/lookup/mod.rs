//! Look-up: the keys a record needs answered (customer → Account, SKU → Item,
//! YourRef → existing order), asked in batches, each key once per run.

mod query;
mod resolver;

pub use query::{numeric_keys, odata_select, query_parts, query_text};
pub use resolver::{Answer, Resolver};

pub use resolver::Question;

/// The question a look-up asks.
pub fn lookup_question<'a>(l: &'a crate::compile::CompiledLookup, purpose: &'a str) -> Question<'a> {
    Question {
        purpose,
        system: &l.system,
        entity: &l.entity,
        field: &l.match_field,
        select: &l.select,
        batch: l.batch,
        language: l.language,
        numeric: l.numeric,
        prefetch: true,
    }
}

/// The question an existence check asks.
pub fn exists_question(x: &crate::compile::CompiledExists) -> Question<'_> {
    Question {
        purpose: "exists",
        system: &x.system,
        entity: &x.entity,
        field: &x.match_field,
        select: &x.show,
        batch: x.batch,
        language: x.language,
        numeric: x.numeric,
        prefetch: false,
    }
}
