//! What starts a flow besides a person: a cron schedule read in a time zone,
//! and a webhook topic. Both are parsed here, when the flow loads, so a typo
//! in a pattern is a `file:line:col` error, never a schedule that never fires.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};

use super::context::Ctx;
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::model::FlowFile;
use crate::project::Project;

pub struct CompiledSchedule {
    /// The pattern as written, for listings.
    pub cron: String,
    pub timezone: chrono_tz::Tz,
    pattern: Cron,
}

impl CompiledSchedule {
    /// The first moment strictly after `after` the pattern matches.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.timezone);
        self.pattern.find_next_occurrence(&local, false).ok().map(|t| t.with_timezone(&Utc))
    }
}

pub struct CompiledWebhook {
    pub system: String,
    pub topic: String,
}

pub fn compile_schedule(ctx: &mut Ctx, flow: &FlowFile) -> Option<CompiledSchedule> {
    let schedule = flow.schedule.as_ref()?;
    let parser = CronParser::builder().seconds(Seconds::Optional).build();
    let pattern = match parser.parse(schedule.cron.trim()) {
        Ok(p) => Some(p),
        Err(e) => {
            ctx.error(
                Diagnostic::error(format!("`{}` is not a cron pattern: {e}", schedule.cron))
                    .at(ctx.spans.value_loc("/schedule/cron"))
                    .help("5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, e.g. `*/15 7-19 * * 1-5`"),
            );
            None
        }
    };
    let timezone = match schedule.timezone.as_deref() {
        None => Some(chrono_tz::UTC),
        Some(name) => match chrono_tz::Tz::from_str(name) {
            Ok(tz) => Some(tz),
            Err(_) => {
                let mut d = Diagnostic::error(format!("unknown time zone `{name}`")).at(ctx.spans.value_loc("/schedule/timezone"));
                d = match did_you_mean(name, chrono_tz::TZ_VARIANTS.iter().map(|t| t.name())) {
                    Some(near) => d.help(format!("did you mean `{near}`?")),
                    None => d.help("an IANA name such as `Europe/Amsterdam` or `UTC`"),
                };
                ctx.error(d);
                None
            }
        },
    };
    Some(CompiledSchedule { cron: schedule.cron.trim().to_string(), timezone: timezone?, pattern: pattern? })
}

/// A webhook names one record of the source by its key, so the flow must
/// read the source and be able to fetch one record (`source.get_one`).
pub fn compile_webhook(project: &Project, ctx: &mut Ctx, flow: &FlowFile) -> Option<CompiledWebhook> {
    let hook = flow.webhook.as_ref()?;
    let source = flow.source.as_ref()?;
    if !project.systems.contains_key(&hook.system) {
        let near = did_you_mean(&hook.system, project.systems.keys().map(String::as_str));
        let mut d = Diagnostic::error(format!("unknown system `{}`", hook.system)).at(ctx.spans.value_loc("/webhook/system"));
        if let Some(near) = near {
            d = d.help(format!("did you mean `{near}`?"));
        }
        ctx.error(d);
        return None;
    }
    if hook.system != source.system {
        ctx.error(
            Diagnostic::error(format!("the webhook comes from `{}` but the flow reads `{}`", hook.system, source.system))
                .at(ctx.spans.value_loc("/webhook/system"))
                .help("an event names a record of the flow's source by its key"),
        );
        return None;
    }
    if source.get_one.is_none() {
        ctx.error(
            Diagnostic::error("a webhook starts the flow for one record, but the source has no `get_one`")
                .at(ctx.spans.key_loc("/webhook"))
                .help("add the endpoint of one record to `source`, e.g. `get_one: \"salesorder/SalesOrders(guid'{key}')\"`"),
        );
        return None;
    }
    Some(CompiledWebhook { system: hook.system.clone(), topic: hook.topic.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(cron: &str, tz: chrono_tz::Tz) -> CompiledSchedule {
        let pattern = CronParser::builder().seconds(Seconds::Optional).build().parse(cron).unwrap();
        CompiledSchedule { cron: cron.into(), timezone: tz, pattern }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_pattern_is_read_in_its_time_zone_across_daylight_saving() {
        let nine = schedule("0 9 * * 1-5", chrono_tz::Europe::Amsterdam);
        // Friday 27 March 2026, winter time: 09:00 in Amsterdam is 08:00 UTC.
        assert_eq!(nine.next_after(utc("2026-03-27T07:00:00Z")), Some(utc("2026-03-27T08:00:00Z")));
        // The clocks go forward on Sunday 29 March; Monday's 09:00 is 07:00 UTC.
        assert_eq!(nine.next_after(utc("2026-03-27T08:00:00Z")), Some(utc("2026-03-30T07:00:00Z")));
    }

    #[test]
    fn six_fields_have_seconds_first() {
        let every_ten = schedule("*/10 * * * * *", chrono_tz::UTC);
        assert_eq!(every_ten.next_after(utc("2026-01-01T00:00:00Z")), Some(utc("2026-01-01T00:00:10Z")));
    }
}
