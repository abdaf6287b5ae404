//! Date filters and functions: calendar arithmetic and reformatting of ISO
//! dates/datetimes (and OData `/Date(ms)/` values where reading makes sense).
//!
//! Dates are calendar dates as written: `2024-03-05T23:30:00-02:00` is on
//! the 5th, not on the UTC 6th. Only `/Date(ms)/`, which is a UTC instant, is
//! read in UTC. Reading filters let `none` through as `none`, because an
//! empty date field is common in source data and has an obvious answer.

use std::fmt::Write as _;

use chrono::format::StrftimeItems;
use chrono::{DateTime, Datelike as _, Days, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Utc};
use minijinja::{Environment, Error, Value};

use super::odata::parse_ms_date;
use super::{invalid, reject_undefined, show};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("add_days", add_days);
    env.add_filter("to_date", to_date);
    env.add_filter("date_format", date_format);
    env.add_function("days_between", days_between);
}

/// A parsed date or datetime, keeping what the text said about its zone.
pub(super) enum Moment {
    Date(NaiveDate),
    Naive(NaiveDateTime),
    Zoned(DateTime<FixedOffset>),
}

impl Moment {
    /// The calendar date as written.
    fn date(&self) -> NaiveDate {
        match self {
            Moment::Date(date) => *date,
            Moment::Naive(datetime) => datetime.date(),
            Moment::Zoned(datetime) => datetime.date_naive(),
        }
    }

    /// The UTC instant; a date is UTC midnight, a naive datetime is UTC.
    pub(super) fn utc(&self) -> DateTime<Utc> {
        match self {
            Moment::Date(date) => date.and_time(NaiveTime::MIN).and_utc(),
            Moment::Naive(datetime) => datetime.and_utc(),
            Moment::Zoned(datetime) => datetime.with_timezone(&Utc),
        }
    }
}

/// Parses `YYYY-MM-DD`, optionally followed by `T` (or a space) and
/// `HH:MM[:SS[.fraction]]`, optionally followed by `Z` or an offset
/// (`+01:00`, `+0100`, `+01`).
///
/// Written by hand rather than with chrono's format parser because that one
/// is lenient about field widths (`2024-3-5`) and we want one strict shape.
pub(super) fn parse_iso(text: &str) -> Option<Moment> {
    let text = text.trim();
    let (date, rest) = text.split_at_checked(10)?;
    let date = parse_date(date)?;
    if rest.is_empty() {
        return Some(Moment::Date(date));
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (time, zone) = if let Some(time) = rest.strip_suffix(['Z', 'z']) {
        (time, Some(FixedOffset::east_opt(0)?))
    } else if let Some(at) = rest.find(['+', '-']) {
        (&rest[..at], Some(parse_offset(&rest[at..])?))
    } else {
        (rest, None)
    };
    let datetime = NaiveDateTime::new(date, parse_time(time)?);
    Some(match zone {
        None => Moment::Naive(datetime),
        Some(zone) => Moment::Zoned(zone.from_local_datetime(&datetime).single()?),
    })
}

/// A number made of ASCII digits only (no sign, no spaces).
fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year = digits(&text[..4])?;
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, digits(&text[5..7])?, digits(&text[8..])?).filter(|date| within_years(*date))
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    let (clock, fraction) = match text.split_once('.') {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (text, None),
    };
    let two = |part: &str| if part.len() == 2 { digits(part) } else { None };
    let mut parts = clock.split(':');
    let hour = two(parts.next()?)?;
    let minute = two(parts.next()?)?;
    let second = match parts.next() {
        Some(part) => two(part)?,
        None if fraction.is_none() => 0,
        None => return None,
    };
    if parts.next().is_some() {
        return None;
    }
    let nanos = match fraction {
        None => 0,
        Some(fraction) if (1..=9).contains(&fraction.len()) => digits(fraction)? * 10u32.pow(9 - u32::try_from(fraction.len()).ok()?),
        Some(_) => return None,
    };
    NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
}

fn parse_offset(text: &str) -> Option<FixedOffset> {
    let (sign, rest) = match text.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    // Digits and a colon only: anything else is no offset (and slicing by
    // byte below would cut a character of source text in two).
    if !rest.is_ascii() {
        return None;
    }
    let (hours, minutes) = match rest.len() {
        2 => (rest, "00"),
        4 => rest.split_at(2),
        5 if &rest[2..3] == ":" => (&rest[..2], &rest[3..]),
        _ => return None,
    };
    let seconds = digits(hours)? * 3600 + digits(minutes)? * 60;
    FixedOffset::east_opt(sign * i32::try_from(seconds).ok()?)
}

