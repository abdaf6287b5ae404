//! Flat files: exact values, exact messages, write → read, and no panic on any bytes.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};

use super::*;

/// JSON from its text, numbers digit for digit (`12.50` stays `12.50`; `json!` would make it 12.5).
fn j(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn format(yaml_json: Value) -> CsvFormat {
    serde_json::from_value(yaml_json).unwrap()
}

/// The agreed order file: PO, date (day/month/year), amount with 2 places, quantity, note.
fn orders() -> Csv {
    format(json!({
        "columns": [
            "PO",
            {"name": "Date", "type": "date", "format": "%d/%m/%Y"},
            {"name": "Amount", "type": "decimal", "places": 2},
            {"name": "Qty", "type": "number"},
            "Note"
        ]
    }))
    .compile()
    .unwrap()
}

fn read_all(csv: &Csv, text: &[u8]) -> Vec<Result<Value, String>> {
    csv.read("orders.csv", text).map(|item| item.map_err(|error| error.to_string())).collect()
}

#[test]
fn records_are_read_with_exact_values_and_rfc_4180_quoting() {
    let text = "\u{feff}PO,Date,Amount,Qty,Note\r\n\
                PO1,02/12/2026,12.5,007,plain\r\n\
                \"PO,2\",31/01/2026,-3,1.50,\"say \"\"hi\"\"\"\n\
                PO3,,,,\"two\r\nlines\"\n\
                \n\
                PO4,01/01/2026,0.00,-0,\n";
    assert_eq!(
        read_all(&orders(), text.as_bytes()),
        vec![
            Ok(j(r#"{"PO": "PO1", "Date": "2026-12-02", "Amount": 12.50, "Qty": 7, "Note": "plain"}"#)),
            Ok(j(r#"{"PO": "PO,2", "Date": "2026-01-31", "Amount": -3.00, "Qty": 1.50, "Note": "say \"hi\""}"#)),
            Ok(json!({"PO": "PO3", "Date": null, "Amount": null, "Qty": null, "Note": "two\r\nlines"})),
            Ok(j(r#"{"PO": "PO4", "Date": "2026-01-01", "Amount": 0.00, "Qty": 0, "Note": ""}"#)),
        ]
    );
    // Numbers keep their digits: 12.5 in a 2-place column is 12.50.
    let first = orders().read("orders.csv", text.as_bytes()).next().unwrap().unwrap();
    assert_eq!(first["Amount"].to_string(), "12.50");
    assert_eq!(first.as_object().unwrap().keys().collect::<Vec<_>>(), ["PO", "Date", "Amount", "Qty", "Note"]);
}

#[test]
fn each_bad_line_is_one_error_naming_file_line_and_column_and_the_rest_carries_on() {
    let text = b"PO,Date,Amount,Qty,Note\n\
                 PO1,02/12/2026,12.345,1,x\n\
                 PO2,2026-12-02,1,1,x\n\
                 PO3,02/12/2026,1,1e3,x\n\
                 PO4,02/12/2026,1,1\n\
                 PO5,02/12/2026,abc,1,\xff\n\
                 PO6,02/12/2026,1,2,caf\xc3\xa9 \xff\n\
                 PO7,02/12/2026,1,1,fine\n";
    assert_eq!(
        read_all(&orders(), text),
        vec![
            Err("orders.csv:2: column Amount: \"12.345\" has 3 decimal places; at most 2 are allowed".to_string()),
            Err("orders.csv:3: column Date: \"2026-12-02\" is not a date in the form %d/%m/%Y".to_string()),
            Err("orders.csv:4: column Qty: \"1e3\" is not a number".to_string()),
            Err("orders.csv:5: 4 cells, but 5 columns are declared (PO, Date, Amount, Qty, Note)".to_string()),
            Err("orders.csv:6: column Amount: \"abc\" is not a decimal number".to_string()),
            Err("orders.csv:7: column Note: not UTF-8 text (byte 7 of the cell)".to_string()),
            Ok(j(r#"{"PO": "PO7", "Date": "2026-12-02", "Amount": 1.00, "Qty": 1, "Note": "fine"}"#)),
        ]
    );
}

#[test]
fn a_header_that_differs_from_the_columns_is_refused_once() {
    let swapped = b"PO,Amount,Date,Qty,Note\nPO1,1,02/12/2026,1,x\n";
    assert_eq!(
        read_all(&orders(), swapped),
        vec![Err("orders.csv:1: the header row does not match the declared columns: cell 2 is \"Amount\" where \"Date\" is declared".to_string())]
    );
    let short = b"PO,Date\n";
    assert_eq!(
        read_all(&orders(), short),
        vec![Err("orders.csv:1: the header row has 2 cells, but 5 columns are declared (PO, Date, Amount, Qty, Note)".to_string())]
    );
    // Without a header the first line is a record.
    let plain = format(json!({"columns": ["a", "b"], "header": false, "delimiter": ";"})).compile().unwrap();
    assert_eq!(read_all(&plain, b"x;y\r\n1;2"), vec![Ok(json!({"a": "x", "b": "y"})), Ok(json!({"a": "1", "b": "2"}))]);
    assert_eq!(read_all(&orders(), b""), vec![]);
}

#[test]
fn records_are_written_with_quoting_when_needed_and_read_back_the_same() {
    let records = vec![
        json!({"PO": "PO,1", "Date": "2026-12-02", "Amount": 12.5, "Qty": 3, "Note": "say \"hi\"\non two lines", "extra": true}),
        json!({"PO": "PO2", "Date": "2026-01-31T10:00:00Z", "Amount": "7", "Qty": "1.5", "Note": null}),
        json!({"PO": "PO3", "Date": null, "Amount": 1.5e1, "Qty": -0.0, "Note": "ünïcode"}),
    ];
    let bytes = orders().to_bytes(&records).unwrap();
    assert_eq!(
        String::from_utf8(bytes.clone()).unwrap(),
        "PO,Date,Amount,Qty,Note\r\n\
         \"PO,1\",02/12/2026,12.50,3,\"say \"\"hi\"\"\non two lines\"\r\n\
         PO2,31/01/2026,7.00,1.5,\r\n\
         PO3,,15.00,0.0,ünïcode\r\n"
    );
    let back: Vec<Value> = orders().read("orders.csv", bytes.as_slice()).map(Result::unwrap).collect();
    assert_eq!(
        back,
        vec![
            j(r#"{"PO": "PO,1", "Date": "2026-12-02", "Amount": 12.50, "Qty": 3, "Note": "say \"hi\"\non two lines"}"#),
            j(r#"{"PO": "PO2", "Date": "2026-01-31", "Amount": 7.00, "Qty": 1.5, "Note": ""}"#),
            j(r#"{"PO": "PO3", "Date": null, "Amount": 15.00, "Qty": 0.0, "Note": "ünïcode"}"#),
        ]
    );

    let lf = format(json!({"columns": ["a", "b"], "header": false, "delimiter": "|", "quote": "'", "line_ending": "lf"})).compile().unwrap();
    assert_eq!(lf.to_bytes(&[json!({"a": "it's", "b": "x|y"}), json!({"a": 1, "b": false})]).unwrap(), b"'it''s'|'x|y'\n1|false\n");
}

#[test]
fn a_record_that_cannot_be_written_is_an_error_and_nothing_of_it_is_written() {
    let csv = orders();
    let mut writer = csv.writer(Vec::new()).unwrap();
    let mut error = |record: Value| writer.write(&record).unwrap_err().to_string();
    let good = json!({"PO": "PO1", "Date": null, "Amount": 1, "Qty": 1, "Note": ""});
    assert_eq!(
        error(json!({"PO": "PO1", "Amount": 1, "Qty": 1, "Note": ""})),
        "record 1: column Date: missing (a column is never left out; null writes an empty cell)"
    );
    assert_eq!(
        error(json!({"Date": null, "PO": "PO1", "Amount": 1.234, "Qty": 1, "Note": ""})),
        "record 2: column Amount: 1.234 has more than 2 decimal places (it is not rounded)"
    );
    assert_eq!(
        error(json!({"PO": "PO1", "Date": "02/12/2026", "Amount": 1, "Qty": 1, "Note": ""})),
        "record 3: column Date: \"02/12/2026\" is not a date (YYYY-MM-DD)"
    );
    assert_eq!(error(json!({"PO": ["a"], "Date": null, "Amount": 1, "Qty": 1, "Note": ""})), "record 4: column PO: is a list, not a single value");
    assert_eq!(error(json!({"PO": "PO1", "Date": null, "Amount": 1, "Qty": "many", "Note": ""})), "record 5: column Qty: \"many\" is not a number");
    assert_eq!(error(json!("PO1")), "record 6: is not an object: \"PO1\"");
    writer.write(&good).unwrap();
    assert_eq!(String::from_utf8(writer.finish().unwrap()).unwrap(), "PO,Date,Amount,Qty,Note\r\nPO1,,1.00,1,\r\n");
}

#[test]
fn configuration_problems_are_all_reported_at_their_keys() {
    let problems = format(json!({
        "columns": [
            "PO",
            {"name": "Amount", "type": "decimal"},
            {"name": "When", "type": "date", "format": "%Q"},
            {"name": "PO"},
            {"name": "Qty", "type": "number", "places": 2},
            {"name": "Big", "type": "decimal", "places": 30}
        ],
        "delimiter": "\n",
        "quote": "é"
    }))
    .compile()
    .unwrap_err();
    let shown: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.at, p.message)).collect();
    assert_eq!(
        shown,
        vec![
            "delimiter: '\\n' cannot be the delimiter: it must be one ASCII character other than a line break",
            "quote: 'é' cannot be the quote: it must be one ASCII character other than a line break",
            "columns[1]: a decimal column needs `places` (digits after the point)",
            "columns[2].format: \"%Q\" is not a valid date format (strftime notation, e.g. %Y%m%d)",
            "columns[3]: column \"PO\" is declared twice",
            "columns[4].places: `places` is for decimal columns only",
            "columns[5].places: 30 places is more than the 18 a decimal column can have",
        ]
    );
    let same = format(json!({"columns": ["a"], "quote": ","})).compile().unwrap_err();
    assert_eq!(same, vec![ConfigProblem { at: "quote".into(), message: "the quote character ',' is also the delimiter".into() }]);
    assert!(serde_json::from_value::<CsvFormat>(json!({"columns": ["a"], "seperator": ";"})).is_err(), "unknown keys are refused");
}

/// A small xorshift generator: the mutation test is the same on every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn no_bytes_make_the_reader_panic() {
    let seed = b"PO,Date,Amount,Qty,Note\r\n\"PO,1\",02/12/2026,12.50,3,\"say \"\"hi\"\"\non two lines\"\r\nPO2,31/01/2026,7.00,1.5,\r\n";
    let specials = [b'"', b',', b'\r', b'\n', 0xef, 0xbb, 0xbf, 0xff, 0, b'.', b'-', b'/'];
    let csv = orders();
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let mut bytes = seed.to_vec();
        for _ in 0..=random.below(6) {
            let at = random.below(bytes.len() + 1);
            match random.below(4) {
                0 if at < bytes.len() => bytes[at] = specials[random.below(specials.len())],
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                2 => bytes.insert(at, specials[random.below(specials.len())]),
                _ => bytes.truncate(at),
            }
        }
        for item in csv.read("fuzz.csv", bytes.as_slice()) {
            if let Err(error) = item {
                assert!(error.to_string().starts_with("fuzz.csv:"), "{error}");
            }
        }
    }
}
