//! Jute, ZooKeeper's record serialization: big-endian primitives, length-prefixed
//! strings and buffers (length −1 = null), count-prefixed vectors, and records
//! written field after field with no tags.
//!
//! Decoding uses nom over a complete frame (`nom::number::complete`): a record that
//! runs past the end of its frame is an error, never a request for more bytes,
//! because framing (`proto::frame`) has already buffered the whole frame.
//! Encoding appends to a `Vec<u8>` with byteorder.
//!
//! `zookeeper.jute` is the truth for every record; [`records`] mirrors it.

pub mod records;
#[cfg(test)]
mod tests;

use byteorder::{BigEndian, WriteBytesExt};
use nom::number::complete::{be_i32, be_i64, be_u8};

/// The nom result every Jute reader returns: the rest of the input and the value.
pub type JResult<'a, T> = nom::IResult<&'a [u8], T, DecodeError>;

/// Why a Jute decode failed. The frame that held it is unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The record needs more bytes than its frame holds.
    Truncated,
    /// A string, buffer or vector length is negative (other than −1) or larger
    /// than the bytes that remain; ZooKeeper's "Unreasonable length".
    BadLength(i64),
    /// A string is not valid UTF-8.
    BadUtf8,
    /// Bytes remain after the last field of a record that must fill its frame,
    /// or a value is outside its domain (e.g. an unknown multi op).
    Invalid(&'static str),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Truncated => write!(f, "record truncated"),
            DecodeError::BadLength(n) => write!(f, "unreasonable length {n}"),
            DecodeError::BadUtf8 => write!(f, "string is not valid UTF-8"),
            DecodeError::Invalid(what) => write!(f, "invalid record: {what}"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl<'a> nom::error::ParseError<&'a [u8]> for DecodeError {
    fn from_error_kind(_input: &'a [u8], _kind: nom::error::ErrorKind) -> Self {
        DecodeError::Truncated
    }
    fn append(_input: &'a [u8], _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

/// Lifts a [`DecodeError`] into nom's failure form.
pub fn fail<T>(e: DecodeError) -> JResult<'static, T> {
    Err(nom::Err::Error(e))
}

/// Turns a nom result into a plain one, for callers outside nom parsers.
pub fn finish<T>(r: JResult<'_, T>) -> Result<T, DecodeError> {
    match r {
        Ok((_, v)) => Ok(v),
        Err(nom::Err::Error(e)) | Err(nom::Err::Failure(e)) => Err(e),
        Err(nom::Err::Incomplete(_)) => Err(DecodeError::Truncated),
    }
}

/// Decodes one whole record from `bytes`, refusing trailing bytes.
pub fn decode_exact<T: Record>(bytes: &[u8]) -> Result<T, DecodeError> {
    match T::read(bytes) {
        Ok(([], v)) => Ok(v),
        Ok(_) => Err(DecodeError::Invalid("trailing bytes after record")),
        Err(nom::Err::Error(e)) | Err(nom::Err::Failure(e)) => Err(e),
        Err(nom::Err::Incomplete(_)) => Err(DecodeError::Truncated),
    }
}

/// Encodes a record into a fresh buffer.
pub fn encode<T: Record>(r: &T) -> Vec<u8> {
    let mut out = Vec::new();
    r.write(&mut out);
    out
}

/// Runs `fill` on a fresh buffer and returns it.
pub fn encode_with(fill: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    fill(&mut out);
    out
}

/// A Jute record or field: knows how to read itself from and write itself to bytes.
pub trait Record: Sized {
    /// Reads the value from the front of `input`.
    fn read(input: &[u8]) -> JResult<'_, Self>;
    /// Appends the value's bytes to `out`.
    fn write(&self, out: &mut Vec<u8>);
}

impl Record for i32 {
    fn read(input: &[u8]) -> JResult<'_, Self> {
        be_i32(input)
    }
    fn write(&self, out: &mut Vec<u8>) {
        out.write_i32::<BigEndian>(*self).expect("Vec write");
    }
}

impl Record for i64 {
    fn read(input: &[u8]) -> JResult<'_, Self> {
        be_i64(input)
    }
    fn write(&self, out: &mut Vec<u8>) {
        out.write_i64::<BigEndian>(*self).expect("Vec write");
    }
}

impl Record for bool {
    /// Any non-zero byte is true, as Java's `readBoolean`.
    fn read(input: &[u8]) -> JResult<'_, Self> {
        let (rest, b) = be_u8(input)?;
        Ok((rest, b != 0))
    }
    fn write(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

/// Reads a length prefix for a string or buffer: `None` for −1 (null), the
/// length otherwise. A length below −1 or beyond the remaining input fails.
fn read_len(input: &[u8]) -> JResult<'_, Option<usize>> {
    let (rest, len) = be_i32(input)?;
    match len {
        -1 => Ok((rest, None)),
        n if n < 0 => fail(DecodeError::BadLength(n as i64)),
        n if n as usize > rest.len() => fail(DecodeError::BadLength(n as i64)),
        n => Ok((rest, Some(n as usize))),
    }
}

/// A Jute `buffer` that may be null (length −1). Null and empty are different
/// values: ZooKeeper stores and returns null node data as length −1.
impl Record for Option<Vec<u8>> {
    fn read(input: &[u8]) -> JResult<'_, Self> {
        let (rest, data) = read_buffer(input)?;
        Ok((rest, data.map(<[u8]>::to_vec)))
    }
    fn write(&self, out: &mut Vec<u8>) {
        write_buffer(out, self.as_deref());
    }
}

