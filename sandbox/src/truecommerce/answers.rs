//! The partner's answers, as transaction-set bodies: a 997 for a functional group, and for an
//! 850 its 855 (acknowledgment per line) and 810 (invoice of what ships). Their segments follow
//! mappings/x12/{997,855,810}.yaml and segments.004010.yaml, the definitions the engine reads
//! them with.

use super::rules::Rules;
use super::x12::{Group, OutSet, Segment, Set};

/// What the partner does with one PO1 line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineStatus {
    Accepted,
    Rejected,
    Backordered,
    Changed,
}

impl LineStatus {
    fn code(self) -> &'static str {
        match self {
            LineStatus::Accepted => "IA",
            LineStatus::Rejected => "IR",
            LineStatus::Backordered => "IB",
            LineStatus::Changed => "IC",
        }
    }

    /// Shipped, so invoiced.
    fn invoiced(self) -> bool {
        matches!(self, LineStatus::Accepted | LineStatus::Changed)
    }
}

/// A purchase order as the partner reads it from an 850.
pub struct PurchaseOrder<'a> {
    /// BEG03 and BEG05.
    pub number: String,
    pub date: String,
    lines: Vec<&'a Segment>,
}

impl<'a> PurchaseOrder<'a> {
    /// `None` for a set that is not an 850 or has no BEG.
    pub fn read(set: &'a Set) -> Option<PurchaseOrder<'a>> {
        if set.id != "850" {
            return None;
        }
        let beg = set.body.iter().find(|s| s.id == "BEG")?;
        let lines = set.body.iter().filter(|s| s.id == "PO1").collect();
        Some(PurchaseOrder { number: beg.get(3).to_string(), date: beg.get(5).to_string(), lines })
    }

    /// Each line with what the rules make of it, and the quantity acknowledged.
    fn decided(&self, rules: &Rules) -> Vec<(&'a Segment, LineStatus, String)> {
        self.lines
            .iter()
            .enumerate()
            .map(|(index, line)| {
                let number = if line.get(1).is_empty() { (index + 1).to_string() } else { line.get(1).to_string() };
                let is = |rule: &Option<String>| rule.as_deref() == Some(number.as_str());
                let ordered = line.get(2).to_string();
                match &rules.change_quantity {
                    _ if is(&rules.reject_line) => (*line, LineStatus::Rejected, ordered),
                    _ if is(&rules.backorder_line) => (*line, LineStatus::Backordered, ordered),
                    Some(change) if change.line == number => (*line, LineStatus::Changed, number_text(change.quantity)),
                    _ => (*line, LineStatus::Accepted, ordered),
                }
            })
            .collect()
    }

    /// The 855: BAK (AD when every line is accepted as ordered, RJ when every line is rejected,
    /// AC otherwise), each PO1 as received with its ACK, CTT.
    pub fn acknowledgment(&self, rules: &Rules) -> OutSet {
        let lines = self.decided(rules);
        let kind = if lines.iter().all(|(_, s, _)| *s == LineStatus::Accepted) {
            "AD"
        } else if lines.iter().all(|(_, s, _)| *s == LineStatus::Rejected) {
            "RJ"
        } else {
            "AC"
        };
        let mut body = vec![texts(&["BAK", "00", kind, &self.number, &self.date])];
        for (line, status, quantity) in &lines {
            body.push(whole(line, line.elements.len()));
            body.push(texts(&["ACK", status.code(), quantity, line.get(3)]));
        }
        body.push(texts(&["CTT", &lines.len().to_string()]));
        OutSet { id: "855", body }
    }

    /// The 810 of the lines shipped (accepted, or accepted at a changed quantity), or `None`
    /// when nothing ships: IT1 mirrors PO1 (IT1 has 13 elements), TDS01 is Σ quantity × price in
    /// cents (plus `wrong_total`).
    pub fn invoice(&self, rules: &Rules, invoice_number: &str, today: &str) -> Option<OutSet> {
        let shipped: Vec<_> = self.decided(rules).into_iter().filter(|(_, s, _)| s.invoiced()).collect();
        if shipped.is_empty() {
            return None;
        }
        let mut body = vec![texts(&["BIG", today, invoice_number, &self.date, &self.number])];
        let mut total = 0.0;
        for (line, _, quantity) in &shipped {
            let mut it1 = whole(line, line.elements.len().min(13));
            it1.resize(it1.len().max(3), String::new());
            it1[0] = "IT1".into();
            it1[2] = quantity.clone();
            body.push(it1);
            total += quantity.parse::<f64>().unwrap_or(0.0) * line.get(4).parse::<f64>().unwrap_or(0.0);
        }
        let cents = ((total + rules.wrong_total.unwrap_or(0.0)) * 100.0).round() as i64;
        body.push(texts(&["TDS", &cents.to_string()]));
        body.push(texts(&["CTT", &shipped.len().to_string()]));
        Some(OutSet { id: "810", body })
    }
}

/// The 997 of one functional group: AK1, per set AK2 and AK5 (A, or R with the envelope error
/// code; every set R when the group is rejected), AK9 with A/P/R and the counts.
pub fn functional_acknowledgment(group: &Group, reject_group: bool) -> OutSet {
    let mut body = vec![texts(&["AK1", &group.functional_id, &group.control])];
    let mut accepted = 0;
    for set in &group.sets {
        body.push(texts(&["AK2", &set.id, &set.control]));
        match (reject_group, set.envelope_error) {
            (_, Some(code)) => body.push(texts(&["AK5", "R", code])),
            (true, None) => body.push(texts(&["AK5", "R"])),
            (false, None) => {
                accepted += 1;
                body.push(texts(&["AK5", "A"]));
            }
        }
    }
    let count = group.sets.len();
    let code = match accepted {
        0 => "R",
        n if n == count => "A",
        _ => "P",
    };
    body.push(texts(&["AK9", code, &count.to_string(), &count.to_string(), &accepted.to_string()]));
    OutSet { id: "997", body }
}

/// A segment as its id and elements, without trailing empty elements.
fn whole(segment: &Segment, elements: usize) -> Vec<String> {
    let mut all: Vec<String> = std::iter::once(segment.id.clone()).chain(segment.elements.iter().take(elements).cloned()).collect();
    while all.len() > 1 && all.last().is_some_and(String::is_empty) {
        all.pop();
    }
    all
}

fn texts(elements: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = elements.iter().map(|e| e.to_string()).collect();
    while all.len() > 1 && all.last().is_some_and(String::is_empty) {
        all.pop();
    }
    all
}

/// `4` rather than `4.0`, as X12's R type writes it.
fn number_text(value: f64) -> String {
    if value.fract() == 0.0 { format!("{}", value as i64) } else { value.to_string() }
}
