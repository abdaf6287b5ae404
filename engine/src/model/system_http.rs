//! How flowmap talks HTTP to a system: authentication, paging, rate-limit
//! headers, error bodies, bulk listings. Declared in the system's YAML; the
//! protocols themselves (OAuth2, OData paging) are implemented in `http/`.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// How requests are authenticated. Secrets are never written here: they are
/// stored encrypted by `flowmap connect`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthDef {
    /// OAuth2 authorization code: a user consents once (`flowmap connect`), then refresh tokens rotate.
    Oauth2AuthorizationCode {
        /// Consent page; `{host}` is the connection's host.
        authorize_url: String,
        /// Token endpoint; `{host}` is the connection's host.
        token_url: String,
        /// Lifetime of an access token when the answer does not say (seconds).
        #[serde(default = "default_lifetime")]
        lifetime_seconds: u64,
        /// The system refuses a refresh sooner than this after the last issue (seconds).
        #[serde(default)]
        min_refresh_seconds: u64,
        /// Token-endpoint errors (text found in the answer) that mean the refresh token is
        /// no longer valid: the connection needs consent again, and retrying cannot help.
        #[serde(default)]
        consent_lost: Vec<String>,
        /// Token-endpoint errors that mean "too early": wait and use the current token.
        #[serde(default)]
        too_early: Vec<String>,
        /// Scope to ask for at consent, when the system uses scopes.
        #[serde(default)]
        scope: Option<String>,
        /// More query parameters of the consent page (Exact: `force_login: "0"`).
        #[serde(default)]
        authorize_params: IndexMap<String, String>,
        /// How the client proves itself to the token endpoint: `body` (client_id and
        /// client_secret as form fields; Exact) or `basic` (an `Authorization: Basic` header;
        /// Xero and QuickBooks).
        #[serde(default)]
        client_auth: ClientAuth,
        /// After a refresh whose answer was lost, the old refresh token still works this long
        /// (Xero: 1800 s), so the refresh is tried again at once; 0: a rotated token is gone
        /// (Exact), and a lost answer needs a new consent.
        #[serde(default)]
        refresh_grace_seconds: u64,
        /// Values the consent's redirect carries beside the code, by the base-URL placeholder they
        /// fill (QuickBooks: `{ realm: realmId }`, the company in every API path). Kept per
        /// connection at consent; a connection's own `params` still wins.
        // Boxed: most systems have none, and the variant is the enum's largest already.
        #[serde(default)]
        redirect_params: Box<IndexMap<String, String>>,
    },
    /// OAuth2 client credentials: a client id and secret buy a token.
    Oauth2ClientCredentials {
        /// Token endpoint; `{base_url}` and `{host}` are filled in.
        token_url: String,
        /// How the credentials are sent: `json` or `form`.
        #[serde(default)]
        body: TokenBody,
        /// Send the token in this query parameter instead of an `Authorization: Bearer` header.
        #[serde(default)]
        token_query: Option<String>,
        /// Field of the token answer holding the expiry as an ISO date-time (else `expires_in`).
        #[serde(default)]
        expiry_field: Option<String>,
        /// Lifetime when the answer gives none (seconds).
        #[serde(default = "default_lifetime")]
        lifetime_seconds: u64,
    },
    /// A fixed bearer token.
    Bearer {},
    /// A fixed key in a header.
    ApiKey {
        /// The header carrying the key.
        header: String,
    },
    /// HTTP basic authentication with a user name and password.
    Basic {},
}

fn default_lifetime() -> u64 {
    3600
}

/// How a client authenticates at an OAuth2 token endpoint.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body.
    #[default]
    Body,
    /// HTTP Basic: `Authorization: Basic base64(client_id:client_secret)` (RFC 6749 §2.3.1).
    Basic,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TokenBody {
    #[default]
    Form,
    Json,
}

/// How list answers are paged.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "style", rename_all = "snake_case", deny_unknown_fields)]
pub enum PagingDef {
    /// OData: the answer links the next page (`d.__next`, an absolute URL).
    OdataNext {
        /// JMESPath to the next-page link in the answer.
        next: String,
    },
    /// A page number in a query parameter, 1-based; a header says whether more pages follow.
    PageParam {
        param: String,
        /// Header answering `true` when another page follows; without it, a short page is the last.
        #[serde(default)]
        has_more_header: Option<String>,
    },
    /// QuickBooks: `STARTPOSITION`/`MAXRESULTS` in the query (not yet run live).
    QboStartposition {},
    /// Everything comes in one answer.
    None {},
}

/// A rate-limit budget announced in answer headers.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitDef {
    /// Name used in messages (`minutely`, `daily`).
    pub name: String,
    /// Header with the calls left.
    pub remaining: String,
    /// Header with the size of the budget, so a fresh window's count is known
    /// before its first answer.
    #[serde(default)]
    pub limit: Option<String>,
    /// Header with the moment the budget resets.
    pub reset: String,
    /// Unit of the reset header: `epoch_ms`, `epoch_seconds` or `seconds` (from now).
    #[serde(default)]
    pub reset_unit: ResetUnit,
    /// When this budget is spent the run stops (saying when it resets) instead of waiting.
    #[serde(default)]
    pub stops_run: bool,
    /// A 429 names the budget it is about in a header (Xero: `X-Rate-Limit-Problem: minute`):
    /// only a 429 naming this budget spends it.
    #[serde(default)]
    pub problem: Option<ProblemDef>,
}

