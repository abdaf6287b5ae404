//! Consent without a browser on this machine: the operator opens the consent
//! address elsewhere and pastes back the address the browser was sent to
//! (or only its code). A pasted address must carry this consent's `state`, as
//! the loopback callback's must: an answer to another consent is refused.

use crate::http::auth::consent::Redirect;

/// What a pasted line says.
#[derive(Debug, PartialEq, Eq)]
pub enum Pasted {
    /// Nothing (an empty line): keep waiting.
    Nothing,
    /// The code, and the address's other values (QuickBooks' realmId; none for a bare code).
    Code(String, Vec<(String, String)>),
    /// The system's answer was a refusal (`error=access_denied`): consent was not given.
    Refused(String),
    /// Not this consent's answer, or not an answer at all: say why, keep waiting.
    Wrong(String),
}

/// `needed`: values the address must carry beside the code (QuickBooks: `realmId`), so that
/// a bare code, which cannot carry them, is refused.
pub fn read(line: &str, callback: &reqwest::Url, state: &str, needed: &[String]) -> Pasted {
    let line = line.trim();
    if line.is_empty() {
        return Pasted::Nothing;
    }
    let looks_like_address = line.contains("://") || line.starts_with('/') || line.starts_with('?') || line.contains("code=");
    if !looks_like_address {
        return match (line.chars().any(char::is_whitespace), needed.first()) {
            (true, _) => Pasted::Wrong("that is neither the address the browser was sent to nor a code; paste the address again".into()),
            (false, Some(value)) => {
                Pasted::Wrong(format!("a code alone does not carry the {value} that comes with it: paste the whole address the browser was sent to"))
            }
            (false, None) => Pasted::Code(line.to_string(), Vec::new()),
        };
    }
    let address = if line.contains("://") { reqwest::Url::parse(line) } else { callback.join(line.trim_start_matches(|c| c != '/' && c != '?')) };
    let Ok(address) = address else {
        return Pasted::Wrong("that address cannot be read; paste it whole".into());
    };
    let Redirect { code, state: given, error, kept } = Redirect::of_url(&address);
    if let Some(error) = error {
        return Pasted::Refused(error);
    }
    match (code, given) {
        (Some(code), Some(s)) if s == state => match needed.iter().find(|n| !kept.iter().any(|(k, _)| k == *n)) {
            Some(missing) => Pasted::Wrong(format!("that address has no {missing}; paste the whole address the browser was sent to")),
            None => Pasted::Code(code, kept),
        },
        (Some(_), _) => Pasted::Wrong(
            "that address does not carry this consent's state (it answers another consent, or was changed); paste the address again".into(),
        ),
        (None, _) => Pasted::Wrong("that address has no code; paste the address again".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_must_carry_the_state_a_bare_code_is_taken() {
        let cb = reqwest::Url::parse("http://127.0.0.1:53682/callback").unwrap();
        let code = |c: &str| Pasted::Code(c.into(), Vec::new());
        assert_eq!(read("  ", &cb, "s1", &[]), Pasted::Nothing);
        assert_eq!(read("http://127.0.0.1:53682/callback?code=abc%2Fd&state=s1", &cb, "s1", &[]), code("abc/d"));
        assert_eq!(read("/callback?state=s1&code=x", &cb, "s1", &[]), code("x"));
        assert!(matches!(read("http://127.0.0.1:53682/callback?code=abc&state=s2", &cb, "s1", &[]), Pasted::Wrong(_)));
        assert!(matches!(read("http://127.0.0.1:53682/callback?code=abc", &cb, "s1", &[]), Pasted::Wrong(_)));
        assert_eq!(read("http://127.0.0.1:53682/callback?error=access_denied&state=s1", &cb, "s1", &[]), Pasted::Refused("access_denied".into()));
        assert_eq!(read("Xy12-ab", &cb, "s1", &[]), code("Xy12-ab"));
        assert!(matches!(read("no idea", &cb, "s1", &[]), Pasted::Wrong(_)));
    }

    #[test]
    fn a_system_that_needs_a_redirect_value_takes_only_the_whole_address() {
        let cb = reqwest::Url::parse("http://127.0.0.1:53682/callback").unwrap();
        let needed = ["realmId".to_string()];
        assert_eq!(
            read("/callback?code=x&state=s1&realmId=9130", &cb, "s1", &needed),
            Pasted::Code("x".into(), vec![("realmId".into(), "9130".into())])
        );
        assert_eq!(
            read("Xy12-ab", &cb, "s1", &needed),
            Pasted::Wrong("a code alone does not carry the realmId that comes with it: paste the whole address the browser was sent to".into())
        );
        assert_eq!(
            read("/callback?code=x&state=s1", &cb, "s1", &needed),
            Pasted::Wrong("that address has no realmId; paste the whole address the browser was sent to".into())
        );
    }
}
