//! Randomness: a small seeded generator for everything that must repeat (faults, generated data)
//! and the operating system's for everything that must not be guessable (tokens, new keys).

/// splitmix64: tiny, fast, and the same sequence for the same seed on every platform.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n`; `n` must not be 0.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A version-4 style GUID, deterministic from the seed.
    pub fn guid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        format_guid(bytes)
    }
}

/// A new lowercase GUID from the operating system's generator, as Exact assigns to new records.
pub fn new_guid() -> String {
    format_guid(os_bytes())
}

/// An opaque, unguessable token (access tokens, refresh tokens, authorization codes).
pub fn new_token(prefix: &str) -> String {
    let hex: String = os_bytes().iter().chain(os_bytes().iter()).map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

fn os_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS entropy: fall back to the clock so the sandbox still runs (it guards no secrets).
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let mut rng = SplitMix64::new(nanos as u64 ^ (std::process::id() as u64) << 32);
        bytes[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    bytes
}

fn format_guid(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// Whether `text` has the 8-4-4-4-12 hex shape of a GUID.
pub fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5 && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let (mut a, mut b) = (SplitMix64::new(7), SplitMix64::new(7));
        assert_eq!((a.next_u64(), a.guid()), (b.next_u64(), b.guid()));
    }

    #[test]
    fn guids_have_the_guid_shape() {
        assert!(is_guid(&new_guid()));
        assert!(is_guid(&SplitMix64::new(1).guid()));
        assert!(!is_guid("3f2504e0' or 1 eq 1"));
    }
}
