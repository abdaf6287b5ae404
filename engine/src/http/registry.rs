//! The connections of a run, built on first use from `connections.yaml`, the
//! system definitions, and the secrets stored by `flowmap connect`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use flowmap_state::{State, Vault};
use tokio::sync::Mutex;

use super::auth::{Auth, AuthorizationCode, ClientCredentials, Credential, OauthClient, bearer};
use super::connection::Connection;
use super::limits::RateBudget;
use super::{CallError, ServerClock, Shutdown};
use crate::diagnostic::Diagnostic;
use crate::load::{SchemaKind, load_typed};
use crate::model::{AuthDef, ConnectionDef, ConnectionsFile};
use crate::project::Project;

pub struct Registry {
    pub file: ConnectionsFile,
    pub state: Arc<State>,
    /// The key, or why it could not be loaded (said when a secret is needed).
    vault: Result<Arc<Vault>, String>,
    pub(crate) systems: HashMap<String, crate::model::SystemDef>,
    open: Mutex<HashMap<String, Arc<Connection>>>,
    /// File stores (sftp, folder connections) opened so far: one per connection, reused by every run.
    pub(crate) stores: std::sync::Mutex<HashMap<String, Arc<dyn crate::transport::files::FileStore>>>,
    /// The connections file's folder: a `folder` connection's path is relative to it.
    pub(crate) dir: std::path::PathBuf,
    /// Ends every connection's waits (retries, rate-limit windows) when the engine stops.
    shutdown: Shutdown,
}