/// The years a date may have: those four-digit ISO text can write. chrono
/// goes on past them (to `+10000-01-01`), which no system reads as a date,
/// so a date moved or read outside them is an error, not a result.
const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Whether `date` is within [`YEARS`].
pub(super) fn within_years(date: NaiveDate) -> bool {
    YEARS.contains(&date.year())
}

/// The error for a date outside [`YEARS`]; `what` names how it came about.
pub(super) fn out_of_range(what: &str) -> Error {
    invalid(format!("{what} is out of range (dates run from year {} to {})", YEARS.start(), YEARS.end()))
}

/// The UTC instant of a `/Date(ms)/` value, refused outside [`YEARS`].
pub(super) fn utc_from_millis(value: &Value, millis: i64) -> Result<DateTime<Utc>, Error> {
    DateTime::from_timestamp_millis(millis).filter(|utc| within_years(utc.date_naive())).ok_or_else(|| out_of_range(&show(value)))
}

/// What the date filters accept, for error messages.
const EXPECTED: &str = "expected e.g. 2024-03-05, 2024-03-05T10:20:00 or /Date(1709596800000)/";

/// Reads an ISO date/datetime or `/Date(ms)/`; `none` gives `None`.
fn moment_of(value: &Value) -> Result<Option<Moment>, Error> {
    reject_undefined(value)?;
    if value.is_none() {
        return Ok(None);
    }
    let text = value.as_str().unwrap_or_default();
    let moment = match parse_ms_date(text) {
        Some(millis) => Some(Moment::Zoned(utc_from_millis(value, millis)?.into())),
        None => parse_iso(text),
    };
    moment.map(Some).ok_or_else(|| invalid(format!("{} is not a date ({EXPECTED})", show(value))))
}

/// Like [`moment_of`] but `none` is an error too.
fn required_moment(value: &Value) -> Result<Moment, Error> {
    moment_of(value)?.ok_or_else(|| invalid(format!("none is not a date ({EXPECTED})")))
}

/// `2024-01-31 | add_days(n)`: the same text with the calendar date moved
/// by `n` days (negative goes back); moving past year 9999 or before year 1
/// is an error. A datetime keeps its time and offset
/// text exactly as written, so the result has the same shape as the input.
fn add_days(value: &Value, days: i64) -> Result<Value, Error> {
    reject_undefined(value)?;
    if value.is_none() {
        return Ok(Value::from(()));
    }
    let text = value.as_str().map(str::trim).unwrap_or_default();
    let moment =
        parse_iso(text).ok_or_else(|| invalid(format!("{} is not an ISO date (expected e.g. 2024-03-05 or 2024-03-05T10:20:00)", show(value))))?;
    let date = moment.date();
    let moved = if days >= 0 { date.checked_add_days(Days::new(days.unsigned_abs())) } else { date.checked_sub_days(Days::new(days.unsigned_abs())) }
        .filter(|moved| within_years(*moved))
        .ok_or_else(|| out_of_range(&format!("{} plus {days} days", show(value))))?;
    // `parse_iso` accepted the text, so its first 10 bytes are the date.
    Ok(Value::from(format!("{}{}", moved.format("%Y-%m-%d"), &text[10..])))
}

/// Any accepted date form → `YYYY-MM-DD` (the date as written; `/Date(ms)/`
/// in UTC). Also ISO 8601's basic form `YYYYMMDD`, which EDI writes (X12 DT, CCYYMMDD).
fn to_date(value: &Value) -> Result<Value, Error> {
    if let Some(text) = value.as_str().map(str::trim).filter(|t| t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit())) {
        return NaiveDate::parse_from_str(text, "%Y%m%d")
            .map(|d| Value::from(d.format("%Y-%m-%d").to_string()))
            .map_err(|_| invalid(format!("{} is not a date (YYYYMMDD)", show(value))));
    }
    Ok(match moment_of(value)? {
        Some(moment) => Value::from(moment.date().format("%Y-%m-%d").to_string()),
        None => Value::from(()),
    })
}

