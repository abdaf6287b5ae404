//! `flowmap subscribe FLOW --callback URL`: creates the webhook subscription
//! of the flow's topic at its system (Exact checks the callback with an empty
//! POST first, so the engine must already be serving at that URL).

use std::path::PathBuf;
use std::process::ExitCode;

use super::live_setup::{LiveOptions, compile, runtime};
use super::{Failure, Out};

pub fn run(root: Option<PathBuf>, options: &LiveOptions, flow: PathBuf, callback: String) -> Result<ExitCode, Failure> {
    let setup = options.open(root, Some(&flow), false)?;
    let compiled = compile(&setup.project, &flow)?;
    let hook = compiled.webhook.as_ref().ok_or_else(|| format!("flow {} has no `webhook` to subscribe to", compiled.name))?;
    let system = setup.project.systems.get(&hook.system).ok_or_else(|| format!("unknown system `{}`", hook.system))?;
    let hooks = system.def.http.webhooks.as_ref().ok_or_else(|| format!("system `{}` declares no webhooks (http.webhooks)", hook.system))?;
    let def = hooks.subscribe.as_ref().ok_or_else(|| {
        format!("{}'s webhooks are set up in its developer portal, not by API: give it the callback {callback} there", system.def.title)
    })?;
    let body = serde_json::json!({ def.callback_field.clone(): callback, def.topic_field.clone(): hook.topic });
    let rt = runtime()?;
    rt.block_on(async {
        let conn = setup.registry.connection(&hook.system).await.map_err(|e| e.to_string())?;
        conn.call("POST", &conn.url(&def.endpoint), &[], Some(&body)).await.map_err(|e| format!("{} refused the subscription: {e}", hook.system))
    })?;
    let mut out = Out::text();
    writeln!(out, "subscribed {callback} to {} topic {} (flow {})", hook.system, hook.topic, compiled.name)?;
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}
