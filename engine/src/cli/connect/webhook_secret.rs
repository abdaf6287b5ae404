//! `flowmap connect NAME --webhook-secret`: stores only the secret the
//! connection's system signs its webhooks with (Exact's webhook secret, Xero's
//! webhooks key, QuickBooks' verifier token), encrypted in the state file like
//! the connection's other credentials. Consent is not asked again: a webhook
//! key is rotated on its own, in the system's developer portal.

use std::path::PathBuf;
use std::process::ExitCode;

use super::super::live_setup::LiveOptions;
use super::super::{Failure, Out};
use super::prompt;

const ENV: &str = "FLOWMAP_WEBHOOK_SECRET";

pub fn run(root: Option<PathBuf>, options: &LiveOptions, name: String) -> Result<ExitCode, Failure> {
    let setup = options.open(root, None, true)?;
    let vault = setup.vault.clone()?;
    let def = setup.registry.definition(&name).ok_or_else(|| format!("no connection named `{name}` in the connections file"))?;
    let system_name = def.system.clone().unwrap_or_else(|| name.clone());
    let system = setup.project.systems.get(&system_name).ok_or_else(|| format!("unknown system `{system_name}`"))?;
    if system.def.http.webhooks.is_none() {
        return Err(format!("system `{system_name}` takes no webhooks (no http.webhooks in its definition)").into());
    }
    // Never a command-line value: arguments are seen by every user of the machine.
    let secret = match std::env::var(ENV).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
        Some(v) => v,
        None => {
            let line = prompt::read_line(&format!("webhook secret of `{name}` (or set {ENV}): "), true)
                .map_err(|e| format!("cannot read the webhook secret: {e}; set {ENV}"))?;
            line.map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).ok_or_else(|| "no webhook secret given".to_string())?
        }
    };
    setup.state.put_secret(&vault, &name, "webhook_secret", &secret).map_err(|e| e.to_string())?;
    let mut out = Out::text();
    writeln!(out, "stored the webhook secret of `{name}` ({}); `flowmap serve` checks its webhooks with it from its next start", system.def.title)?;
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}
