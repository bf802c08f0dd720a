//! "Did you mean" suggestions for misspelt keys, modes and fields.

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(word, candidate), candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn suggests_close_typos_only() {
        let keys = ["replicas", "resources", "image"];
        assert_eq!(nearest("replicsa", keys), Some("replicas"));
        assert_eq!(nearest("imgae", keys), Some("image"));
        assert_eq!(nearest("zzz", keys), None);
    }
}
