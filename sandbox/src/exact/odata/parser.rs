//! Turns `$filter` tokens into an expression tree, with OData's precedence:
//! `or` < `and` < `not` < comparison (`eq ne gt ge lt le`) < literal, field, call, parentheses.
//! Keywords are lowercase, as in OData; `EQ` is a syntax error there too.

use super::SyntaxError;
use super::lexer::{Token, tokenize};

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Literal(Literal),
    Field(String),
    Call(Function, Vec<Expr>),
    Compare(CompareOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Lowercased.
    Guid(String),
    /// Epoch milliseconds.
    DateTime(i64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Trim,
    ToLower,
    ToUpper,
    Length,
    /// `substringof('needle', Field)`: true when Field contains needle.
    SubstringOf,
    StartsWith,
    EndsWith,
}

impl Function {
    fn named(name: &str) -> Option<(Function, usize)> {
        Some(match name {
            "trim" => (Function::Trim, 1),
            "tolower" => (Function::ToLower, 1),
            "toupper" => (Function::ToUpper, 1),
            "length" => (Function::Length, 1),
            "substringof" => (Function::SubstringOf, 2),
            "startswith" => (Function::StartsWith, 2),
            "endswith" => (Function::EndsWith, 2),
            _ => return None,
        })
    }

    fn is_boolean(self) -> bool {
        matches!(self, Function::SubstringOf | Function::StartsWith | Function::EndsWith)
    }
}

impl Expr {
    /// Every field the expression reads, for checking them against the entity.
    pub fn fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_fields(&mut out);
        out
    }

    fn collect_fields<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Field(name) => out.push(name),
            Expr::Literal(_) => {}
            Expr::Call(_, args) => args.iter().for_each(|a| a.collect_fields(out)),
            Expr::Compare(_, a, b) | Expr::And(a, b) | Expr::Or(a, b) => {
                a.collect_fields(out);
                b.collect_fields(out);
            }
            Expr::Not(a) => a.collect_fields(out),
        }
    }

    /// Whether this can stand where a condition is expected (a field may be a boolean one).
    fn can_be_boolean(&self) -> bool {
        match self {
            Expr::Literal(l) => matches!(l, Literal::Bool(_) | Literal::Null),
            Expr::Field(_) | Expr::Compare(..) | Expr::And(..) | Expr::Or(..) | Expr::Not(_) => true,
            Expr::Call(f, _) => f.is_boolean(),
        }
    }
}