/// Reads a Jute `buffer` (null as `None`) without copying it.
pub fn read_buffer(input: &[u8]) -> JResult<'_, Option<&[u8]>> {
    let (rest, len) = read_len(input)?;
    match len {
        None => Ok((rest, None)),
        Some(n) => Ok((&rest[n..], Some(&rest[..n]))),
    }
}

/// Appends a Jute `buffer` (null as length −1).
pub fn write_buffer(out: &mut Vec<u8>, data: Option<&[u8]>) {
    match data {
        None => (-1i32).write(out),
        Some(d) => {
            (d.len() as i32).write(out);
            out.extend_from_slice(d);
        }
    }
}

/// A Jute `ustring` that may be null. Bytes that are not UTF-8 decode as
/// Java's `new String(bytes, UTF_8)` decodes them: each maximal ill-formed
/// subsequence becomes U+FFFD (a character path validation then refuses).
impl Record for Option<String> {
    fn read(input: &[u8]) -> JResult<'_, Self> {
        let (rest, len) = read_len(input)?;
        match len {
            None => Ok((rest, None)),
            Some(n) => {
                let s = String::from_utf8_lossy(&rest[..n]).into_owned();
                Ok((&rest[n..], Some(s)))
            }
        }
    }
    fn write(&self, out: &mut Vec<u8>) {
        write_ustring(out, self.as_deref());
    }
}

/// A Jute `ustring` where null reads as the empty string (paths, schemes, ids:
/// ZooKeeper treats a null there like an empty one, which then fails validation).
impl Record for String {
    fn read(input: &[u8]) -> JResult<'_, Self> {
        let (rest, s) = Option::<String>::read(input)?;
        Ok((rest, s.unwrap_or_default()))
    }
    fn write(&self, out: &mut Vec<u8>) {
        write_ustring(out, Some(self));
    }
}

/// Appends a Jute `ustring` (null as length −1).
pub fn write_ustring(out: &mut Vec<u8>, s: Option<&str>) {
    write_buffer(out, s.map(str::as_bytes));
}

/// Marks the types that may be elements of a Jute `vector`. Bytes are not:
/// a vector of bytes is written as a `buffer`.
pub trait VectorElement: Record {}
impl VectorElement for String {}
impl VectorElement for i64 {}

/// A Jute `vector`; null (count −1) reads as empty. The count is not trusted
/// for allocation: the up-front reservation, in bytes, never exceeds the bytes
/// left in the frame, whatever the element's in-memory size; beyond that the
/// vector grows only as elements actually decode.
impl<T: VectorElement> Record for Vec<T> {
    fn read(input: &[u8]) -> JResult<'_, Self> {
        let (mut rest, count) = be_i32(input)?;
        if count < -1 {
            return fail(DecodeError::BadLength(count as i64));
        }
        let count = count.max(0) as usize;
        let fits_in_input = rest.len() / std::mem::size_of::<T>().max(1);
        let mut items = Vec::with_capacity(count.min(fits_in_input));
        for _ in 0..count {
            let (r, item) = T::read(rest)?;
            items.push(item);
            rest = r;
        }
        Ok((rest, items))
    }
    fn write(&self, out: &mut Vec<u8>) {
        (self.len() as i32).write(out);
        for item in self {
            item.write(out);
        }
    }
}

/// Declares a Jute record: a plain struct with public fields in schema order and
/// its [`Record`] implementation, which reads and writes the fields in that order.
#[macro_export]
macro_rules! jute_record {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
        }
        impl $crate::jute::Record for $name {
            #[allow(unused_variables)]
            fn read(input: &[u8]) -> $crate::jute::JResult<'_, Self> {
                $(let (input, $field) = <$ty as $crate::jute::Record>::read(input)?;)*
                Ok((input, Self { $($field,)* }))
            }
            #[allow(unused_variables)]
            fn write(&self, out: &mut Vec<u8>) {
                $($crate::jute::Record::write(&self.$field, out);)*
            }
        }
    };
}