/// Formats with a chrono strftime pattern (`%d-%m-%Y`, `%Y%m%d`, …). A
/// plain date formats as its midnight, so `%H:%M` gives `00:00`.
fn date_format(value: &Value, format: &str) -> Result<Value, Error> {
    let Some(moment) = moment_of(value)? else {
        return Ok(Value::from(()));
    };
    // Check the pattern first: chrono reports a bad pattern only as a bare
    // formatting failure, which would make for a poor message.
    if StrftimeItems::new(format).parse().is_err() {
        return Err(invalid(format!("{format:?} is not a valid date format")));
    }
    let mut out = String::new();
    let written = match &moment {
        Moment::Date(date) => write!(out, "{}", date.and_time(NaiveTime::MIN).format(format)),
        Moment::Naive(datetime) => write!(out, "{}", datetime.format(format)),
        Moment::Zoned(datetime) => write!(out, "{}", datetime.format(format)),
    };
    // With a valid pattern the only failure left is asking for an offset
    // (`%z`, `%:z`) of a value that has none.
    written.map_err(|_| invalid(format!("cannot format {} with {format:?}: the value has no time zone offset", show(value))))?;
    Ok(Value::from(out))
}

/// `days_between(a, b)`: calendar days from `a` to `b` (negative if `b` is
/// earlier). Times of day are ignored.
fn days_between(from: &Value, to: &Value) -> Result<i64, Error> {
    let from = required_moment(from)?.date();
    let to = required_moment(to)?.date();
    Ok(to.signed_duration_since(from).num_days())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{error, json};
    use minijinja::context;
    use serde_json::json;

    #[test]
    fn add_days_handles_month_ends_and_leap_years() {
        let cases = [
            ("2024-01-31", 1, "2024-02-01"),
            ("2024-02-28", 1, "2024-02-29"),
            ("2023-02-28", 1, "2023-03-01"),
            ("2024-02-29", 365, "2025-02-28"),
            ("2024-03-01", -1, "2024-02-29"),
            ("2100-02-28", 1, "2100-03-01"),
            ("2000-02-28", 1, "2000-02-29"),
            ("2024-12-31", 1, "2025-01-01"),
            ("2024-01-31", 0, "2024-01-31"),
        ];
        for (date, days, expected) in cases {
            assert_eq!(json("d | add_days(n)", context! { d => date, n => days }), json!(expected), "{date} + {days}");
        }
    }

    #[test]
    fn add_days_keeps_the_shape_of_a_datetime() {
        assert_eq!(json("'2024-02-28T23:15:00' | add_days(1)", context! {}), json!("2024-02-29T23:15:00"));
        assert_eq!(json("'2024-03-01T08:00:00.250+01:00' | add_days(-1)", context! {}), json!("2024-02-29T08:00:00.250+01:00"));
        assert_eq!(json("'2024-03-01T08:00Z' | add_days(30)", context! {}), json!("2024-03-31T08:00Z"));
        assert_eq!(json("d | add_days(1)", context! { d => () }), json!(null));
    }

    #[test]
    fn add_days_rejects_bad_dates() {
        assert_eq!(
            error("'2023-02-29' | add_days(1)", context! {}),
            "invalid operation: \"2023-02-29\" is not an ISO date \
             (expected e.g. 2024-03-05 or 2024-03-05T10:20:00) (in <expression>:1)"
        );
        for bad in ["2024-3-5", "2024-03-05T25:00:00", "2024-03-05T10:20:00+1", "2024-03-05x", "", "20240305"] {
            let err = error("d | add_days(1)", context! { d => bad });
            assert!(err.contains("is not an ISO date"), "{bad}: {err}");
        }
    }

    /// Issue 9: chrono would give `+10000-01-01`; dates stay within years
    /// 1 to 9999, and moving out of them blocks the record with a reason.
    #[test]
    fn add_days_stays_within_years_1_to_9999() {
        assert_eq!(json("'9999-12-30' | add_days(1)", context! {}), json!("9999-12-31"));
        assert_eq!(json("'0001-01-02' | add_days(-1)", context! {}), json!("0001-01-01"));
        assert_eq!(
            error("'9999-12-31' | add_days(1)", context! {}),
            "invalid operation: \"9999-12-31\" plus 1 days is out of range \
             (dates run from year 1 to 9999) (in <expression>:1)"
        );
        assert_eq!(
            error("'0001-01-01T10:00:00+01:00' | add_days(-1)", context! {}),
            "invalid operation: \"0001-01-01T10:00:00+01:00\" plus -1 days is out of range \
             (dates run from year 1 to 9999) (in <expression>:1)"
        );
        for days in [i64::MAX, i64::MIN, 3_000_000, -3_000_000] {
            let err = error("'2024-03-05' | add_days(n)", context! { n => days });
            assert!(err.contains("is out of range (dates run from year 1 to 9999)"), "{days}: {err}");
        }
        // Year 0 is before year 1 too.
        assert!(error("'0000-12-31' | add_days(1)", context! {}).contains("is not an ISO date"));
    }

    #[test]
    fn dates_read_from_odata_stay_within_years_1_to_9999() {
        // 253402300800000 ms is 10000-01-01T00:00:00Z; -62135596800001 ms is
        // one millisecond before 0001-01-01.
        for expr in ["to_date", "date_format('%Y')"] {
            assert_eq!(
                error(&format!("'/Date(253402300800000)/' | {expr}"), context! {}),
                "invalid operation: \"/Date(253402300800000)/\" is out of range \
                 (dates run from year 1 to 9999) (in <expression>:1)"
            );
        }
        assert!(error("days_between('/Date(-62135596800001)/', '2024-01-01')", context! {}).contains("is out of range"));
        assert_eq!(json("'/Date(253402300799999)/' | to_date", context! {}), json!("9999-12-31"));
        assert_eq!(json("'/Date(-62135596800000)/' | to_date", context! {}), json!("0001-01-01"));
    }

    #[test]
    fn to_date_reads_all_forms() {
        assert_eq!(json("'2024-03-05T23:30:00-02:00' | to_date", context! {}), json!("2024-03-05"));
        assert_eq!(json("'2024-03-05 10:20:00' | to_date", context! {}), json!("2024-03-05"));
        assert_eq!(json("'2024-03-05' | to_date", context! {}), json!("2024-03-05"));
        assert_eq!(json("'/Date(1709596800000)/' | to_date", context! {}), json!("2024-03-05"));
        assert_eq!(json("'/Date(1552262400000+0000)/' | to_date", context! {}), json!("2019-03-11"));
        assert_eq!(json("d | to_date", context! { d => () }), json!(null));
        // EDI's CCYYMMDD (ISO 8601 basic); eight digits that are no date are refused.
        assert_eq!(json("'20250310' | to_date", context! {}), json!("2025-03-10"));
        assert_eq!(error("'20251310' | to_date", context! {}), "invalid operation: \"20251310\" is not a date (YYYYMMDD) (in <expression>:1)");
        assert_eq!(
            error("'tomorrow' | to_date", context! {}),
            "invalid operation: \"tomorrow\" is not a date (expected e.g. 2024-03-05, \
             2024-03-05T10:20:00 or /Date(1709596800000)/) (in <expression>:1)"
        );
        assert_eq!(
            error("20240305 | to_date", context! {}),
            "invalid operation: 20240305 is not a date (expected e.g. 2024-03-05, \
             2024-03-05T10:20:00 or /Date(1709596800000)/) (in <expression>:1)"
        );
    }

    #[test]
    fn date_format_uses_strftime() {
        assert_eq!(json("'2024-03-05' | date_format('%d-%m-%Y')", context! {}), json!("05-03-2024"));
        assert_eq!(json("'2024-03-05' | date_format('%Y%m%d %H:%M')", context! {}), json!("20240305 00:00"));
        assert_eq!(json("'2024-03-05T10:20:30+01:00' | date_format('%H:%M %z')", context! {}), json!("10:20 +0100"));
        assert_eq!(json("'/Date(1709596800000)/' | date_format('%d/%m/%Y %:z')", context! {}), json!("05/03/2024 +00:00"));
        assert_eq!(
            error("'2024-03-05' | date_format('%Q')", context! {}),
            "invalid operation: \"%Q\" is not a valid date format (in <expression>:1)"
        );
        assert_eq!(
            error("'2024-03-05T10:20:00' | date_format('%z')", context! {}),
            "invalid operation: cannot format \"2024-03-05T10:20:00\" with \"%z\": \
             the value has no time zone offset (in <expression>:1)"
        );
    }

    #[test]
    fn days_between_counts_calendar_days() {
        assert_eq!(json("days_between('2024-02-01', '2024-03-01')", context! {}), json!(29));
        assert_eq!(json("days_between('2023-02-01', '2023-03-01')", context! {}), json!(28));
        assert_eq!(json("days_between('2024-03-01', '2024-02-01')", context! {}), json!(-29));
        assert_eq!(json("days_between('2024-01-01', '2025-01-01')", context! {}), json!(366));
        assert_eq!(json("days_between('2024-03-05T23:59:00', '/Date(1709683200000)/')", context! {}), json!(1));
        assert_eq!(
            error("days_between('2024-02-30', '2024-03-01')", context! {}),
            "invalid operation: \"2024-02-30\" is not a date (expected e.g. 2024-03-05, \
             2024-03-05T10:20:00 or /Date(1709596800000)/) (in <expression>:1)"
        );
        assert_eq!(
            error("days_between(none, '2024-03-01')", context! {}),
            "invalid operation: none is not a date (expected e.g. 2024-03-05, \
             2024-03-05T10:20:00 or /Date(1709596800000)/) (in <expression>:1)"
        );
    }
}
