//! Xero's `where` parameter, the subset integrations send: `Field=="text"` and `Contact.ContactNumber=="10023"`
//! comparisons (`==`, `!=`, `<`, `<=`, `>`, `>=`) of text (with `\"` and `\\` escapes), numbers,
//! `true`/`false`/`null`, `DateTime(2025,03,04)` and `Guid("…")`; `Field.Contains("x")`,
//! `.StartsWith`, `.EndsWith`; joined by `AND`/`&&` and `OR`/`||` (AND binds first) with
//! parentheses. Anything else is refused with Xero's QueryParseException, never ignored.

use serde_json::{Map, Value};

use super::envelope::parse_date;

#[derive(Debug, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare { path: Vec<String>, op: Op, value: Literal },
    Method { path: Vec<String>, method: Method, text: String },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, PartialEq)]
pub enum Literal {
    Text(String),
    Number(f64),
    Bool(bool),
    Null,
    Date(i64),
}

#[derive(Debug, PartialEq)]
enum Token {
    Ident(String),
    Text(String),
    Number(f64),
    Op(Op),
    And,
    Or,
    Dot,
    Comma,
    Open,
    Close,
}

pub fn parse(text: &str) -> Result<Expr, String> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.or()?;
    match parser.tokens.get(parser.at) {
        None => Ok(expr),
        Some(token) => Err(format!("Unexpected {} at the end of the where clause", describe(token))),
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            ' ' | '\t' | '\r' | '\n' => i += 1,
            '"' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("Unterminated string literal".into()),
                        Some('\\') => match chars.get(i + 1) {
                            Some(escaped @ ('"' | '\\')) => {
                                value.push(*escaped);
                                i += 2;
                            }
                            _ => return Err(format!("Invalid escape sequence at position {}", i + 1)),
                        },
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some(other) => {
                            value.push(*other);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Text(value));
            }
            '=' if next == Some('=') => push2(&mut tokens, &mut i, Token::Op(Op::Eq)),
            '!' if next == Some('=') => push2(&mut tokens, &mut i, Token::Op(Op::Ne)),
            '<' if next == Some('=') => push2(&mut tokens, &mut i, Token::Op(Op::Le)),
            '>' if next == Some('=') => push2(&mut tokens, &mut i, Token::Op(Op::Ge)),
            '&' if next == Some('&') => push2(&mut tokens, &mut i, Token::And),
            '|' if next == Some('|') => push2(&mut tokens, &mut i, Token::Or),
            '<' => push1(&mut tokens, &mut i, Token::Op(Op::Lt)),
            '>' => push1(&mut tokens, &mut i, Token::Op(Op::Gt)),
            '.' => push1(&mut tokens, &mut i, Token::Dot),
            ',' => push1(&mut tokens, &mut i, Token::Comma),
            '(' => push1(&mut tokens, &mut i, Token::Open),
            ')' => push1(&mut tokens, &mut i, Token::Close),
            c if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let literal: String = chars[start..i].iter().collect();
                tokens.push(Token::Number(literal.parse().map_err(|_| format!("`{literal}` is not a number"))?));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                tokens.push(match word.to_ascii_uppercase().as_str() {
                    "AND" => Token::And,
                    "OR" => Token::Or,
                    _ => Token::Ident(word),
                });
            }
            other => return Err(format!("Syntax error: unexpected character '{other}' at position {i}")),
        }
    }
    Ok(tokens)
}

fn push1(tokens: &mut Vec<Token>, i: &mut usize, token: Token) {
    tokens.push(token);
    *i += 1;
}

fn push2(tokens: &mut Vec<Token>, i: &mut usize, token: Token) {
    tokens.push(token);
    *i += 2;
}

