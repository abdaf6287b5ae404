use minijinja::Value;

use super::calls::CallLog;
use super::history::History;
use super::outcome::{Context, Outcome, Status};
use super::reason::{self, Reason, ReasonKind};
use crate::access::{Access, AccessError, AccessFailure};
use crate::compile::{CompiledFlow, CompiledLookup};
use crate::deliver;
use crate::expr::Scope;
use crate::lookup::{Answer, Resolver, exists_question, lookup_question};
use crate::map::{FieldError, Purpose, map_fields};
use crate::model::ExistsAction;
use crate::validate::check_rules;
use crate::value::{is_empty, key_text};
use crate::write_back;

/// What the look-ups of one record had to say.
#[derive(Default)]
struct LookupNotes {
    reasons: Vec<Reason>,
}

/// Runs a compiled flow over batches of records against some `Access`.
/// Keys of a whole batch are asked together (batched, cached for the run),
/// so the number of calls grows with distinct keys, not with records.
pub struct Runner<'f> {
    flow: &'f CompiledFlow,
    access: &'f mut dyn Access,
    resolver: Resolver,
    pub calls: CallLog,
    settings: Value,
    lookup_slots: Vec<usize>,
    exists_slot: Option<usize>,
    /// The journal's word on versions delivered before (flows with `source.version`).
    history: Option<&'f dyn History>,
}

/// The keys one look-up needs for one record.
enum Keys {
    /// The key, or None when it could not be computed (a reason says why).
    One(Option<String>),
    /// The key is empty and the look-up is optional or has a fallback.
    Empty,
    Many(Vec<(String, Value)>),
    /// The key reads earlier look-ups: computed once they are answered.
    Later,
}

/// One record on its way through the stages.
struct Work {
    position: usize,
    key: String,
    record: Value,
    ignored: bool,
    reasons: Vec<Reason>,
    /// A look-up key could not be computed or a look-up found nothing.
    lookup_failed: bool,
    keys: Vec<Keys>,
    lookup: Value,
    out: Value,
    exists_key: Option<String>,
    /// The record's version (`source.version`), and its last delivery (`previous`).
    version: Option<String>,
    previous: Value,
    /// Why an ignored record is ignored, when that is worth saying.
    note: Option<String>,
    /// What its look-ups created, for the journal.
    created: Vec<(String, serde_json::Value)>,
}

impl<'f> Runner<'f> {
    pub fn new(flow: &'f CompiledFlow, access: &'f mut dyn Access) -> Self {
        let mut resolver = Resolver::default();
        let lookup_slots = flow.lookups.iter().map(|l| resolver.slot(&l.system, &l.entity, &l.match_field)).collect();
        let exists_slot = flow.exists.as_ref().map(|x| resolver.slot(&x.system, &x.entity, &x.match_field));
        Runner { flow, access, resolver, calls: CallLog::default(), settings: flow.settings.clone(), lookup_slots, exists_slot, history: None }
    }

    /// Gives the runner the journal's history (a live run): a version delivered before is ignored.
    pub fn with_history(mut self, history: &'f dyn History) -> Self {
        self.history = Some(history);
        self
    }

    pub fn settings(&self) -> &Value {
        &self.settings
    }

    /// Replaces the flow's settings (flow tests override some of them).
    pub fn with_settings(mut self, settings: Value) -> Self {
        self.settings = settings;
        self
    }

    /// Processes a batch of (position, record) pairs.
    pub fn run_batch(&mut self, records: Vec<(usize, Value)>) -> Vec<Outcome> {
        let mut work: Vec<Work> = records.into_iter().map(|(position, record)| self.prepare(position, record)).collect();
        self.apply_history(&mut work);
        self.resolve_lookups(&mut work);
        self.create_missing(&mut work);
        for w in work.iter_mut().filter(|w| !w.ignored) {
            self.map_and_check(w);
        }
        self.resolve_exists(&work);
        work.into_iter().map(|w| self.finish(w)).collect()
    }

    fn base_scope(&self, record: &Value) -> Scope {
        let mut scope = Scope::new();
        scope.push("settings", self.settings.clone());
        scope.push(self.flow.source.alias, record.clone());
        scope
    }

