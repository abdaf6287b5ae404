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
    /// QuickBooks: ` STARTPOSITION n MAXRESULTS m` added to the query statement in the
    /// parameter `param`; a short page is the last.
    QboStartposition {
        /// The parameter holding the statement (`query`).
        param: String,
    },
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

/// A listing through a query endpoint.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingDef {
    /// The endpoint, relative to the base URL (`query`).
    pub path: String,
    /// The parameter carrying the statement (`query`).
    pub param: String,
    /// The statement; `{entity}` is the entity (`select * from {entity}`).
    pub statement: String,
}

/// A change feed: the records of an entity changed since a moment, in one answer.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangesDef {
    /// The endpoint, relative to the base URL (`cdc`).
    pub path: String,
    /// Its parameters; `{entity}` is the entity and `{since}` the watermark as an ISO 8601
    /// date-time in UTC (`entities: "{entity}"`, `changedSince: "{since}"`).
    pub query: IndexMap<String, String>,
    /// JMESPath to the records; `{entity}` is the entity (`CDCResponse[0].QueryResponse[0].{entity}`).
    pub records: String,
    /// The most records one answer holds (QuickBooks: 1,000): an answer this full may have left
    /// some out, so the run lists the whole entity instead.
    pub most: usize,
    /// The oldest watermark the feed answers for, in days (QuickBooks: 30): an older one lists
    /// the whole entity instead.
    pub days: u32,
    /// JMESPath true for a record the feed reports deleted (`status == 'Deleted'`): such records
    /// are not given to the flow.
    #[serde(default)]
    pub deleted: Option<String>,
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
    /// Calls a minute the system allows per account without saying so in headers (QuickBooks:
    /// 500 per realm): the connection keeps to it, so a 429 is the exception.
    #[serde(default)]
    pub calls_per_minute: Option<u32>,
    /// How long to wait after a 429 that does not say (no `Retry-After`, no budget header);
    /// without it the wait grows with each 429 (QuickBooks: Intuit says 60 seconds).
    #[serde(default)]
    pub throttled_wait_seconds: Option<u64>,
    /// The most requests the system allows in flight per account (Xero: 5 per tenant;
    /// QuickBooks: 10 per realm); a connection's `concurrency` above it is lowered to it.
    #[serde(default)]
    pub max_in_flight: Option<u32>,
    /// Where an entity is listed, when not at its own path: QuickBooks lists through its query
    /// endpoint (`GET query?query=select * from Invoice`). Source listings and look-ups use it.
    #[serde(default)]
    pub listing: Option<ListingDef>,
    /// How "what changed since" is asked, when not by an OData `$filter` (QuickBooks' Change
    /// Data Capture). A source with `since` uses it once a watermark exists.
    #[serde(default)]
    pub changes: Option<ChangesDef>,
    /// A header that asks a listing for what changed since a moment (Xero: `If-Modified-Since`,
    /// a UTC date-time `2026-11-30T09:00:00`): how a source with `since` is listed when the system
    /// has neither OData nor a change feed.
    #[serde(default)]
    pub since_header: Option<String>,
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

