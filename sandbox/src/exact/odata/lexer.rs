//! Splits a `$filter` into tokens. Quoted literals are read here, whole: `'x'' or ''1'' eq ''1'`
//! is one string token (`x' or '1' eq '1`), so no text inside quotes can ever become syntax.

use super::SyntaxError;

#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    /// A name: a field, a function, or a keyword such as `eq`, `and`, `null`.
    Word(String),
    Str(String),
    Guid(String),
    /// `datetime'…'`, as epoch milliseconds (a zoneless value is read as UTC).
    DateTime(i64),
    Int(i64),
    Float(f64),
    Open,
    Close,
    Comma,
}

pub fn tokenize(text: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            '\'' => {
                let (text, next) = quoted(&chars, i)?;
                tokens.push(Token::Str(text));
                i = next;
            }
            c if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) => {
                let (token, next) = number(&chars, i)?;
                tokens.push(token);
                i = next;
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '/') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if chars.get(i) == Some(&'\'') {
                    let (text, next) = quoted(&chars, i)?;
                    tokens.push(typed_literal(&word, &text)?);
                    i = next;
                } else {
                    tokens.push(Token::Word(word));
                }
            }
            _ => return Err(SyntaxError),
        }
    }
    Ok(tokens)
}

/// Reads `'…'` starting at the opening quote; `''` inside is one quote. Returns the text and the
/// index after the closing quote.
fn quoted(chars: &[char], open: usize) -> Result<(String, usize), SyntaxError> {
    let mut text = String::new();
    let mut i = open + 1;
    loop {
        match chars.get(i) {
            None => return Err(SyntaxError),
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                text.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((text, i + 1)),
            Some(&c) => {
                text.push(c);
                i += 1;
            }
        }
    }
}

/// `guid'…'` and `datetime'…'`; other prefixes (binary, time) are not used with Exact.
fn typed_literal(prefix: &str, text: &str) -> Result<Token, SyntaxError> {
    match prefix {
        "guid" if crate::random::is_guid(text) => Ok(Token::Guid(text.to_ascii_lowercase())),
        "datetime" => parse_datetime(text).map(Token::DateTime).ok_or(SyntaxError),
        "datetimeoffset" => chrono::DateTime::parse_from_rfc3339(text).map(|d| Token::DateTime(d.timestamp_millis())).map_err(|_| SyntaxError),
        _ => Err(SyntaxError),
    }
}

/// `2022-12-12T01:00:00`, with or without seconds and fractions, or a bare date.
pub fn parse_datetime(text: &str) -> Option<i64> {
    use chrono::{NaiveDate, NaiveDateTime};
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)))
        .map(|d| d.and_utc().timestamp_millis())
}

/// `12`, `-3`, `123L`, `1.5`, `1.5M`, `2e3d`. A letter glued to the number is a syntax error.
fn number(chars: &[char], start: usize) -> Result<(Token, usize), SyntaxError> {
    let mut i = start + 1;
    let digits = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_ascii_digit() {
            *i += 1;
        }
    };
    digits(&mut i);
    let mut fractional = false;
    if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
        fractional = true;
        i += 1;
        digits(&mut i);
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let sign = usize::from(matches!(chars.get(i + 1), Some('+' | '-')));
        if chars.get(i + 1 + sign).is_some_and(char::is_ascii_digit) {
            fractional = true;
            i += 1 + sign;
            digits(&mut i);
        }
    }
    let text: String = chars[start..i].iter().collect();
    let suffix = chars.get(i).copied();
    let (token, next) = match suffix {
        Some('L' | 'l') if !fractional => (text.parse().map(Token::Int).map_err(|_| SyntaxError)?, i + 1),
        Some('M' | 'm' | 'D' | 'd' | 'F' | 'f') => (text.parse().map(Token::Float).map_err(|_| SyntaxError)?, i + 1),
        _ if fractional => (text.parse().map(Token::Float).map_err(|_| SyntaxError)?, i),
        _ => (text.parse().map(Token::Int).map_err(|_| SyntaxError)?, i),
    };
    if chars.get(next).is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '\'') {
        return Err(SyntaxError);
    }
    Ok((token, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(w: &str) -> Token {
        Token::Word(w.into())
    }

    #[test]
    fn doubled_quotes_are_one_quote() {
        assert_eq!(tokenize("Code eq '           O''BRIEN'").unwrap(), vec![word("Code"), word("eq"), Token::Str("           O'BRIEN".into())]);
    }

    #[test]
    fn an_injection_shaped_literal_stays_one_literal() {
        let tokens = tokenize("Code eq 'x'' or ''1'' eq ''1'").unwrap();
        assert_eq!(tokens, vec![word("Code"), word("eq"), Token::Str("x' or '1' eq '1".into())]);
    }

    #[test]
    fn typed_literals_and_numbers() {
        let tokens = tokenize("guid'5DF0D39F-7524-4add-9413-788062e10fbe' datetime'2022-12-12T01:00:00' 123L -4 1.5M 2").unwrap();
        assert_eq!(
            tokens,
            vec![
                Token::Guid("5df0d39f-7524-4add-9413-788062e10fbe".into()),
                Token::DateTime(1_670_806_800_000),
                Token::Int(123),
                Token::Int(-4),
                Token::Float(1.5),
                Token::Int(2),
            ]
        );
    }

    #[test]
    fn malformed_literals_are_syntax_errors() {
        for bad in ["Code eq 'open", "ID eq guid'nope'", "D eq datetime'yesterday'", "X eq 12abc", "X eq 1 ; drop", "X eq binary'00'"] {
            assert_eq!(tokenize(bad), Err(SyntaxError), "{bad}");
        }
    }
}