fn describe(token: &Token) -> String {
    match token {
        Token::Ident(word) => format!("'{word}'"),
        Token::Text(text) => format!("\"{text}\""),
        Token::Number(n) => format!("{n}"),
        Token::Op(_) => "operator".into(),
        Token::And => "'AND'".into(),
        Token::Or => "'OR'".into(),
        Token::Dot => "'.'".into(),
        Token::Comma => "','".into(),
        Token::Open => "'('".into(),
        Token::Close => "')'".into(),
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<&Token> {
        self.at += 1;
        self.tokens.get(self.at - 1)
    }

    fn expect(&mut self, wanted: Token, what: &str) -> Result<(), String> {
        match self.next() {
            Some(token) if *token == wanted => Ok(()),
            Some(token) => Err(format!("Expected {what}, found {}", describe(token))),
            None => Err(format!("Expected {what} at the end of the where clause")),
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.term()?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, String> {
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            let inner = self.or()?;
            self.expect(Token::Close, "')'")?;
            return Ok(inner);
        }
        let mut path = vec![self.ident()?];
        while self.peek() == Some(&Token::Dot) {
            self.at += 1;
            let name = self.ident()?;
            let method = match name.as_str() {
                "Contains" => Some(Method::Contains),
                "StartsWith" => Some(Method::StartsWith),
                "EndsWith" => Some(Method::EndsWith),
                _ => None,
            };
            if let Some(method) = method {
                self.expect(Token::Open, "'('")?;
                let text = match self.next() {
                    Some(Token::Text(text)) => text.clone(),
                    _ => return Err(format!("{name} takes a string literal")),
                };
                self.expect(Token::Close, "')'")?;
                return Ok(Expr::Method { path, method, text });
            }
            path.push(name);
        }
        let op = match self.next() {
            Some(Token::Op(op)) => *op,
            Some(token) => return Err(format!("Expected a comparison operator after '{}', found {}", path.join("."), describe(token))),
            None => return Err(format!("Expected a comparison operator after '{}'", path.join("."))),
        };
        Ok(Expr::Compare { path, op, value: self.literal()? })
    }

    fn ident(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Ident(word)) => Ok(word.clone()),
            Some(token) => Err(format!("Expected a field name, found {}", describe(token))),
            None => Err("Expected a field name at the end of the where clause".into()),
        }
    }

    fn literal(&mut self) -> Result<Literal, String> {
        match self.next() {
            Some(Token::Text(text)) => Ok(Literal::Text(text.clone())),
            Some(Token::Number(n)) => Ok(Literal::Number(*n)),
            Some(Token::Ident(word)) => match word.as_str() {
                "true" => Ok(Literal::Bool(true)),
                "false" => Ok(Literal::Bool(false)),
                "null" => Ok(Literal::Null),
                "DateTime" => self.date_time(),
                "Guid" => {
                    self.expect(Token::Open, "'('")?;
                    let Some(Token::Text(text)) = self.next() else {
                        return Err("Guid takes a string literal".into());
                    };
                    let text = text.clone();
                    self.expect(Token::Close, "')'")?;
                    if !crate::random::is_guid(&text) {
                        return Err(format!("\"{text}\" is not a valid Guid"));
                    }
                    Ok(Literal::Text(text))
                }
                other => Err(format!("No property or field '{other}' can be compared with")),
            },
            Some(token) => Err(format!("Expected a value, found {}", describe(token))),
            None => Err("Expected a value at the end of the where clause".into()),
        }
    }

    /// `DateTime(2025,03,04)` or `DateTime(2025,03,04,10,30,00)`.
    fn date_time(&mut self) -> Result<Literal, String> {
        self.expect(Token::Open, "'('")?;
        let mut parts = Vec::new();
        loop {
            match self.next() {
                Some(Token::Number(n)) if n.fract() == 0.0 && *n >= 0.0 => parts.push(*n as u32),
                _ => return Err("DateTime takes whole numbers: DateTime(year,month,day)".into()),
            }
            match self.next() {
                Some(Token::Comma) => continue,
                Some(Token::Close) => break,
                _ => return Err("Expected ',' or ')' in DateTime(…)".into()),
            }
        }
        let at = match parts.as_slice() {
            [y, m, d] => chrono::NaiveDate::from_ymd_opt(*y as i32, *m, *d).and_then(|d| d.and_hms_opt(0, 0, 0)),
            [y, m, d, h, min, s] => chrono::NaiveDate::from_ymd_opt(*y as i32, *m, *d).and_then(|d| d.and_hms_opt(*h, *min, *s)),
            _ => None,
        };
        at.map(|at| Literal::Date(at.and_utc().timestamp_millis())).ok_or_else(|| "DateTime(…) is not a valid date".into())
    }
}

