//! Words that agree with a count, for every message teamsync writes: `1 change`, `2 changes`.

/// `""` for a count of one, `"s"` for any other: `format!("{n} change{}", plural(n))`.
pub(crate) fn plural(n: impl TryInto<u64>) -> &'static str {
    one_or_many(n, "", "s")
}

/// `one` for a count of one, `many` for any other: `one_or_many(n, "it", "them")`.
pub(crate) fn one_or_many<'a>(n: impl TryInto<u64>, one: &'a str, many: &'a str) -> &'a str {
    if n.try_into().ok() == Some(1) {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(plural(1usize), "");
        assert_eq!(plural(1u64), "");
        for n in [0u64, 2, 21, u64::MAX] {
            assert_eq!(plural(n), "s", "{n}");
        }
        assert_eq!(one_or_many(1u32, "it", "them"), "it");
        assert_eq!(one_or_many(0usize, "it", "them"), "them");
    }
}