pub fn parse(text: &str) -> Result<Expr, SyntaxError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.or()?;
    if parser.at != parser.tokens.len() || !expr.can_be_boolean() {
        return Err(SyntaxError);
    }
    Ok(expr)
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

    fn eat_word(&mut self, keyword: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w == keyword) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: Token) -> Result<(), SyntaxError> {
        if self.next() == Some(token) { Ok(()) } else { Err(SyntaxError) }
    }

    fn or(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.and()?;
        while self.eat_word("or") {
            let right = self.and()?;
            left = Expr::Or(Box::new(condition(left)?), Box::new(condition(right)?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.not()?;
        while self.eat_word("and") {
            let right = self.not()?;
            left = Expr::And(Box::new(condition(left)?), Box::new(condition(right)?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, SyntaxError> {
        if self.eat_word("not") {
            return Ok(Expr::Not(Box::new(condition(self.not()?)?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, SyntaxError> {
        let left = self.primary()?;
        let op = match self.peek() {
            Some(Token::Word(w)) => match w.as_str() {
                "eq" => CompareOp::Eq,
                "ne" => CompareOp::Ne,
                "gt" => CompareOp::Gt,
                "ge" => CompareOp::Ge,
                "lt" => CompareOp::Lt,
                "le" => CompareOp::Le,
                _ => return Ok(left),
            },
            _ => return Ok(left),
        };
        self.at += 1;
        let right = self.primary()?;
        Ok(Expr::Compare(op, Box::new(left), Box::new(right)))
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        let literal = |l| Ok(Expr::Literal(l));
        match self.next().ok_or(SyntaxError)? {
            Token::Open => {
                let inner = self.or()?;
                self.expect(Token::Close)?;
                Ok(inner)
            }
            Token::Str(s) => literal(Literal::Str(s)),
            Token::Guid(g) => literal(Literal::Guid(g)),
            Token::DateTime(ms) => literal(Literal::DateTime(ms)),
            Token::Int(n) => literal(Literal::Int(n)),
            Token::Float(x) => literal(Literal::Float(x)),
            Token::Word(word) => match word.as_str() {
                "null" => literal(Literal::Null),
                "true" => literal(Literal::Bool(true)),
                "false" => literal(Literal::Bool(false)),
                "eq" | "ne" | "gt" | "ge" | "lt" | "le" | "and" | "or" | "not" => Err(SyntaxError),
                _ if self.peek() == Some(&Token::Open) => self.call(&word),
                _ => Ok(Expr::Field(word)),
            },
            Token::Close | Token::Comma => Err(SyntaxError),
        }
    }

    fn call(&mut self, name: &str) -> Result<Expr, SyntaxError> {
        let (function, arity) = Function::named(name).ok_or(SyntaxError)?;
        self.expect(Token::Open)?;
        let mut args = vec![self.or()?];
        while self.peek() == Some(&Token::Comma) {
            self.at += 1;
            args.push(self.or()?);
        }
        self.expect(Token::Close)?;
        if args.len() != arity {
            return Err(SyntaxError);
        }
        Ok(Expr::Call(function, args))
    }
}

/// `and`, `or` and `not` take conditions: `Code and 'x'` is refused like OData refuses it.
fn condition(expr: Expr) -> Result<Expr, SyntaxError> {
    if expr.can_be_boolean() { Ok(expr) } else { Err(SyntaxError) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str) -> Box<Expr> {
        Box::new(Expr::Field(name.into()))
    }

    fn text(s: &str) -> Box<Expr> {
        Box::new(Expr::Literal(Literal::Str(s.into())))
    }

    fn eq(name: &str, value: &str) -> Expr {
        Expr::Compare(CompareOp::Eq, field(name), text(value))
    }

    #[test]
    fn escaped_quotes_in_a_comparison() {
        assert_eq!(parse("Code eq '           O''BRIEN'").unwrap(), eq("Code", "           O'BRIEN"));
    }

    #[test]
    fn injection_shaped_literal_is_one_comparison() {
        assert_eq!(parse("Code eq 'x'' or ''1'' eq ''1'").unwrap(), eq("Code", "x' or '1' eq '1"));
    }

    #[test]
    fn guid_literal() {
        let parsed = parse("ID eq guid'5DF0D39F-7524-4ADD-9413-788062E10FBE'").unwrap();
        let guid = Box::new(Expr::Literal(Literal::Guid("5df0d39f-7524-4add-9413-788062e10fbe".into())));
        assert_eq!(parsed, Expr::Compare(CompareOp::Eq, field("ID"), guid));
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_override() {
        let a_or_b_and_c = Expr::Or(Box::new(eq("A", "1")), Box::new(Expr::And(Box::new(eq("B", "2")), Box::new(eq("C", "3")))));
        assert_eq!(parse("A eq '1' or B eq '2' and C eq '3'").unwrap(), a_or_b_and_c);
        let grouped = Expr::And(Box::new(Expr::Or(Box::new(eq("A", "1")), Box::new(eq("B", "2")))), Box::new(eq("C", "3")));
        assert_eq!(parse("(A eq '1' or B eq '2') and C eq '3'").unwrap(), grouped);
    }

    #[test]
    fn not_applies_to_the_next_condition_only() {
        let parsed = parse("not A eq '1' and B eq '2'").unwrap();
        assert_eq!(parsed, Expr::And(Box::new(Expr::Not(Box::new(eq("A", "1")))), Box::new(eq("B", "2"))));
    }

    #[test]
    fn functions() {
        let trimmed = Expr::Compare(CompareOp::Eq, Box::new(Expr::Call(Function::Trim, vec![Expr::Field("Code".into())])), text("10023"));
        assert_eq!(parse("trim(Code) eq '10023'").unwrap(), trimmed);
        assert_eq!(
            parse("substringof('Lune', Name)").unwrap(),
            Expr::Call(Function::SubstringOf, vec![Expr::Literal(Literal::Str("Lune".into())), Expr::Field("Name".into())])
        );
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "",
            "Code eq",
            "Code eq 'a' or",
            "Code EQ 'a'",
            "(Code eq 'a'",
            "Code eq 'a')",
            "Code eq 'a' Name eq 'b'",
            "'a'",
            "trim(Code)",
            "Code eq 'a' and 'b'",
            "nosuch(Code) eq 1",
            "substringof('a')",
            "eq eq 'a'",
        ] {
            assert_eq!(parse(bad), Err(SyntaxError), "{bad:?}");
        }
    }

    #[test]
    fn fields_are_listed_for_checking() {
        let parsed = parse("trim(Code) eq 'a' or not (Name ne null and Blocked)").unwrap();
        assert_eq!(parsed.fields(), vec!["Code", "Name", "Blocked"]);
    }
}
