//! Shared pieces of the text parsers: line iteration, comma fields, integers,
//! and parse errors that name the line (1-based) and the field.

use crate::error::{Error, ErrorKind};

/// A parse error at `line` (1-based) in `field`.
pub fn perr(line: u64, field: &'static str, message: impl Into<String>) -> Error {
    Error {
        index: None,
        kind: ErrorKind::Parse {
            line,
            field,
            message: message.into(),
        },
    }
}

/// Strips ASCII whitespace (and a CR left by CRLF line ends) from both ends.
pub fn trim(s: &[u8]) -> &[u8] {
    let a = s
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(s.len());
    let b = s
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(a, |p| p + 1);
    &s[a..b.max(a)]
}

/// Bytes for an error message.
pub fn show(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

/// Non-blank lines with their 1-based numbers (CR stripped by the callers'
/// trim). A file with no LF but CRs (classic Mac line ends) is split on CR:
/// read as one line it would silently give no rows.
pub fn lines(data: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let sep = if !data.contains(&b'\n') && data.contains(&b'\r') {
        b'\r'
    } else {
        b'\n'
    };
    data.split(move |&c| c == sep)
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l))
        .filter(|(_, l)| !trim(l).is_empty())
}

/// Splits a CSV line into fields. Quoted fields ("...") are unquoted; a quote
/// inside is not supported (none of the formats read here write one).
pub fn fields<'a>(line: &'a [u8], out: &mut Vec<&'a [u8]>) {
    out.clear();
    for f in trim(line).split(|&c| c == b',') {
        let f = trim(f);
        if f.len() >= 2 && f[0] == b'"' && f[f.len() - 1] == b'"' {
            out.push(&f[1..f.len() - 1]);
        } else {
            out.push(f);
        }
    }
}

/// A signed decimal integer that fits i64 (ns timestamps have 19 digits).
pub fn parse_int(s: &[u8], line: u64, field: &'static str) -> Result<i64, Error> {
    let t = trim(s);
    let (neg, digits) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let err = || {
        perr(
            line,
            field,
            format!("expected an integer, got {:?}", show(s)),
        )
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(err());
    }
    let mut v: i64 = 0;
    for &c in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((c - b'0') as i64))
            .ok_or_else(|| perr(line, field, format!("{:?} is out of range", show(s))))?;
    }
    Ok(if neg { -v } else { v })
}

/// Column positions by header name.
#[derive(Debug)]
pub struct Header<'a> {
    names: Vec<&'a [u8]>,
}

impl<'a> Header<'a> {
    /// Reads the header line.
    pub fn new(line: &'a [u8]) -> Header<'a> {
        let mut names = Vec::new();
        fields(line, &mut names);
        Header { names }
    }

    /// Position of column `name`, if present.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| *n == name.as_bytes())
    }

    /// Position of column `name`, or an error listing the header.
    pub fn require(&self, name: &'static str) -> Result<usize, Error> {
        self.find(name).ok_or_else(|| {
            let have: Vec<String> = self.names.iter().map(|n| show(n)).collect();
            perr(
                1,
                name,
                format!("missing column {name:?}; the header has {have:?}"),
            )
        })
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when the header has no columns.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Field `i` of a row, or an error naming the line and column.
pub fn col<'a>(
    row: &[&'a [u8]],
    i: usize,
    line: u64,
    field: &'static str,
    ncols: usize,
) -> Result<&'a [u8], Error> {
    row.get(i).copied().ok_or_else(|| {
        perr(
            line,
            field,
            format!("row has {} columns, the header {ncols}", row.len()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_unquote_and_trim() {
        let mut v = Vec::new();
        fields(b" a,\"b c\", 3 \r", &mut v);
        assert_eq!(v, vec![&b"a"[..], &b"b c"[..], &b"3"[..]]);
    }

    #[test]
    fn ints() {
        assert_eq!(parse_int(b" -42", 1, "x"), Ok(-42));
        assert!(parse_int(b"4.2", 3, "x").is_err());
        assert!(parse_int(b"", 3, "x").is_err());
        assert_eq!(
            parse_int(b"1723161253937085768", 3, "x"),
            Ok(1_723_161_253_937_085_768)
        );
        assert!(parse_int(b"92233720368547758070", 3, "x").is_err());
    }
}
