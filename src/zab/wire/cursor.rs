//! A reader over the front of a buffer that may not yet hold a whole item:
//! running out of bytes is [`Stop::More`] (read more and retry), anything else
//! that is wrong is [`Stop::Bad`].

use crate::jute::DecodeError;

/// Why reading stopped.
#[derive(Debug)]
pub(super) enum Stop {
    /// The buffer ends inside the item.
    More,
    /// The bytes can never form a valid item.
    Bad(DecodeError),
}

impl Stop {
    /// A [`Stop::Bad`] of `e`.
    pub(super) fn bad(e: DecodeError) -> Stop {
        Stop::Bad(e)
    }

    /// The error for a payload known to be complete: running out is truncation.
    pub(super) fn into_complete(self) -> DecodeError {
        match self {
            Stop::More => DecodeError::Truncated,
            Stop::Bad(e) => e,
        }
    }
}

/// Big-endian reads from `buf`, advancing `pos`.
pub(super) struct Cursor<'a> {
    /// Everything buffered so far.
    buf: &'a [u8],
    /// The next byte to read.
    pub(super) pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `buf`.
    pub(super) fn new(buf: &'a [u8]) -> Cursor<'a> {
        Cursor { buf, pos: 0 }
    }

    /// A cursor at `pos` in `buf`.
    pub(super) fn at(buf: &'a [u8], pos: usize) -> Cursor<'a> {
        Cursor { buf, pos }
    }

    /// Runs `item` from the start: `Ok(None)` if the buffer ends inside it,
    /// else the value and the bytes it took.
    pub(super) fn run<T>(
        mut self,
        item: impl FnOnce(&mut Self) -> Result<T, Stop>,
    ) -> Result<Option<(T, usize)>, DecodeError> {
        match item(&mut self) {
            Ok(v) => Ok(Some((v, self.pos))),
            Err(Stop::More) => Ok(None),
            Err(Stop::Bad(e)) => Err(e),
        }
    }

    /// The next `n` bytes.
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], Stop> {
        let end = self.pos.checked_add(n).ok_or(Stop::More)?;
        let bytes = self.buf.get(self.pos..end).ok_or(Stop::More)?;
        self.pos = end;
        Ok(bytes)
    }

    /// The next `int`.
    pub(super) fn i32(&mut self) -> Result<i32, Stop> {
        Ok(i32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    /// The next `long`.
    pub(super) fn i64(&mut self) -> Result<i64, Stop> {
        Ok(i64::from_be_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    /// The next `buffer` or `ustring` (`None` for null), refusing a length
    /// below −1 or above `max`.
    pub(super) fn buffer(&mut self, max: usize) -> Result<Option<&'a [u8]>, Stop> {
        match self.i32()? {
            -1 => Ok(None),
            n if n < 0 || n as usize > max => Err(Stop::Bad(DecodeError::BadLength(n as i64))),
            n => self.take(n as usize).map(Some),
        }
    }

    /// The next `ustring`, null read as empty, refusing invalid UTF-8.
    pub(super) fn ustring(&mut self, max: usize) -> Result<&'a str, Stop> {
        let bytes = self.buffer(max)?.unwrap_or_default();
        std::str::from_utf8(bytes).map_err(|_| Stop::Bad(DecodeError::BadUtf8))
    }

    /// Skips a `vector<ACL>` (null as empty), refusing a count below −1.
    pub(super) fn skip_acls(&mut self, field_max: usize) -> Result<(), Stop> {
        let count = self.i32()?;
        if count < -1 {
            return Err(Stop::Bad(DecodeError::BadLength(count as i64)));
        }
        for _ in 0..count.max(0) {
            self.take(4)?;
            self.buffer(field_max)?;
            self.buffer(field_max)?;
        }
        Ok(())
    }
}
