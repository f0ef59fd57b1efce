//! Email globs for `ignore`: `*` matches any run of characters, `?` exactly one; matching is
//! case-insensitive and the whole email must match.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    chars: Vec<char>,
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        let pattern = pattern.trim().to_lowercase();
        Glob {
            chars: pattern.chars().collect(),
            pattern,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether `email` (any case) matches the whole pattern.
    pub fn matches(&self, email: &str) -> bool {
        let email = email.trim();
        if email.is_ascii() && self.pattern.is_ascii() {
            // The common case, without allocating: ASCII lower-casing is what `to_lowercase`
            // does to ASCII text.
            let text: &[u8] = email.as_bytes();
            return wildcard(self.pattern.as_bytes(), text.len(), |pc, ti| {
                pc == b'?' || pc == text[ti].to_ascii_lowercase()
            });
        }
        let text: Vec<char> = email.to_lowercase().chars().collect();
        wildcard(&self.chars, text.len(), |pc, ti| {
            pc == '?' || pc == text[ti]
        })
    }
}

/// A wildcard character of a pattern.
trait Wild: Copy + PartialEq {
    const STAR: Self;
}

impl Wild for u8 {
    const STAR: u8 = b'*';
}

impl Wild for char {
    const STAR: char = '*';
}

/// Whether the whole text (of `len` symbols) matches pattern `p`; `eq(p[pi], ti)` says whether
/// pattern symbol `p[pi]` matches text symbol `ti` literally or as `?` (tried before a star).
fn wildcard<T: Wild>(p: &[T], len: usize, eq: impl Fn(T, usize) -> bool) -> bool {
    // Iterative wildcard matching with single-star backtracking: linear in practice, never
    // exponential.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < len {
        if pi < p.len() && eq(p[pi], ti) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == T::STAR {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == T::STAR {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::Glob;

    #[test]
    fn star_and_question_mark() {
        let g = Glob::new("*@vendor.io");
        assert!(g.matches("support@vendor.io"));
        assert!(g.matches("@vendor.io"));
        assert!(!g.matches("support@vendor.io.evil.com"));
        assert!(!g.matches("support@notvendor.com"));
        let q = Glob::new("bot?@example.com");
        assert!(q.matches("bot1@example.com"));
        assert!(!q.matches("bot12@example.com"));
        assert!(!q.matches("bot@example.com"));
    }

    #[test]
    fn case_insensitive_both_ways() {
        let g = Glob::new("*@Vendor.IO");
        assert!(g.matches("Support@VENDOR.io"));
        assert!(Glob::new("exact@x.com").matches("EXACT@X.COM"));
    }

    #[test]
    fn several_stars_backtrack() {
        let g = Glob::new("*ops*@*.example.com");
        assert!(g.matches("team-ops-1@eu.example.com"));
        assert!(!g.matches("team-dev@eu.example.com"));
        assert!(Glob::new("*").matches("anything@at.all"));
    }
}