impl Expr {
    /// The first field each comparison names (`Contact` of `Contact.ContactNumber`), to check they exist.
    pub fn fields(&self) -> Vec<&str> {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => [a.fields(), b.fields()].concat(),
            Expr::Compare { path, .. } | Expr::Method { path, .. } => path.first().map(String::as_str).into_iter().collect(),
        }
    }

    pub fn matches(&self, record: &Map<String, Value>) -> bool {
        match self {
            Expr::And(a, b) => a.matches(record) && b.matches(record),
            Expr::Or(a, b) => a.matches(record) || b.matches(record),
            Expr::Compare { path, op, value } => compare(lookup(record, path), *op, value),
            Expr::Method { path, method, text } => match lookup(record, path).and_then(Value::as_str) {
                Some(field) => match method {
                    Method::Contains => field.contains(text.as_str()),
                    Method::StartsWith => field.starts_with(text.as_str()),
                    Method::EndsWith => field.ends_with(text.as_str()),
                },
                None => false,
            },
        }
    }
}

fn lookup<'r>(record: &'r Map<String, Value>, path: &[String]) -> Option<&'r Value> {
    let (first, rest) = path.split_first()?;
    let mut value = record.get(first)?;
    for name in rest {
        value = value.as_object()?.get(name)?;
    }
    Some(value)
}

fn compare(field: Option<&Value>, op: Op, value: &Literal) -> bool {
    use std::cmp::Ordering;
    let ordering: Option<Ordering> = match (field, value) {
        (None | Some(Value::Null), Literal::Null) => Some(Ordering::Equal),
        (None | Some(Value::Null), _) | (Some(_), Literal::Null) => None,
        (Some(Value::String(field)), Literal::Text(text)) => {
            // Ids are GUIDs, which Xero compares without regard to case.
            if crate::random::is_guid(field) && crate::random::is_guid(text) {
                Some(field.to_ascii_lowercase().cmp(&text.to_ascii_lowercase()))
            } else {
                Some(field.as_str().cmp(text.as_str()))
            }
        }
        (Some(Value::String(field)), Literal::Date(at)) => parse_date(field).map(|ms| ms.cmp(at)),
        (Some(Value::Number(field)), Literal::Number(n)) => field.as_f64().and_then(|f| f.partial_cmp(n)),
        (Some(Value::Bool(field)), Literal::Bool(b)) => Some(field.cmp(b)),
        _ => None,
    };
    match (ordering, op) {
        (None, Op::Ne) => true,
        (None, _) => false,
        (Some(o), Op::Eq) => o == Ordering::Equal,
        (Some(o), Op::Ne) => o != Ordering::Equal,
        (Some(o), Op::Lt) => o == Ordering::Less,
        (Some(o), Op::Le) => o != Ordering::Greater,
        (Some(o), Op::Gt) => o == Ordering::Greater,
        (Some(o), Op::Ge) => o != Ordering::Less,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn or_of_escaped_texts_and_nested_fields() {
        let expr = parse(r#"InvoiceNumber=="A \"quoted\" one" OR Contact.ContactNumber=="10023""#).unwrap();
        assert!(expr.matches(&record(json!({ "InvoiceNumber": "A \"quoted\" one" }))));
        assert!(expr.matches(&record(json!({ "Contact": { "ContactNumber": "10023" } }))));
        assert!(!expr.matches(&record(json!({ "InvoiceNumber": "other" }))));
    }

    #[test]
    fn and_binds_before_or_and_numbers_compare_as_numbers() {
        let expr = parse(r#"Status=="AUTHORISED" AND Total>100 || Type=="ACCPAY""#).unwrap();
        assert!(expr.matches(&record(json!({ "Status": "AUTHORISED", "Total": 763 }))));
        assert!(!expr.matches(&record(json!({ "Status": "AUTHORISED", "Total": 99.5 }))));
        assert!(expr.matches(&record(json!({ "Type": "ACCPAY" }))));
        assert!(parse(r#"Status!="DRAFT""#).unwrap().matches(&record(json!({ "Status": "PAID" }))));
    }

    #[test]
    fn dates_and_methods() {
        let expr = parse("Date>=DateTime(2025,03,04) && Name.StartsWith(\"Bou\")").unwrap();
        assert!(expr.matches(&record(json!({ "Date": "/Date(1741046400000+0000)/", "Name": "Boutique Lune" }))));
    }

    #[test]
    fn what_is_not_understood_is_refused() {
        for bad in [r#"Name=="open"#, "Name = \"x\"", "Name==", r#"Name=="a" AND"#, "Name.ToLower()==\"x\"", r#"Name=="\x""#, "(Name==\"x\""] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
