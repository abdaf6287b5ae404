//! OData `$filter` (and `$orderby`) as Exact Online reads it: a real tokenizer and parser (so quoted text can never
//! turn into syntax) and an evaluator with Exact's comparison rules.

mod eval;
mod lexer;
mod order;
mod parser;

pub use eval::ms_date;
pub use lexer::parse_datetime;
pub use order::OrderBy;

use crate::exact::store::Record;

/// Any malformed `$filter`; Exact answers them all with one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyntaxError;

/// A parsed `$filter`.
#[derive(Clone, Debug)]
pub struct Filter {
    expr: parser::Expr,
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, SyntaxError> {
        parser::parse(text).map(|expr| Filter { expr })
    }

    /// The fields the filter reads, to check them against the entity.
    pub fn fields(&self) -> Vec<&str> {
        self.expr.fields()
    }

    pub fn matches(&self, record: &Record) -> bool {
        eval::matches(&self.expr, record)
    }
}