    /// Key, filter and look-up keys of one record.
    fn prepare(&self, position: usize, record: Value) -> Work {
        let mut scope = self.base_scope(&record);
        let mut reasons = Vec::new();
        let key = match self.flow.source.key.eval(&scope) {
            Ok(k) => key_text(&k),
            Err(e) => {
                reasons.push(Reason::new(reason::of_failure(&self.flow.source.key, &e), format!("{e} (record key)"), ""));
                format!("#{position}")
            }
        };
        // The source query filters on the server in a live run; records given
        // directly (flow tests, --input) that the query would not return are ignored too.
        let outside_query = self.flow.source.query_match(&record) == Some(false);
        let ignored = outside_query
            || match &self.flow.source.filter {
                Some(f) => match f.holds(&scope) {
                    Ok(kept) => !kept,
                    Err(e) => {
                        reasons.push(Reason::new(reason::of_failure(f, &e), format!("{e} (source `where`)"), ""));
                        false
                    }
                },
                None => false,
            };
        let before = reasons.len();
        let keys = if ignored {
            Vec::new()
        } else {
            self.flow.lookups.iter().map(|l| if l.reads_lookups { Keys::Later } else { lookup_keys(l, &mut scope, &mut reasons) }).collect()
        };
        let lookup_failed = reasons.len() > before;
        let version = match &self.flow.source.version {
            Some(v) if !ignored => match v.eval(&scope) {
                Ok(value) if !is_empty(&value) => Some(key_text(&value)),
                Ok(_) => {
                    reasons.push(Reason::new(ReasonKind::Record, format!("the record has no version (`{}` is empty)", v.text.trim()), ""));
                    None
                }
                Err(e) => {
                    reasons.push(Reason::new(reason::of_failure(v, &e), format!("{e} (source `version`)"), ""));
                    None
                }
            },
            _ => None,
        };
        Work {
            position,
            key,
            record,
            ignored,
            reasons,
            lookup_failed,
            keys,
            lookup: Value::UNDEFINED,
            out: Value::UNDEFINED,
            exists_key: None,
            version,
            // None until the journal says otherwise: `if previous` reads "delivered before".
            previous: Value::from(()),
            note: None,
            created: Vec::new(),
        }
    }

    /// Each record's last delivered version, from the journal: the same
    /// version again is ignored (delivered once per version); a new one goes
    /// with `previous` in scope (an 850 sent before is sent again as a replacement).
    /// A journal that cannot be read leaves the batch for the next run.
    fn apply_history(&mut self, work: &mut [Work]) {
        let Some(history) = self.history.filter(|_| self.flow.source.version.is_some()) else { return };
        let keys: Vec<String> = work.iter().filter(|w| !w.ignored && w.version.is_some()).map(|w| w.key.clone()).collect();
        if keys.is_empty() {
            return;
        }
        match history.previous(&self.flow.name, &keys) {
            Ok(found) => {
                for w in work.iter_mut().filter(|w| !w.ignored) {
                    let Some(previous) = found.get(&w.key) else { continue };
                    w.previous = previous.to_value();
                    if w.version.as_deref() == Some(previous.version.as_str()) {
                        w.ignored = true;
                        let run = previous.run.map(|r| format!(" in run {r}")).unwrap_or_default();
                        w.note = Some(format!("version {} was delivered already{run}", previous.version));
                    }
                }
            }
            Err(message) => {
                for w in work.iter_mut().filter(|w| !w.ignored) {
                    w.reasons.push(Reason::new(ReasonKind::Call, message.clone(), ""));
                }
            }
        }
    }

    fn resolve_lookups(&mut self, work: &mut [Work]) {
        for (i, l) in self.flow.lookups.iter().enumerate() {
            if l.reads_lookups {
                for w in work.iter_mut().filter(|w| !w.ignored) {
                    self.chained_keys(i, w);
                }
            }
            let keys = work.iter().filter(|w| !w.ignored).flat_map(|w| match &w.keys[i] {
                Keys::One(k) => k.iter().cloned().collect::<Vec<_>>(),
                Keys::Empty | Keys::Later => Vec::new(),
                Keys::Many(ks) => ks.iter().map(|(k, _)| k.clone()).collect(),
            });
            let purpose = format!("lookup {}", l.name);
            let q = lookup_question(l, &purpose);
            self.resolver.resolve(self.lookup_slots[i], &q, keys, &mut *self.access, &mut self.calls);
        }
    }

