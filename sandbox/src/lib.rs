//! flowmap-sandbox: faithful local emulators of the Exact Online REST API, the Le New Black
//! wholesale API v2, Xero's Accounting API, QuickBooks Online's Accounting API and TrueCommerce's Integration FTP (SFTP, with a
//! simulated EDI partner) on loopback ports, for trying flows end to end and for the engine's
//! tests. The HTTP emulators are a registry (core.rs): each under its name, on its own port,
//! with its own limits and faults.
//!
//! ```no_run
//! let sandbox = flowmap_sandbox::Sandbox::start(flowmap_sandbox::SandboxConfig::default())?;
//! println!("{} {}", sandbox.exact_url(), sandbox.lnb_url());
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod cli;
mod clock;
mod config;
mod control;
mod core;
mod exact;
mod faults;
mod fixtures;
mod generate;
mod generate_purchases;
mod http;
mod lnb;
mod qbo;
mod random;
mod recorder;
mod sandbox;
mod truecommerce;
mod xero;

pub use config::{FaultKind, Faults, Generate, Limits, SandboxConfig, TrueCommerceConfig};
pub use exact::picture::png_of as exact_item_picture;
pub use exact::webhooks::WebhookDelivery;
pub use generate_purchases::{PurchasePlan, PurchaseWorld, purchase_orders};
pub use qbo::REALM as QBO_REALM;
pub use recorder::RecordedRequest;
pub use sandbox::Sandbox;
pub use truecommerce::SftpFaults;
pub use truecommerce::records::{Acknowledgment, ReceivedFile, SentFile};
pub use xero::{ACME as XERO_ACME_TENANT, DEMO as XERO_DEMO_TENANT};