/// How a system calls the engine back (`POST /webhooks/{system}`): how its
/// deliveries are signed, where the events are in them and what each names;
/// and, where the system has an API for it, how a subscription is created
/// (`flowmap subscribe`). The signature schemes are protocols known to the
/// engine (`serve/signature/`); everything else is read with JMESPath.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhooksDef {
    /// How a subscription is created by API (Exact); without it, webhooks are set up in the
    /// system's developer portal (Xero, QuickBooks).
    #[serde(default)]
    pub subscribe: Option<SubscribeDef>,
    /// How a delivery is signed.
    pub signature: SignatureDef,
    /// An empty POST is the system checking the callback, answered 200 unsigned (Exact does this
    /// before it creates a subscription).
    #[serde(default)]
    pub empty_body_check: bool,
    /// The system proves the endpoint checks signatures before it sends events (Xero's "intent to
    /// receive"): signed deliveries with no events, some correctly and some wrongly signed, to be
    /// answered 200 and 401, both with an empty body.
    #[serde(default)]
    pub intent_to_receive: bool,
    /// JMESPath, over the signed JSON, to the events: a list, or one object taken as a list of one.
    pub events: String,
    /// The topic of an event, matched (ignoring case) with the `webhook.topic` of flows.
    pub topic: EventField,
    /// The key of the record the event is about.
    pub key: EventField,
    /// What happened to the record.
    #[serde(default)]
    pub action: Option<EventField>,
    /// Actions meaning the record is gone: nothing to fetch, the event is acknowledged and ignored.
    #[serde(default)]
    pub deleted: Vec<String>,
    /// The account an event is about, and the connection's parameter holding the connection's own
    /// account: events about another account are acknowledged, ignored and counted.
    #[serde(default)]
    pub account: Option<AccountDef>,
    /// The event's own id, when the system gives one: what makes a delivery sent again the same event.
    #[serde(default)]
    pub id: Option<EventField>,
    /// When the event was raised: with topic, key and action, what makes an event the same event when
    /// it has no id (without either, the signed bytes are).
    #[serde(default)]
    pub at: Option<EventField>,
    /// How a delivery is answered.
    #[serde(default)]
    pub answer: AnswerDef,
    /// The shape of the keys events name (one of the system's `key_shapes`): an event
    /// naming anything else is refused before it is kept.
    #[serde(default)]
    pub key_shape: Option<String>,
}

/// A subscription created by a POST of the callback URL and the topic.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscribeDef {
    /// The subscriptions endpoint, relative to the base URL.
    pub endpoint: String,
    /// Field of the callback URL in the subscription.
    pub callback_field: String,
    /// Field of the topic.
    pub topic_field: String,
}

/// A webhook signature scheme, keyed with the webhook secret of the connection named like the system.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(tag = "scheme", rename_all = "snake_case", deny_unknown_fields)]
pub enum SignatureDef {
    /// Exact Online: the body is `{"Content":…,"HashCode":"…"}`, HashCode the uppercase hex
    /// HMAC-SHA256 of the raw Content bytes; the signed JSON is the Content.
    ExactHashCode {},
    /// The HMAC-SHA256 of the raw body in a header (Xero `x-xero-signature`, QuickBooks
    /// `intuit-signature`, both base64); the signed JSON is the whole body.
    HmacSha256 {
        /// The header carrying the signature.
        header: String,
        /// How the signature is written in the header.
        encoding: SignatureEncoding,
    },
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SignatureEncoding {
    /// Standard base64 with padding (RFC 4648 §4).
    Base64,
}

/// A value of an event: a JMESPath, or a JMESPath and a regular expression whose first
/// group is the value (QuickBooks' `type` `qbo.invoice.created.v1` holds topic and action).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum EventField {
    Path(String),
    Pattern {
        path: String,
        /// Matched against the whole text; its first group is the value.
        pattern: String,
    },
}

/// Where the account an event is about is, and which connection parameter is the connection's own.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountDef {
    /// JMESPath to the account in the event (Xero `tenantId`, QuickBooks `intuitaccountid`).
    pub path: String,
    /// The connection's parameter holding its account (given in `params` or discovered):
    /// `tenant`, `realm`, `division`.
    pub param: String,
}

/// How a correctly signed delivery is answered.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AnswerDef {
    /// The one event's own answer: 202 with the runs started, 200 for a repeat or a deleted record,
    /// 422 for a topic no flow takes, 400 for a key the flows do not take (Exact).
    #[default]
    PerEvent,
    /// 200 with what became of each event (QuickBooks wants 200, and quickly).
    OkWithEvents,
    /// 200 with no body, whatever became of the events (Xero: a body or another status is a
    /// failed delivery, retried and, after 24 hours, the webhook disabled).
    OkEmpty,
}