    /// The keys of look-up `i` for one record, from what the look-ups before it answered. A
    /// record whose earlier look-up failed already has that reason: its key is not asked.
    fn chained_keys(&self, i: usize, w: &mut Work) {
        let mut scope = self.base_scope(&w.record);
        let mut notes = LookupNotes::default();
        let earlier = self.lookup_values(w, i, &mut scope, &mut notes);
        if !notes.reasons.is_empty() {
            w.keys[i] = Keys::One(None);
            return;
        }
        scope.push("lookup", earlier);
        let before = w.reasons.len();
        w.keys[i] = lookup_keys(&self.flow.lookups[i], &mut scope, &mut w.reasons);
        w.lookup_failed |= w.reasons.len() > before;
    }

    /// Keys a look-up with `create` did not find become records of its entity, one per key
    /// (the first record needing it creates it, the others find it). A creation the system
    /// refuses answers the key with its words, as the record's reason.
    fn create_missing(&mut self, work: &mut [Work]) {
        for (i, l) in self.flow.lookups.iter().enumerate() {
            let Some(create) = &l.create else { continue };
            let slot = self.lookup_slots[i];
            for w in work.iter_mut().filter(|w| !w.ignored) {
                let keys: Vec<(String, Option<Value>)> = match &w.keys[i] {
                    Keys::One(Some(k)) => vec![(k.clone(), None)],
                    Keys::Many(ks) => ks.iter().map(|(k, e)| (k.clone(), Some(e.clone()))).collect(),
                    Keys::One(None) | Keys::Empty | Keys::Later => Vec::new(),
                };
                for (key, element) in keys {
                    if !matches!(self.resolver.answer(slot, &key), Some(Answer::NotFound)) {
                        continue;
                    }
                    let mut scope = self.base_scope(&w.record);
                    if let (Some((_, alias)), Some(element)) = (&l.each, element) {
                        scope.push(alias, element);
                    }
                    scope.push("key", Value::from(key.as_str()));
                    let mut errors = Vec::new();
                    let record = map_fields(&create.fields, &mut scope, Purpose::Create, "", &mut errors);
                    if !errors.is_empty() {
                        w.reasons.extend(crate::map::reasons(&errors));
                        continue;
                    }
                    let request = deliver::create(&create.target, record, &[&self.flow.name, "lookup", &l.name, &key]);
                    self.calls.record(&request.system, &request.method, &create.target.path, &format!("create {}", l.name), || request.path.clone());
                    let answer = match self.access.create(&create.target, &request) {
                        Ok(created) => {
                            let id =
                                create.target.key_field.as_deref().and_then(|k| created.get_attr(k).ok()).map(|v| key_text(&v)).unwrap_or_default();
                            let what = format!(
                                "{} {key} ({} {id}), for lookup {}",
                                create.target.title,
                                create.target.key_field.as_deref().unwrap_or("id"),
                                l.name
                            );
                            w.created.push((what, crate::value::to_json(&created)));
                            Answer::Found(created)
                        }
                        Err(e) => Answer::Failed(AccessError { message: format!("creating it: {e}"), ..e }),
                    };
                    self.resolver.set(slot, key, answer);
                }
            }
        }
    }

    /// Look-up values, mapping and rules for one record.
    fn map_and_check(&self, w: &mut Work) {
        let mut scope = self.base_scope(&w.record);
        let mut notes = LookupNotes::default();
        w.lookup = self.lookup_values(w, self.flow.lookups.len(), &mut scope, &mut notes);
        scope.push("lookup", w.lookup.clone());
        scope.push("previous", w.previous.clone());

        let mut errors: Vec<FieldError> = Vec::new();
        w.out = map_fields(&self.flow.mapping, &mut scope, Purpose::Create, "", &mut errors);
        let lookup_failed = w.lookup_failed || !notes.reasons.is_empty();
        w.reasons.append(&mut notes.reasons);
        // A field reading a look-up that already failed would only repeat its reason.
        errors.retain(|e| !(lookup_failed && e.is_about_lookup()));
        w.reasons.extend(crate::map::reasons(&errors));

        scope.push("out", w.out.clone());
        w.reasons.extend(check_rules(&self.flow.rules, &mut scope));
        if let Some(x) = &self.flow.exists {
            w.exists_key = match x.key.eval_opt(&scope) {
                Ok(Some(k)) if !is_empty(&k) => Some(key_text(&k)),
                Ok(_) => None,
                Err(e) => {
                    w.reasons.push(Reason::new(reason::of_failure(&x.key, &e), format!("{e} (existence check key)"), &x.origin));
                    None
                }
            };
        }
    }

