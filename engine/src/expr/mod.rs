//! Expressions: minijinja expressions compiled once when a flow loads.
//!
//! Most mapping values are plain paths (`line.quantity`) or constants; those
//! are recognised at compile time and evaluated directly, which is several
//! times faster than running the minijinja VM per field. Everything else is a
//! compiled minijinja expression. Evaluation never returns Undefined: a value
//! that resolves to nothing is an error naming the missing path.

mod arguments;
mod compile;
mod env;
mod error;
mod eval;
pub mod functions;
pub mod names;
mod path;
mod repeat;
mod scope;
mod selector;
pub mod shape;
mod simple;
pub(crate) mod size;
mod written;

pub use compile::{CompileError, CompileErrorKind, Compiler, Expr, Names, Template};
pub use env::{ExprEnv, SystemFilters};
pub use error::EvalError;
pub use scope::Scope;
pub use selector::{SelectorError, compile_selector};
pub use shape::{Naming, Shape};
