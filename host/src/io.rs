//! I/O error text for one-line messages.

/// An I/O error's reason without the `(os error N)` suffix, for one-line messages.
pub(crate) fn io_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_reason_drops_the_os_error_number() {
        let error = std::io::Error::from_raw_os_error(2);
        assert_eq!(io_reason(&error), "No such file or directory");
        let custom = std::io::Error::other("plain");
        assert_eq!(io_reason(&custom), "plain");
    }
}