    /// The values of the record's first `upto` look-ups (reasons for those that failed in `notes`).
    fn lookup_values(&self, w: &Work, upto: usize, scope: &mut Scope, notes: &mut LookupNotes) -> Value {
        let mut values: Vec<(&str, Value)> = Vec::with_capacity(upto);
        for (i, l) in self.flow.lookups.iter().enumerate().take(upto) {
            let slot = self.lookup_slots[i];
            let v = match &w.keys[i] {
                Keys::One(None) | Keys::Later => continue,
                // An empty key is only kept for optional look-ups: the fallback, or nothing.
                Keys::Empty => self.not_found(l, "", None, scope, notes),
                Keys::One(Some(k)) => self.lookup_value(l, slot, k, None, scope, notes),
                Keys::Many(ks) => {
                    let mut map: Vec<(String, Value)> = Vec::with_capacity(ks.len());
                    for (k, element) in ks {
                        if map.iter().any(|(seen, _)| seen == k) {
                            continue;
                        }
                        if let Some(v) = self.lookup_value(l, slot, k, Some(element), scope, notes) {
                            map.push((k.clone(), v));
                        }
                    }
                    Some(crate::value::map(map))
                }
            };
            if let Some(v) = v {
                values.push((l.name.as_str(), v));
            }
        }
        crate::value::map(values)
    }

    /// The value of one look-up key, or None (with a reason when required).
    fn lookup_value(
        &self,
        l: &CompiledLookup,
        slot: usize,
        key: &str,
        element: Option<&Value>,
        scope: &mut Scope,
        notes: &mut LookupNotes,
    ) -> Option<Value> {
        match self.resolver.answer(slot, key) {
            Some(Answer::Found(record)) => Some(select(l, record)),
            Some(Answer::Failed(e)) => {
                notes.reasons.push(Reason::new(unanswered(e), format!("lookup {} of {key}: {e}", l.name), &l.origin));
                None
            }
            Some(Answer::NotFound) | None => self.not_found(l, key, element, scope, notes),
        }
    }

    /// A key the look-up did not find: the fallback if there is one, else a
    /// reason when the look-up is required. `key` and the list element are in
    /// scope for the fallback and the message.
    fn not_found(&self, l: &CompiledLookup, key: &str, element: Option<&Value>, scope: &mut Scope, notes: &mut LookupNotes) -> Option<Value> {
        let element = l.each.as_ref().map(|(_, alias)| *alias).zip(element);
        if let Some((alias, el)) = element {
            scope.push(alias, el.clone());
        }
        scope.push("key", Value::from(key));
        let result = match &l.fallback {
            Some(f) => f
                .eval(scope)
                .map_err(|e| notes.reasons.push(Reason::new(reason::of_failure(f, &e), format!("lookup {} fallback: {e}", l.name), &l.origin)))
                .ok(),
            None => {
                if l.required {
                    notes.reasons.push(Reason::new(kind_of_not_found(l), l.missing.render_lossy(scope), &l.origin));
                }
                None
            }
        };
        scope.pop();
        if element.is_some() {
            scope.pop();
        }
        result
    }

    fn resolve_exists(&mut self, work: &[Work]) {
        let (Some(x), Some(slot)) = (&self.flow.exists, self.exists_slot) else { return };
        self.resolver.forget(slot);
        let keys = work.iter().filter_map(|w| w.exists_key.clone());
        let q = exists_question(x);
        self.resolver.resolve(slot, &q, keys, &mut *self.access, &mut self.calls);
    }

