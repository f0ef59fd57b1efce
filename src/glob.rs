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
        let text: Vec<char> = email.trim().to_lowercase().chars().collect();
        // Iterative wildcard matching with single-star backtracking: linear in practice,
        // never exponential.
        let (p, t) = (&self.chars, &text);
        let (mut pi, mut ti) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
                pi += 1;
                ti += 1;
            } else if pi < p.len() && p[pi] == '*' {
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
        while pi < p.len() && p[pi] == '*' {
            pi += 1;
        }
        pi == p.len()
    }
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
