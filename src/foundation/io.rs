//! Bounded reads: a file that never ends (a device, a pipe) is an error, not a hang.

/// Largest file somagen reads (a stack file, a `-f` file, stdin); bigger inputs are refused
/// instead of exhausting memory.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Read a file named on the command line, refusing anything over [`MAX_FILE_BYTES`].
pub fn read_user_file(path: &str) -> std::io::Result<String> {
    read_bounded(std::fs::File::open(path)?)
}

/// Read at most [`MAX_FILE_BYTES`] from `reader`.
pub fn read_bounded(reader: impl std::io::Read) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut text = String::new();
    reader.take(MAX_FILE_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "more than the {MAX_FILE_BYTES}-byte limit"
        )));
    }
    Ok(text)
}