    fn finish(&mut self, mut w: Work) -> Outcome {
        let mut outcome = Outcome {
            position: w.position,
            key: w.key.clone(),
            status: Status::Ignored,
            request: None,
            reasons: Vec::new(),
            message: None,
            found: None,
            write_backs: Vec::new(),
            written: None,
            context: None,
            created: std::mem::take(&mut w.created),
        };
        if w.ignored {
            outcome.message = w.note;
            return outcome;
        }
        let mut scope = self.base_scope(&w.record);
        scope.push("lookup", w.lookup.clone());
        scope.push("previous", w.previous.clone());
        scope.push("out", w.out.clone());

        let found = match (&self.flow.exists, self.exists_slot, &w.exists_key) {
            (Some(_), Some(slot), Some(k)) => match self.resolver.answer(slot, k) {
                Some(Answer::Found(r)) => Some(r.clone()),
                Some(Answer::Failed(e)) => {
                    let origin = self.flow.exists.as_ref().map_or("", |x| x.origin.as_str());
                    w.reasons.push(Reason::new(unanswered(e), format!("existence check of {k}: {e}"), origin));
                    None
                }
                _ => None,
            },
            _ => None,
        };
        // A record found counts only when the check's `when` holds for it (e.g. the status is already set).
        let found = match (&self.flow.exists, found) {
            (Some(x), Some(f)) => match x.counts(&mut scope, w.exists_key.as_deref().unwrap_or_default(), &f) {
                Ok(true) => Some(f),
                Ok(false) => None,
                Err(e) => {
                    let origin = x.origin.as_str();
                    w.reasons.push(Reason::new(ReasonKind::Record, format!("{e} (existence check `when`)"), origin));
                    None
                }
            },
            (_, f) => f,
        };
        // Whoever settles the record plans its `sent` write-backs from the target's answer with it.
        outcome.context = Some(Box::new(Context {
            record: w.record.clone(),
            lookup: w.lookup.clone(),
            out: w.out.clone(),
            found: found.clone(),
            exists_key: w.exists_key.clone(),
            version: w.version.clone(),
            previous: w.previous.clone(),
            document: self.flow.source.document.as_ref().and_then(|d| d.eval(&scope).ok()).filter(|v| !is_empty(v)).map(|v| key_text(&v)),
        }));
        let exists = self.flow.exists.as_ref();
        if let (Some(x), Some(found)) = (exists, &found)
            && x.then == ExistsAction::Skip
        {
            scope.push("key", Value::from(w.exists_key.clone().unwrap_or_default()));
            scope.push("found", found.clone());
            outcome.status = Status::Skipped;
            outcome.message = Some(x.message.render_lossy(&scope));
            outcome.found = Some(shown(found, &x.show));
            let (writes, problems) = write_back::plan(&self.flow.after.skipped, &mut scope);
            outcome.write_backs = writes;
            outcome.reasons = problems;
            return outcome;
        }

        // Ready: the request is delivered by whoever settles the record, and
        // the `sent` write-backs are planned then, from the target's answer.
        if w.reasons.is_empty() {
            let request = match (exists, &found) {
                (Some(x), Some(found)) => {
                    let id = x.id_field.as_deref().and_then(|f| found.get_attr(f).ok()).map(|v| key_text(&v)).unwrap_or_default();
                    let mut errors = Vec::new();
                    let payload = map_fields(&self.flow.mapping, &mut scope, Purpose::Update, "", &mut errors);
                    deliver::update(&self.flow.target, &id, payload, found, &[&self.flow.name, &w.key])
                }
                _ => deliver::create(&self.flow.target, w.out.clone(), &[&self.flow.name, &w.key]),
            };
            match self.file_of(request, &w.key, &scope) {
                Ok(request) => {
                    outcome.status = Status::Ready;
                    outcome.request = Some(request);
                    return outcome;
                }
                Err(reason) => w.reasons.push(reason),
            }
        }

        dedupe(&mut w.reasons);
        outcome.status = Status::Blocked;
        // Only a record's own problems are written back; a reason that is the
        // flow's or a call's leaves the record for later, telling the source nothing.
        if w.reasons.iter().all(|r| r.kind == ReasonKind::Record) {
            let texts: Vec<String> = w.reasons.iter().map(|r| r.text.clone()).collect();
            scope.push("reasons", Value::from(texts));
            let (writes, problems) = write_back::plan(&self.flow.after.blocked, &mut scope);
            w.reasons.extend(problems);
            if w.reasons.iter().all(|r| r.kind == ReasonKind::Record) {
                outcome.write_backs = writes;
            }
        }
        outcome.reasons = w.reasons;
        outcome
    }
}

