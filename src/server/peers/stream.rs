//! Reading items from, and batching writes to, one peer socket.

use crate::jute::DecodeError;
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;

/// Bytes asked of the socket per read.
const READ_CHUNK_BYTES: usize = 64 * 1024;
/// A write batch stops growing past this many bytes (one packet may exceed it).
const WRITE_BATCH_BYTES_MAX: usize = 1 << 20;

/// Why reading a peer stream stopped.
#[derive(Debug)]
pub(super) enum ReadEnd {
    /// The peer closed the connection between items.
    Closed,
    /// The socket failed, or the peer closed it inside an item.
    Io(io::Error),
    /// The bytes are not the protocol.
    Bad(DecodeError),
}

impl std::fmt::Display for ReadEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadEnd::Closed => write!(f, "closed by the peer"),
            ReadEnd::Io(e) => write!(f, "{e}"),
            ReadEnd::Bad(e) => write!(f, "bad bytes: {e}"),
        }
    }
}

/// A socket's read half and the bytes read but not yet decoded.
pub(super) struct ItemReader {
    /// The socket.
    read: OwnedReadHalf,
    /// Bytes from the socket; `buf[start..]` are not decoded yet.
    buf: Vec<u8>,
    /// Where the undecoded bytes begin (kept so that decoding many small
    /// items does not move the buffer each time).
    start: usize,
}

impl ItemReader {
    /// A reader over `read` with nothing buffered.
    pub(super) fn new(read: OwnedReadHalf) -> ItemReader {
        ItemReader {
            read,
            buf: Vec::new(),
            start: 0,
        }
    }

    /// The next item: `decode` is given the undecoded bytes (the same front,
    /// growing, until it answers) and returns `Ok(None)` while the item is
    /// incomplete, or the item and the bytes it took.
    pub(super) async fn next<T>(
        &mut self,
        mut decode: impl FnMut(&[u8]) -> Result<Option<(T, usize)>, DecodeError>,
    ) -> Result<T, ReadEnd> {
        loop {
            if let Some((item, used)) = decode(&self.buf[self.start..]).map_err(ReadEnd::Bad)? {
                self.start += used;
                return Ok(item);
            }
            self.fill().await?;
        }
    }

    /// The next item if the bytes already read hold a whole one; never
    /// waits for the socket.
    pub(super) fn buffered<T>(
        &mut self,
        decode: impl FnOnce(&[u8]) -> Result<Option<(T, usize)>, DecodeError>,
    ) -> Result<Option<T>, ReadEnd> {
        match decode(&self.buf[self.start..]).map_err(ReadEnd::Bad)? {
            Some((item, used)) => {
                self.start += used;
                Ok(Some(item))
            }
            None => Ok(None),
        }
    }

    /// Reads more bytes, first dropping the decoded ones if they are most of the buffer.
    async fn fill(&mut self) -> Result<(), ReadEnd> {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.reserve(READ_CHUNK_BYTES);
        match self.read.read_buf(&mut self.buf).await {
            Ok(0) if self.start == self.buf.len() => Err(ReadEnd::Closed),
            Ok(0) => Err(ReadEnd::Io(io::ErrorKind::UnexpectedEof.into())),
            Ok(_) => Ok(()),
            Err(e) => Err(ReadEnd::Io(e)),
        }
    }
}

/// Writes what arrives on `queue` to `write` until the queue closes: each
/// batch is every item queued by then (up to [`WRITE_BATCH_BYTES_MAX`]),
/// encoded by `encode` into one buffer and written with one `write_all`.
pub(super) async fn write_batches<T>(
    mut write: OwnedWriteHalf,
    mut queue: mpsc::Receiver<T>,
    encode: fn(&mut Vec<u8>, &T),
) -> io::Result<()> {
    let mut batch = Vec::new();
    while let Some(first) = queue.recv().await {
        batch.clear();
        encode(&mut batch, &first);
        while batch.len() < WRITE_BATCH_BYTES_MAX {
            let Ok(next) = queue.try_recv() else { break };
            encode(&mut batch, &next);
        }
        write.write_all(&batch).await?;
    }
    write.shutdown().await
}
