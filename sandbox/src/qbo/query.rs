//! The query language (notes §2, Intuit's data-queries page): `SELECT * | count(*) FROM <Entity>
//! [WHERE <prop> <op> <value> [AND …]] [ORDERBY <prop> [ASC|DESC][, …]] [STARTPOSITION n]
//! [MAXRESULTS n]`. Keywords in any case, the entity as Intuit spells it, no OR, no projections.
//! Ops `=` `<` `>` `<=` `>=` `IN` `LIKE`; values quoted with `\'` inside, numbers, true/false.
//! STARTPOSITION and MAXRESULTS in either order (minimul/qbo_api sends MAXRESULTS first).

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    Number(f64),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
    In,
    Like,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub field: String,
    pub op: Op,
    pub values: Vec<Literal>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub count: bool,
    pub entity: String,
    pub conditions: Vec<Condition>,
    /// Field and descending.
    pub order: Vec<(String, bool)>,
    pub start: Option<i64>,
    pub max: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Number(f64),
    Symbol(&'static str),
}

fn describe(token: Option<&Token>) -> String {
    match token {
        None => "<EOF>".into(),
        Some(Token::Word(w)) => w.clone(),
        Some(Token::Text(t)) => format!("'{t}'"),
        Some(Token::Number(n)) => n.to_string(),
        Some(Token::Symbol(s)) => (*s).into(),
    }
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut literal = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("Encountered an unterminated string literal".into()),
                    Some('\\') => {
                        // A backslash escapes the next character (blogs.intuit.com 2014-03-20).
                        literal.extend(chars.get(i + 1));
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(other) => {
                        literal.push(*other);
                        i += 1;
                    }
                }
            }
            out.push(Token::Text(literal));
        } else if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let number: String = chars[start..i].iter().collect();
            out.push(Token::Number(number.parse().map_err(|_| format!("Encountered \"{number}\", not a number"))?));
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let symbol = match (two.as_str(), c) {
                ("<=", _) => "<=",
                (">=", _) => ">=",
                (_, '=') => "=",
                (_, '<') => "<",
                (_, '>') => ">",
                (_, '(') => "(",
                (_, ')') => ")",
                (_, ',') => ",",
                (_, '*') => "*",
                _ => return Err(format!("Lexical error: encountered \"{c}\"")),
            };
            i += symbol.len();
            out.push(Token::Symbol(symbol));
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn expect_keyword(&mut self, keyword: &str) -> Result<(), String> {
        if self.is_keyword(keyword) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.unexpected(keyword))
        }
    }

    fn expect_symbol(&mut self, symbol: &str) -> Result<(), String> {
        match self.peek() {
            Some(Token::Symbol(s)) if *s == symbol => {
                self.at += 1;
                Ok(())
            }
            _ => Err(self.unexpected(symbol)),
        }
    }

    fn word(&mut self, what: &str) -> Result<String, String> {
        match self.peek() {
            Some(Token::Word(w)) => {
                let w = w.clone();
                self.at += 1;
                Ok(w)
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn whole_number(&mut self, what: &str) -> Result<i64, String> {
        match self.peek() {
            Some(Token::Number(n)) if n.fract() == 0.0 => {
                let n = *n as i64;
                self.at += 1;
                Ok(n)
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn unexpected(&self, wanted: &str) -> String {
        format!("Encountered \"{}\" at position {}. Was expecting: {wanted}", describe(self.peek()), self.at + 1)
    }

    fn literal(&mut self) -> Result<Literal, String> {
        match self.next() {
            Some(Token::Text(t)) => Ok(Literal::Text(t)),
            Some(Token::Number(n)) => Ok(Literal::Number(n)),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") => Ok(Literal::Bool(true)),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("false") => Ok(Literal::Bool(false)),
            _ => {
                self.at -= 1;
                Err(self.unexpected("a value"))
            }
        }
    }

    fn condition(&mut self) -> Result<Condition, String> {
        let field = self.word("a property")?;
        let op = match self.next() {
            Some(Token::Symbol("=")) => Op::Eq,
            Some(Token::Symbol("<")) => Op::Lt,
            Some(Token::Symbol(">")) => Op::Gt,
            Some(Token::Symbol("<=")) => Op::Le,
            Some(Token::Symbol(">=")) => Op::Ge,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("IN") => Op::In,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("LIKE") => Op::Like,
            _ => {
                self.at -= 1;
                return Err(self.unexpected("=, <, >, <=, >=, IN or LIKE"));
            }
        };
        let values = if op == Op::In {
            self.expect_symbol("(")?;
            let mut values = vec![self.literal()?];
            while matches!(self.peek(), Some(Token::Symbol(","))) {
                self.at += 1;
                values.push(self.literal()?);
            }
            self.expect_symbol(")")?;
            values
        } else {
            vec![self.literal()?]
        };
        Ok(Condition { field, op, values })
    }
}

/// Parses a statement; `Err` is the detail of a QueryParserError.
pub fn parse(text: &str) -> Result<Statement, String> {
    let mut p = Parser { tokens: tokens(text)?, at: 0 };
    p.expect_keyword("SELECT")?;
    let count = if p.is_keyword("count") {
        p.at += 1;
        p.expect_symbol("(")?;
        p.expect_symbol("*")?;
        p.expect_symbol(")")?;
        true
    } else {
        p.expect_symbol("*")?;
        false
    };
    p.expect_keyword("FROM")?;
    let entity = p.word("an entity")?;
    let mut statement = Statement { count, entity, conditions: Vec::new(), order: Vec::new(), start: None, max: None };
    if p.is_keyword("WHERE") {
        p.at += 1;
        statement.conditions.push(p.condition()?);
        while p.is_keyword("AND") {
            p.at += 1;
            statement.conditions.push(p.condition()?);
        }
    }
    if p.is_keyword("ORDERBY") || p.is_keyword("ORDER") {
        if p.is_keyword("ORDER") {
            p.at += 1;
            p.expect_keyword("BY")?;
        } else {
            p.at += 1;
        }
        loop {
            let field = p.word("a property")?;
            let descending = if p.is_keyword("DESC") {
                p.at += 1;
                true
            } else {
                if p.is_keyword("ASC") {
                    p.at += 1;
                }
                false
            };
            statement.order.push((field, descending));
            if !matches!(p.peek(), Some(Token::Symbol(","))) {
                break;
            }
            p.at += 1;
        }
    }
    loop {
        if p.is_keyword("STARTPOSITION") && statement.start.is_none() {
            p.at += 1;
            statement.start = Some(p.whole_number("a number")?);
        } else if p.is_keyword("MAXRESULTS") && statement.max.is_none() {
            p.at += 1;
            statement.max = Some(p.whole_number("a number")?);
        } else {
            break;
        }
    }
    if p.peek().is_some() {
        return Err(p.unexpected("<EOF>"));
    }
    Ok(statement)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_whole_grammar_in_any_keyword_case() {
        let s = parse("select * from Customer where DisplayName = 'Amy\\'s Bird' and Id IN ('5', '6') and Balance >= 10 and Active IN (true, false) orderby DisplayName desc, Id maxresults 2 startposition 3").unwrap();
        assert_eq!(s.entity, "Customer");
        assert_eq!(s.conditions[0].values, vec![Literal::Text("Amy's Bird".into())]);
        assert_eq!(s.conditions[1].op, Op::In);
        assert_eq!(s.conditions[2].values, vec![Literal::Number(10.0)]);
        assert_eq!(s.conditions[3].values, vec![Literal::Bool(true), Literal::Bool(false)]);
        assert_eq!(s.order, vec![("DisplayName".to_string(), true), ("Id".to_string(), false)]);
        assert_eq!((s.start, s.max), (Some(3), Some(2)));
        assert!(parse("SELECT COUNT(*) FROM Item").unwrap().count);
    }

    #[test]
    fn refuses_or_and_projections() {
        assert!(parse("select * from Item where Name = 'a' or Name = 'b'").unwrap_err().starts_with("Encountered \"or\""));
        assert!(parse("select Name from Item").is_err());
        assert!(parse("select * from Item where Name = 'open").is_err());
    }
}
