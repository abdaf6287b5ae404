//! A small X12 reader and writer, the partner's own (the sandbox does not use the engine's
//! codec: an emulator that shared it would agree with the engine's mistakes). It reads what a
//! partner must read: the separators from the ISA by position, the envelope, groups and sets;
//! it writes interchanges with `*`, `>` and `~` and a line break after each segment.

/// One segment: its id and its elements (`elements[0]` is element 01).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub id: String,
    pub elements: Vec<String>,
}

impl Segment {
    /// Element `n` (1-based, as X12 numbers them); empty when absent.
    pub fn get(&self, n: usize) -> &str {
        n.checked_sub(1).and_then(|i| self.elements.get(i)).map(String::as_str).unwrap_or("")
    }
}

#[derive(Clone, Debug)]
pub struct Interchange {
    /// ISA05/ISA06, ISA07/ISA08, trimmed.
    pub sender_qualifier: String,
    pub sender_id: String,
    pub receiver_qualifier: String,
    pub receiver_id: String,
    /// ISA13.
    pub control: String,
    /// ISA15: `T` or `P`.
    pub usage: String,
    pub groups: Vec<Group>,
}

#[derive(Clone, Debug)]
pub struct Group {
    /// GS01 (`PO`, `PR`, `IN`, `FA`).
    pub functional_id: String,
    /// GS02, GS03.
    pub sender: String,
    pub receiver: String,
    /// GS06.
    pub control: String,
    pub sets: Vec<Set>,
}

#[derive(Clone, Debug)]
pub struct Set {
    /// ST01 and ST02.
    pub id: String,
    pub control: String,
    /// The segments between ST and SE.
    pub body: Vec<Segment>,
    /// What is wrong with the set's envelope (an AK5 R with this AK502 code), if anything.
    pub envelope_error: Option<&'static str>,
}

/// Reads one interchange. The separators are the bytes at positions 3 (element), 104
/// (component) and 105 (segment) of the ISA; white space around segments (line breaks) is
/// not part of them.
pub fn read(bytes: &[u8]) -> Result<Interchange, String> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if !text.starts_with("ISA") {
        return Err("the file does not start with an ISA segment".into());
    }
    let chars: Vec<char> = text.chars().take(106).collect();
    if chars.len() < 106 {
        return Err("the ISA segment is shorter than its fixed 106 characters".into());
    }
    let (element, terminator) = (chars[3], chars[105]);
    let segments: Vec<Segment> = text
        .split(terminator)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut parts = s.split(element).map(str::to_string);
            Segment { id: parts.next().unwrap_or_default(), elements: parts.collect() }
        })
        .collect();
    let isa = &segments[0];
    let mut interchange = Interchange {
        sender_qualifier: isa.get(5).trim().into(),
        sender_id: isa.get(6).trim().into(),
        receiver_qualifier: isa.get(7).trim().into(),
        receiver_id: isa.get(8).trim().into(),
        control: isa.get(13).trim().into(),
        usage: isa.get(15).trim().into(),
        groups: Vec::new(),
    };
    let mut set: Option<(Set, usize)> = None;
    for segment in &segments[1..] {
        match segment.id.as_str() {
            "GS" => interchange.groups.push(Group {
                functional_id: segment.get(1).into(),
                sender: segment.get(2).into(),
                receiver: segment.get(3).into(),
                control: segment.get(6).into(),
                sets: Vec::new(),
            }),
            "ST" => {
                let opened = Set { id: segment.get(1).into(), control: segment.get(2).into(), body: Vec::new(), envelope_error: None };
                set = Some((opened, 1));
            }
            "SE" => {
                let (mut closed, count) = set.take().ok_or("an SE without its ST")?;
                if segment.get(2) != closed.control {
                    // AK502 3: control number in header and trailer do not match.
                    closed.envelope_error = Some("3");
                } else if segment.get(1).parse::<usize>().ok() != Some(count + 1) {
                    // AK502 4: number of included segments does not match actual count.
                    closed.envelope_error = Some("4");
                }
                interchange.groups.last_mut().ok_or("a transaction set outside a GS group")?.sets.push(closed);
            }
            "GE" | "IEA" => {}
            _ => match set.as_mut() {
                Some((open, count)) => {
                    open.body.push(segment.clone());
                    *count += 1;
                }
                None => return Err(format!("segment {} outside a transaction set", segment.id)),
            },
        }
    }
    if set.is_some() {
        return Err("a transaction set without its SE".into());
    }
    Ok(interchange)
}