impl Registry {
    pub fn load(project: &Project, path: &Path, state: Arc<State>, vault: Result<Arc<Vault>, String>) -> Result<Registry, Vec<Diagnostic>> {
        let (file, doc) = load_typed::<ConnectionsFile>(path, SchemaKind::Connections)?;
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut problems = Vec::new();
        for (name, c) in &file.connections {
            let system = c.system.clone().unwrap_or_else(|| name.clone());
            let at = doc.spans.value_loc(&crate::load::pointer_child("/connections", name));
            match project.systems.get(&system) {
                None => problems.push(Diagnostic::error(format!("connection `{name}`: unknown system `{system}`")).at(at)),
                Some(s) => {
                    let problem = match s.def.transport {
                        crate::model::Transport::Http => host_of_def(name, c, &s.def).err(),
                        transport => crate::transport::stores::settings_problem(name, c, transport),
                    };
                    if let Some(e) = problem {
                        problems.push(Diagnostic::error(e).at(at));
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let systems = project.systems.iter().map(|(n, s)| (n.clone(), s.def.clone())).collect();
        Ok(Registry {
            file,
            state,
            vault,
            systems,
            open: Mutex::new(HashMap::new()),
            stores: std::sync::Mutex::new(HashMap::new()),
            dir,
            shutdown: Shutdown::default(),
        })
    }

    /// The signal that ends this registry's waits; a registry built by
    /// [`Registry::reloaded`] shares it.
    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    /// A registry for changed settings (the connections file or a system's
    /// definition edited), sharing this one's state file and key: tokens stay
    /// where they are, and refreshes are still one at a time (the state file's lock).
    pub fn reloaded(&self, project: &Project, file: &Path) -> Result<Registry, Vec<Diagnostic>> {
        let mut registry = Registry::load(project, file, self.state.clone(), self.vault.clone())?;
        registry.shutdown = self.shutdown.clone();
        Ok(registry)
    }

    pub fn definition(&self, name: &str) -> Option<&ConnectionDef> {
        self.file.connections.get(name)
    }

    /// The connection a flow's `system: X` uses: the one named X.
    pub async fn connection(&self, name: &str) -> Result<Arc<Connection>, CallError> {
        let mut open = self.open.lock().await;
        if let Some(c) = open.get(name) {
            return Ok(c.clone());
        }
        let conn = Arc::new(self.build(name).await?);
        open.insert(name.to_string(), conn.clone());
        Ok(conn)
    }

    /// Proves a connection works: the system's cheap `check` GET, else buying
    /// a token. Returns the base URL the connection's requests go to.
    pub async fn check(&self, name: &str) -> Result<String, CallError> {
        if let Some(checked) = self.check_store(name).await {
            return checked;
        }
        let conn = self.connection(name).await?;
        match self.systems.get(&conn.system).and_then(|s| s.http.check.as_deref()) {
            Some(url) => {
                conn.get(&url.replace("{host}", &conn.host).replace("{base_url}", &conn.base_url), &[]).await?;
            }
            None => conn.check_auth().await?,
        }
        Ok(conn.base_url.clone())
    }

    /// Connections opened so far.
    pub async fn opened(&self) -> Vec<Arc<Connection>> {
        let mut list: Vec<_> = self.open.lock().await.values().cloned().collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    }

    pub(crate) fn vault(&self) -> Result<&Arc<Vault>, CallError> {
        self.vault.as_ref().map_err(|message| CallError::Stop { message: message.clone() })
    }

    pub(crate) fn secret(&self, connection: &str, name: &str) -> Result<String, CallError> {
        let vault = self.vault()?;
        match self.state.secret(vault, connection, name) {
            Ok(Some(s)) => Ok(s),
            Ok(None) => Err(CallError::Stop { message: format!("connection `{connection}` has no {name}: run \"flowmap connect {connection}\"") }),
            Err(e) => Err(CallError::Stop { message: e.to_string() }),
        }
    }

    async fn build(&self, name: &str) -> Result<Connection, CallError> {
        let def = self
            .file
            .connections
            .get(name)
            .ok_or_else(|| CallError::Stop { message: format!("no connection named `{name}` in the connections file") })?;
        let system_name = def.system.clone().unwrap_or_else(|| name.to_string());
        let system = self.systems.get(&system_name).ok_or_else(|| CallError::Stop { message: format!("unknown system `{system_name}`") })?;
        let host = host_of_def(name, def, system).map_err(|message| CallError::Stop { message })?;
        let clock = ServerClock::new(def.clock_speed.unwrap_or(1.0));
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| CallError::Stop { message: format!("HTTP client: {e}") })?;
        let Some(base_url) = &system.base_url else {
            return Err(CallError::Stop {
                message: format!("connection `{name}`: system `{system_name}` uses the {} transport, not http", system.transport.as_str()),
            });
        };
        let base_without_params = base_url.replace("{host}", &host);
        let auth = self.auth(name, system, def, &host, &base_without_params)?;
        let error_message = system.http.error_message.as_deref().and_then(|e| crate::expr::compile_selector(e).ok());
        let mut conn = Connection {
            name: name.to_string(),
            system: system_name.clone(),
            base_url: base_without_params.trim_end_matches('/').to_string(),
            host: host.clone(),
            http,
            auth,
            budget: RateBudget::new(name, &system.http.rate_limits, system.http.calls_per_minute),
            clock,
            slots: tokio::sync::Semaphore::new(in_flight(def, system)),
            headers: system.http.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            query: system.http.query.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            write_query: system.http.write_query.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            idempotency: system.http.idempotency.clone(),
            throttled_wait: system.http.throttled_wait_seconds,
            write_headers: system.http.write_headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            error_message,
            retries: def.retries.unwrap_or(5),
            timeout: Duration::from_secs_f64(def.timeout_seconds.unwrap_or(30.0).max(0.1)),
            calls: Default::default(),
            unavailable_in_row: Default::default(),
            last_unavailable: Default::default(),
            codes: Default::default(),
            shutdown: self.shutdown.clone(),
        };
        // Placeholders of the base URL and the headers (Xero's `xero-tenant-id: "{tenant}"`):
        // the connection's own values, else what the consent's redirect carried (QuickBooks'
        // realmId), else the state's memory of a discovery, else discover now.
        let from_consent = self.consent_values(name, system, def);
        let mut values = from_consent.clone();
        let used = |marker: &str| conn.base_url.contains(marker) || conn.headers.iter().any(|(_, v)| v.contains(marker));
        for (param, how) in &system.http.discover {
            if !used(&format!("{{{param}}}")) || values.iter().any(|(p, _)| p == param) {
                continue;
            }
            let value = match (def.params.get(param), &how.list) {
                (Some(v), None) => v.to_string(),
                (given, _) => self.discover(&conn, param, how, given.map(ToString::to_string)).await?,
            };
            values.push((param.clone(), value));
        }
        for (param, value) in &def.params {
            if !values.iter().any(|(p, _)| p == param) {
                values.push((param.clone(), value.to_string()));
            }
        }
        let fill = |text: &str| values.iter().fold(text.to_string(), |t, (p, v)| t.replace(&format!("{{{p}}}"), v));
        conn.base_url = fill(&conn.base_url);
        for (_, v) in conn.headers.iter_mut() {
            *v = fill(v);
        }
        let unfilled = std::iter::once(&conn.base_url).chain(conn.headers.iter().map(|(_, v)| v));
        if let Some(missing) = unfilled.filter_map(|t| t.split('{').nth(1).and_then(|r| r.split('}').next())).next() {
            let carried = match &system.auth {
                Some(AuthDef::Oauth2AuthorizationCode { redirect_params, .. }) => redirect_params.get(missing),
                _ => None,
            };
            let message = match carried {
                Some(carried) => format!(
                    "connection `{name}` needs a value for `{missing}`, which the consent's redirect carries ({carried}): \
                     run \"flowmap connect {name}\" (or params: {{ {missing}: … }})"
                ),
                None => format!("connection `{name}` needs a value for `{missing}` (params: {{ {missing}: … }})"),
            };
            return Err(CallError::Stop { message });
        }
        Ok(conn)
    }

    /// Placeholders filled by the last consent's redirect (`realm` from `realmId`), unless the
    /// connection names its own value.
    fn consent_values(&self, name: &str, system: &crate::model::SystemDef, def: &ConnectionDef) -> Vec<(String, String)> {
        let Some(AuthDef::Oauth2AuthorizationCode { redirect_params, .. }) = &system.auth else {
            return Vec::new();
        };
        let kept = super::auth::consent::kept(&self.state, name);
        redirect_params
            .iter()
            .filter(|(param, _)| !def.params.contains_key(*param))
            .filter_map(|(param, carried)| kept.iter().find(|(k, v)| k == carried && !v.is_empty()).map(|(_, v)| (param.clone(), v.clone())))
            .collect()
    }

    /// Forgets the open connection `name`, so the next use builds it from what is stored now
    /// (the tokens and values of a consent just given).
    pub async fn forget(&self, name: &str) {
        self.open.lock().await.remove(name);
    }

    /// A placeholder's value found by asking the system, remembered in the state file. With a
    /// `list` of candidates, `given` (the connection's `params`) names one by value or name; the
    /// memory is kept per name given, so naming another one asks again.
    async fn discover(&self, conn: &Connection, param: &str, how: &crate::model::DiscoverDef, given: Option<String>) -> Result<String, CallError> {
        let memory = match &given {
            Some(g) => format!("{param}={g}"),
            None => param.to_string(),
        };
        if let Ok(Some(v)) = self.state.setting(&conn.name, &memory)
            && !v.is_empty()
        {
            return Ok(v);
        }
        let url = how.get.replace("{host}", &conn.host);
        let answer = conn.get(&url, &[]).await?;
        let value = super::discover::choose(&conn.name, param, how, &answer.body, given.as_deref(), &url)?;
        let _ = self.state.set_setting(&conn.name, &memory, &value);
        Ok(value)
    }

    fn auth(&self, name: &str, system: &crate::model::SystemDef, def: &ConnectionDef, host: &str, base: &str) -> Result<Auth, CallError> {
        let fill = |u: &str| fill_hosts(u, system, def, host).replace("{base_url}", base.trim_end_matches('/'));
        let Some(auth) = &system.auth else {
            return Err(CallError::Stop { message: format!("connection `{name}`: system `{}` has no http `auth`", system.system) });
        };
        Ok(match auth {
            AuthDef::Oauth2AuthorizationCode {
                token_url,
                lifetime_seconds,
                min_refresh_seconds,
                consent_lost,
                too_early,
                client_auth,
                refresh_grace_seconds,
                ..
            } => {
                let client = OauthClient { id: self.secret(name, "client_id")?, secret: self.secret(name, "client_secret")?, auth: *client_auth };
                Auth::AuthorizationCode(AuthorizationCode::new(
                    name,
                    fill(token_url),
                    client,
                    *lifetime_seconds,
                    *refresh_grace_seconds,
                    *min_refresh_seconds,
                    consent_lost.clone(),
                    too_early.clone(),
                    self.state.clone(),
                    self.vault()?.clone(),
                ))
            }
            AuthDef::Oauth2ClientCredentials { token_url, body, token_query, expiry_field, lifetime_seconds } => {
                Auth::ClientCredentials(ClientCredentials::new(
                    name,
                    fill(token_url),
                    *body,
                    self.secret(name, "client_id")?,
                    self.secret(name, "client_secret")?,
                    token_query.clone(),
                    expiry_field.clone(),
                    *lifetime_seconds,
                ))
            }
            AuthDef::Bearer {} => {
                let token = self.secret(name, "token")?;
                super::register_secret(&token);
                Auth::Static(Credential { header: Some(bearer(&token)), query: None, generation: 0 })
            }
            AuthDef::ApiKey { header } => {
                let key = self.secret(name, "api_key")?;
                super::register_secret(&key);
                Auth::Static(Credential { header: Some((header.clone(), key)), query: None, generation: 0 })
            }
            AuthDef::Basic {} => {
                let user = self.secret(name, "username")?;
                let password = self.secret(name, "password")?;
                super::register_secret(&password);
                let encoded = super::base64::encode(format!("{user}:{password}").as_bytes());
                super::register_secret(&encoded);
                Auth::Static(Credential { header: Some(("Authorization".into(), format!("Basic {encoded}"))), query: None, generation: 0 })
            }
        })
    }
}

/// Requests in flight at once: the connection's `concurrency` (default 4), never more than the
/// system allows (`http.max_in_flight`).
fn in_flight(def: &ConnectionDef, system: &crate::model::SystemDef) -> usize {
    let wanted = def.concurrency.unwrap_or(4).max(1);
    system.http.max_in_flight.map_or(wanted, |most| wanted.min(most.max(1))) as usize
}

/// A system URL with its hosts filled in: `{host}` is the connection's host; `{host:NAME}` the
/// system's other host NAME, or the connection's own `host` when it has one (a sandbox serves
/// every path of the system on one port).
pub fn fill_hosts(url: &str, system: &crate::model::SystemDef, def: &ConnectionDef, host: &str) -> String {
    let mut url = url.to_string();
    for (name, other) in &system.hosts {
        let chosen = if def.host.is_some() { host } else { other.trim_end_matches('/') };
        url = url.replace(&format!("{{host:{name}}}"), chosen);
    }
    url.replace("{host}", host)
}

/// The host a connection talks to: its own `host`, its `region`'s, or the system's only one.
pub fn host_of_def(name: &str, c: &ConnectionDef, s: &crate::model::SystemDef) -> Result<String, String> {
    if let Some(h) = &c.host {
        return Ok(h.trim_end_matches('/').to_string());
    }
    if let Some(region) = &c.region {
        return s.regions.get(region).cloned().ok_or_else(|| {
            let known: Vec<&str> = s.regions.keys().map(String::as_str).collect();
            format!("connection `{name}`: unknown region `{region}` of {} (one of: {})", s.title, known.join(", "))
        });
    }
    if let Some(h) = &s.host {
        return Ok(h.clone());
    }
    let known: Vec<&str> = s.regions.keys().map(String::as_str).collect();
    Err(format!("connection `{name}` needs a `region` ({}) or a `host`", known.join(", ")))
}