impl Runner<'_> {
    /// For a file target, the request names the file the record is written to:
    /// the flow's `file` template, else `{entity}_{key}.{extension}`. A name
    /// that is not a plain file name (a `/`, `..`) is refused: record data
    /// never chooses another folder.
    fn file_of(&self, mut request: deliver::PlannedRequest, key: &str, scope: &Scope) -> Result<deliver::PlannedRequest, Reason> {
        let target = &self.flow.target;
        if target.transport == crate::model::Transport::Http {
            return Ok(request);
        }
        request.method = "PUT".into();
        // A grouped file is named once per file, when its records are gathered (`deliver::grouped`).
        if target.group.is_some() {
            return Ok(request);
        }
        let name = match &target.file {
            Some(t) => t.render(scope).map_err(|e| {
                let kind = if reason::template_reads_record(t) { ReasonKind::Record } else { ReasonKind::Flow };
                Reason::new(kind, format!("the file name `{}`: {e}", t.text), "")
            })?,
            None => {
                let key: String = key.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '.') { c } else { '_' }).collect();
                format!("{}_{key}.{}", target.entity, target.extension)
            }
        };
        if !crate::transport::files::plain_name(&name) {
            return Err(Reason::new(ReasonKind::Record, format!("the file name `{name}` is not a plain file name (no `/`, `\\` or `..`)"), ""));
        }
        request.path = name;
        Ok(request)
    }
}

fn lookup_keys(l: &CompiledLookup, scope: &mut Scope, reasons: &mut Vec<Reason>) -> Keys {
    // An empty key blocks only a required look-up without a fallback.
    let optional = !l.required || l.fallback.is_some();
    let one = |scope: &Scope, reasons: &mut Vec<Reason>| match l.key.eval(scope) {
        Ok(k) if !is_empty(&k) => Some(key_text(&k)),
        Ok(_) => {
            if !optional {
                let text = format!("the key of lookup `{}` is empty (`{}`)", l.name, l.key.text.trim());
                reasons.push(Reason::new(kind_of_not_found(l), text, &l.origin));
            }
            None
        }
        Err(e) => {
            reasons.push(Reason::new(reason::of_failure(&l.key, &e), format!("{e} (lookup {})", l.name), &l.origin));
            None
        }
    };
    match &l.each {
        None => {
            let before = reasons.len();
            match one(scope, reasons) {
                Some(k) => Keys::One(Some(k)),
                None if reasons.len() == before => Keys::Empty,
                None => Keys::One(None),
            }
        }
        Some((each, alias)) => {
            let list = match each.eval(scope) {
                Ok(list) => list,
                Err(e) => {
                    reasons.push(Reason::new(reason::of_failure(each, &e), format!("{e} (lookup {})", l.name), &l.origin));
                    return Keys::Many(Vec::new());
                }
            };
            let mut keys = Vec::new();
            for element in list.try_iter().into_iter().flatten() {
                scope.push(alias, element.clone());
                if let Some(k) = one(scope, reasons) {
                    keys.push((k, element));
                }
                scope.pop();
            }
            Keys::Many(keys)
        }
    }
}

fn select(l: &CompiledLookup, record: &Value) -> Value {
    if l.select_one {
        return record.get_attr(&l.select[0]).unwrap_or_default();
    }
    shown(record, &l.select)
}

/// The chosen fields of a record (all of them when none are chosen).
fn shown(record: &Value, fields: &[String]) -> Value {
    if fields.is_empty() {
        return record.clone();
    }
    crate::value::map(fields.iter().map(|f| (f.as_str(), record.get_attr(f).unwrap_or_default())))
}

fn dedupe(reasons: &mut Vec<Reason>) {
    let mut seen = std::collections::HashSet::new();
    reasons.retain(|r| seen.insert(r.text.clone()));
}

/// A question that got no answer: a malformed query is the flow's (the
/// engine built it from the flow, escaping every value), anything else waits
/// for the next run.
fn unanswered(e: &AccessError) -> ReasonKind {
    match e.kind {
        AccessFailure::Malformed => ReasonKind::Flow,
        AccessFailure::Unavailable => ReasonKind::Call,
        AccessFailure::Refused => ReasonKind::Record,
    }
}

/// A key that is empty or not found is the record's, unless the key comes
/// from settings alone (`key: settings.default_customer`): then it is the
/// same for every record, and the configuration names something that is not there.
fn kind_of_not_found(l: &CompiledLookup) -> ReasonKind {
    let record = reason::reads_record(&l.key) || l.each.as_ref().is_some_and(|(each, _)| reason::reads_record(each));
    if record { ReasonKind::Record } else { ReasonKind::Flow }
}