/// The header of a 429 that names the spent budget, and this budget's value in it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProblemDef {
    pub header: String,
    /// Compared without regard to case (Xero's documentation and SDKs differ in case).
    pub value: String,
}

/// Where the idempotency key of a write goes.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum IdempotencyDef {
    /// In this header (Xero: `Idempotency-Key`, at most 128 characters).
    Header(String),
    /// In this query parameter (QuickBooks: `requestid`, at most 50 characters).
    Query(String),
}

#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ResetUnit {
    #[default]
    EpochMs,
    EpochSeconds,
    Seconds,
}

/// A listing of a whole entity at large pages, used instead of batched
/// look-ups when it costs fewer calls.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDef {
    /// Path of the listing; `{entity}` is the entity path.
    pub path: String,
    pub page_size: u32,
    /// Entities that have a bulk listing.
    pub entities: Vec<String>,
}

/// A value of the base URL found by asking the system (Exact's division from `current/Me`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscoverDef {
    /// URL to GET; `{host}` is the connection's host.
    pub get: String,
    /// JMESPath to the value in the answer; with `list`, to the value in each candidate.
    pub value: String,
    /// JMESPath to a list of candidates when an account can reach several (Xero's tenants from
    /// `GET /connections`): the connection names one in `params` by its value or its `name`;
    /// with one candidate none needs naming, with several the connection must say which.
    #[serde(default)]
    pub list: Option<String>,
    /// JMESPath to each candidate's name (`tenantName`), so a connection can name it as people do.
    #[serde(default)]
    pub name: Option<String>,
}

/// Everything about HTTP in a system definition.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpDef {
    /// Headers sent with every request.
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    /// Headers sent with every POST, PUT and PATCH.
    #[serde(default)]
    pub write_headers: IndexMap<String, String>,
    /// Query parameters sent with every request (QuickBooks: `minorversion`).
    #[serde(default)]
    pub query: IndexMap<String, String>,
    /// Query parameters sent with every POST, PUT and PATCH (Xero: `summarizeErrors: "false"`,
    /// so each record of a write is answered on its own).
    #[serde(default)]
    pub write_query: IndexMap<String, String>,
    /// A record is written wrapped in a list under this name (`{entity}` is the target entity):
    /// Xero takes `{"Invoices":[{…}]}`, never a bare object.
    #[serde(default)]
    pub envelope: Option<String>,
    /// JMESPath, over the record a write answered, to the messages of a record the system
    /// refused inside a successful answer (Xero with `summarizeErrors=false`:
    /// `ValidationErrors[].Message`): any message makes the record blocked, in the system's words.
    #[serde(default)]
    pub element_errors: Option<String>,
    /// Where a write carries the key that makes a repeat harmless (the system answers a repeat
    /// with the first answer, creating nothing): Xero's `Idempotency-Key` header, QuickBooks'
    /// `requestid` parameter. Writes that carry one are retried after a lost answer.
    #[serde(default)]
    pub idempotency: Option<IdempotencyDef>,
    /// The most requests the system allows in flight per account (Xero: 5 per tenant;
    /// QuickBooks: 10 per realm); a connection's `concurrency` above it is lowered to it.
    #[serde(default)]
    pub max_in_flight: Option<u32>,
    /// Rate-limit budgets read from answer headers.
    #[serde(default)]
    pub rate_limits: Vec<RateLimitDef>,
    /// JMESPath to the human message in an error answer.
    #[serde(default)]
    pub error_message: Option<String>,
    /// Listing a whole entity at large pages.
    #[serde(default)]
    pub bulk: Option<BulkDef>,
    /// Base-URL values found by asking the system, unless the connection sets them.
    #[serde(default)]
    pub discover: IndexMap<String, DiscoverDef>,
    /// Webhook subscriptions (`flowmap subscribe`), where the system has them.
    #[serde(default)]
    pub webhooks: Option<WebhooksDef>,
    /// A cheap GET proving a connection works (`flowmap connections --check`); `{host}` and `{base_url}` are filled in.
    #[serde(default)]
    pub check: Option<String>,
}

/// How a webhook subscription is created: a POST of the callback URL and the topic.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhooksDef {
    /// The subscriptions endpoint, relative to the base URL.
    pub subscriptions: String,
    /// Field of the callback URL in the subscription.
    pub callback_field: String,
    /// Field of the topic.
    pub topic_field: String,
    /// The shape of the keys events name (one of the system's `key_shapes`): an event
    /// naming anything else is refused before it is kept.
    #[serde(default)]
    pub key_shape: Option<String>,
}
