//! Consent without a browser on this machine: the operator opens the consent
//! address elsewhere and pastes back the address the browser was sent to
//! (or only its code). A pasted address must carry this consent's `state`, as
//! the loopback callback's must: an answer to another consent is refused.

/// What a pasted line says.
#[derive(Debug, PartialEq, Eq)]
pub enum Pasted {
    /// Nothing (an empty line): keep waiting.
    Nothing,
    Code(String),
    /// The system's answer was a refusal (`error=access_denied`): consent was not given.
    Refused(String),
    /// Not this consent's answer, or not an answer at all: say why, keep waiting.
    Wrong(String),
}

pub fn read(line: &str, callback: &reqwest::Url, state: &str) -> Pasted {
    let line = line.trim();
    if line.is_empty() {
        return Pasted::Nothing;
    }
    let looks_like_address = line.contains("://") || line.starts_with('/') || line.starts_with('?') || line.contains("code=");
    if !looks_like_address {
        return match line.chars().any(char::is_whitespace) {
            true => Pasted::Wrong("that is neither the address the browser was sent to nor a code".into()),
            false => Pasted::Code(line.to_string()),
        };
    }
    let address = if line.contains("://") { reqwest::Url::parse(line) } else { callback.join(line.trim_start_matches(|c| c != '/' && c != '?')) };
    let Ok(address) = address else {
        return Pasted::Wrong("that address cannot be read; paste it whole".into());
    };
    let get = |k: &str| address.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned());
    if let Some(error) = get("error") {
        return Pasted::Refused(error);
    }
    match (get("code"), get("state")) {
        (Some(code), Some(s)) if s == state => Pasted::Code(code),
        (Some(_), _) => Pasted::Wrong("that address does not carry this consent's state (it answers another consent, or was changed)".into()),
        (None, _) => Pasted::Wrong("that address has no code".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_must_carry_the_state_a_bare_code_is_taken() {
        let cb = reqwest::Url::parse("http://127.0.0.1:53682/callback").unwrap();
        assert_eq!(read("  ", &cb, "s1"), Pasted::Nothing);
        assert_eq!(read("http://127.0.0.1:53682/callback?code=abc%2Fd&state=s1", &cb, "s1"), Pasted::Code("abc/d".into()));
        assert_eq!(read("/callback?state=s1&code=x", &cb, "s1"), Pasted::Code("x".into()));
        assert!(matches!(read("http://127.0.0.1:53682/callback?code=abc&state=s2", &cb, "s1"), Pasted::Wrong(_)));
        assert!(matches!(read("http://127.0.0.1:53682/callback?code=abc", &cb, "s1"), Pasted::Wrong(_)));
        assert_eq!(read("http://127.0.0.1:53682/callback?error=access_denied&state=s1", &cb, "s1"), Pasted::Refused("access_denied".into()));
        assert_eq!(read("Xy12-ab", &cb, "s1"), Pasted::Code("Xy12-ab".into()));
        assert!(matches!(read("no idea", &cb, "s1"), Pasted::Wrong(_)));
    }
}