/// The envelope of an interchange we write.
pub struct Envelope {
    pub sender_qualifier: String,
    pub sender_id: String,
    pub receiver_qualifier: String,
    pub receiver_id: String,
    pub usage: String,
    pub control: u32,
    /// `YYMMDD`, `CCYYMMDD` and `HHMM` of the sandbox clock.
    pub date6: String,
    pub date8: String,
    pub time: String,
}

pub struct OutGroup {
    pub functional_id: &'static str,
    pub sender: String,
    pub receiver: String,
    pub control: u32,
    pub sets: Vec<OutSet>,
}

pub struct OutSet {
    pub id: &'static str,
    /// The segments between ST and SE, each as its id and elements.
    pub body: Vec<Vec<String>>,
}

/// A whole interchange: ISA (fixed widths), GS, the sets with ST02 counting from 0001 in each
/// group and SE01 counted, GE and IEA with their counts.
pub fn write(envelope: &Envelope, groups: &[OutGroup]) -> String {
    let mut out = String::new();
    let mut segment = |elements: &[&str]| {
        out.push_str(&elements.join("*"));
        out.push_str("~\n");
    };
    let control = format!("{:09}", envelope.control);
    segment(&[
        "ISA",
        "00",
        "          ",
        "00",
        "          ",
        &format!("{:<2}", envelope.sender_qualifier),
        &format!("{:<15}", envelope.sender_id),
        &format!("{:<2}", envelope.receiver_qualifier),
        &format!("{:<15}", envelope.receiver_id),
        &envelope.date6,
        &envelope.time,
        "U",
        "00401",
        &control,
        "0",
        &envelope.usage,
        ">",
    ]);
    for group in groups {
        let group_control = group.control.to_string();
        segment(&["GS", group.functional_id, &group.sender, &group.receiver, &envelope.date8, &envelope.time, &group_control, "X", "004010"]);
        for (index, set) in group.sets.iter().enumerate() {
            let set_control = format!("{:04}", index + 1);
            segment(&["ST", set.id, &set_control]);
            for body in &set.body {
                segment(&body.iter().map(String::as_str).collect::<Vec<_>>());
            }
            segment(&["SE", &(set.body.len() + 2).to_string(), &set_control]);
        }
        segment(&["GE", &group.sets.len().to_string(), &group_control]);
    }
    segment(&["IEA", &groups.len().to_string(), &control]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_come_from_the_isa_and_counts_are_checked() {
        let text = "ISA|00|          |00|          |ZZ|ACMEMFG        |ZZ|TRUECOMMERCE   |261201|1015|U|00401|000000007|0|T|:\r\n\
                    GS|PO|ACMEMFG|TRUECOMMERCE|20261201|1015|12|X|004010\r\nST|850|0001\r\nBEG|00|SA|PO-1||20261130\r\n\
                    PO1|1|2|EA|3.5||BP|A\r\nSE|4|0001\r\nST|850|0002\r\nBEG|00|SA|PO-2||20261130\r\nSE|9|0002\r\nGE|2|12\r\nIEA|1|000000007\r\n";
        let text = text.replace("\r\n", "\n").replace('\n', "~\n");
        let interchange = read(text.as_bytes()).unwrap();
        assert_eq!((interchange.sender_id.as_str(), interchange.control.as_str(), interchange.usage.as_str()), ("ACMEMFG", "000000007", "T"));
        let group = &interchange.groups[0];
        assert_eq!((group.functional_id.as_str(), group.control.as_str(), group.sets.len()), ("PO", "12", 2));
        assert_eq!(group.sets[0].body[1].get(4), "3.5");
        assert_eq!((group.sets[0].envelope_error, group.sets[1].envelope_error), (None, Some("4")));
    }

    #[test]
    fn what_is_written_reads_back() {
        let envelope = Envelope {
            sender_qualifier: "ZZ".into(),
            sender_id: "TRUECOMMERCE".into(),
            receiver_qualifier: "ZZ".into(),
            receiver_id: "ACMEMFG".into(),
            usage: "T".into(),
            control: 3,
            date6: "261201".into(),
            date8: "20261201".into(),
            time: "1015".into(),
        };
        let set = OutSet { id: "997", body: vec![vec!["AK1".into(), "PO".into(), "12".into()], vec!["AK9".into(), "A".into()]] };
        let text = write(&envelope, &[OutGroup { functional_id: "FA", sender: "TC".into(), receiver: "ACME".into(), control: 9, sets: vec![set] }]);
        assert_eq!(text.lines().next().map(str::len), Some(106));
        assert!(text.ends_with("SE*4*0001~\nGE*1*9~\nIEA*1*000000003~\n"), "{text}");
        let read_back = read(text.as_bytes()).unwrap();
        assert_eq!(read_back.groups[0].sets[0].envelope_error, None);
    }
}
