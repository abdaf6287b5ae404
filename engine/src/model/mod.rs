//! The shapes of the YAML files integrators write. These types are the single
//! source of the JSON Schemas in `schemas/` (generated with schemars), and of the
//! typed flow the compiler reads after the schema check has passed.

mod catalogue;
mod connections;
mod field;
mod flow;
mod flow_test;
mod system;
mod system_http;

pub use catalogue::{Catalogue, EntityDef, FieldDef, FieldType};
pub use connections::{ConnectionDef, ConnectionsFile, ParamValue};
pub use field::{Field, FieldSpec};
pub use flow::{After, Exists, ExistsAction, FilePart, FlowFile, Lookup, Multipart, Request, Requests, Rule, Selection, Source, Target};
pub use flow_test::{Expectation, TestCase, TestFile};
pub use system::{FilesDef, KeyShapeDef, Processed, QueryLanguage, StaleDef, SystemDef, Transport, UpdateDef};
pub use system_http::{
    AccountDef, AnswerDef, AuthDef, BulkDef, ChangesDef, ClientAuth, DiscoverDef, EventField, HttpDef, IdempotencyDef, ListingDef, PagingDef,
    ProblemDef, RateLimitDef, ResetUnit, SignatureDef, SignatureEncoding, SubscribeDef, TokenBody, WebhooksDef,
};
