//! The replicated command. A write request becomes a [`Txn`] in [`prep`]
//! (ZooKeeper's PrepRequestProcessor) and changes the tree in [`apply`]
//! (DataTree.processTxn). The Jute bytes of TxnHeader + body [+ TxnDigest]
//! are the one encoding used everywhere: proposal payload, log record body,
//! input of apply — laid out as ZooKeeper 3.6+'s `SerializeUtils.serializeRequest`
//! and `Util.marshallTxnEntry` write them, so proposals and log files carry
//! over between Paddock and ZooKeeper members in both directions:
//!
//! ```text
//! txn    = TxnHeader body [TxnDigest]
//! TxnDigest = version:int treeDigest:long     (12 bytes, version 2)
//! ```
//! The digest is the tree's digest after the txn (see [`crate::tree::digest`]):
//! the leader's prep computes it, every member compares it after applying.

pub mod apply;
pub mod prep;

use crate::jute::records::*;
use crate::jute::{DecodeError, Record};
use crate::proto::OpCode;

/// The body of a txn, by the record its type carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnBody {
    /// createSession (−10).
    CreateSession(CreateSessionTxn),
    /// closeSession (−11).
    CloseSession(CloseSessionTxn),
    /// create (1) and create2 (15).
    Create(CreateTxn),
    /// createTTL (21).
    CreateTtl(CreateTtlTxn),
    /// createContainer (19).
    CreateContainer(CreateContainerTxn),
    /// delete (2) and deleteContainer (20).
    Delete(DeleteTxn),
    /// setData (5) and reconfig (16).
    SetData(SetDataTxn),
    /// setACL (7).
    SetAcl(SetAclTxn),
    /// check (13), inside multi.
    Check(CheckVersionTxn),
    /// error (−1): a write that failed validation still takes a zxid.
    Error(ErrorTxn),
    /// multi (14): the sub-txns with their types.
    Multi(Vec<(i32, TxnBody)>),
}

impl TxnBody {
    /// Appends the body's Jute bytes.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            TxnBody::CreateSession(t) => t.write(out),
            TxnBody::CloseSession(t) => t.write(out),
            TxnBody::Create(t) => t.write(out),
            TxnBody::CreateTtl(t) => t.write(out),
            TxnBody::CreateContainer(t) => t.write(out),
            TxnBody::Delete(t) => t.write(out),
            TxnBody::SetData(t) => t.write(out),
            TxnBody::SetAcl(t) => t.write(out),
            TxnBody::Check(t) => t.write(out),
            TxnBody::Error(t) => t.write(out),
            TxnBody::Multi(subs) => {
                // MultiTxn { vector<Txn{int type; buffer data}> }, each sub-txn
                // written in place and its buffer length filled in after.
                (subs.len() as i32).write(out);
                for (ty, b) in subs {
                    ty.write(out);
                    let at = out.len();
                    0i32.write(out);
                    b.write(out);
                    let len = (out.len() - at - 4) as i32;
                    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
                }
            }
        }
    }

    /// Decodes a body of txn type `ty` from the front of `bytes`, returning the rest.
    pub fn read(ty: i32, bytes: &[u8]) -> Result<(TxnBody, &[u8]), DecodeError> {
        fn rd<T: Record>(
            b: &[u8],
            f: impl FnOnce(T) -> TxnBody,
        ) -> Result<(TxnBody, &[u8]), DecodeError> {
            match T::read(b) {
                Ok((rest, v)) => Ok((f(v), rest)),
                Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e),
                Err(nom::Err::Incomplete(_)) => Err(DecodeError::Truncated),
            }
        }
        use OpCode as O;
        match OpCode::from_i32(ty) {
            Some(O::CreateSession) => rd(bytes, TxnBody::CreateSession),
            Some(O::CloseSession) => rd(bytes, TxnBody::CloseSession),
            Some(O::Create | O::Create2) => rd(bytes, TxnBody::Create),
            Some(O::CreateTtl) => rd(bytes, TxnBody::CreateTtl),
            Some(O::CreateContainer) => rd(bytes, TxnBody::CreateContainer),
            Some(O::Delete | O::DeleteContainer) => rd(bytes, TxnBody::Delete),
            Some(O::SetData | O::Reconfig) => rd(bytes, TxnBody::SetData),
            Some(O::SetAcl) => rd(bytes, TxnBody::SetAcl),
            Some(O::Check) => rd(bytes, TxnBody::Check),
            Some(O::Error) => rd(bytes, TxnBody::Error),
            Some(O::Multi) => {
                let (multi, rest) = match MultiTxn::read(bytes) {
                    Ok((rest, m)) => (m, rest),
                    Err(nom::Err::Error(e) | nom::Err::Failure(e)) => return Err(e),
                    Err(nom::Err::Incomplete(_)) => return Err(DecodeError::Truncated),
                };
                let mut subs = Vec::with_capacity(multi.txns.len());
                for t in multi.txns {
                    // ZooKeeper never nests a multi; apply has no meaning for
                    // one, so a peer's or a file's bytes that do are refused.
                    if t.r#type == O::Multi as i32 {
                        return Err(DecodeError::Invalid("a multi inside a multi"));
                    }
                    let (body, _) = TxnBody::read(t.r#type, t.data.as_deref().unwrap_or_default())?;
                    subs.push((t.r#type, body));
                }
                Ok((TxnBody::Multi(subs), rest))
            }
            _ => Err(DecodeError::Invalid("unsupported txn type")),
        }
    }
}

/// Bytes of a TxnDigest record.
pub const TXN_DIGEST_LEN: usize = 12;

/// A txn: header (session, cxid, zxid, leader time, type), body, and the
/// tree digest it should leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Txn {
    /// Who asked, when, at which zxid, and the type that selects the body record.
    pub header: TxnHeader,
    /// The change itself.
    pub body: TxnBody,
    /// The tree's digest after this txn, as the leader's prep computed it;
    /// `None` when digests are off or the writer predates them (ZooKeeper
    /// before 3.6).
    pub digest: Option<TxnDigest>,
}

impl Txn {
    /// Appends TxnHeader + body + TxnDigest (if any).
    pub fn write(&self, out: &mut Vec<u8>) {
        self.header.write(out);
        self.body.write(out);
        if let Some(d) = &self.digest {
            d.write(out);
        }
    }

    /// The Jute bytes of the txn.
    pub fn to_bytes(&self) -> Vec<u8> {
        crate::jute::encode_with(|o| self.write(o))
    }

    /// Decodes a txn and the TxnDigest after its body, as ZooKeeper's
    /// `SerializeUtils.deserializeTxn` does: fewer than 12 bytes after the
    /// body mean no digest, and bytes after the digest are ignored — so no
    /// trailing bytes make a decodable txn fail. A closeSession whose body
    /// does not decode is one written without its paths (ZooKeeper before
    /// 3.6, or `zookeeper.closeSessionTxn.enabled=false`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Txn, DecodeError> {
        let (rest, header) = TxnHeader::read(bytes).map_err(|e| match e {
            nom::Err::Error(e) | nom::Err::Failure(e) => e,
            nom::Err::Incomplete(_) => DecodeError::Truncated,
        })?;
        let (body, rest) = match TxnBody::read(header.r#type, rest) {
            Err(_) if header.r#type == OpCode::CloseSession as i32 => {
                // ZooKeeper does not rewind after the failed read either, so
                // such a txn has no digest to read.
                let body = TxnBody::CloseSession(CloseSessionTxn {
                    paths2_delete: Vec::new(),
                });
                (body, &[][..])
            }
            r => r?,
        };
        let digest = match rest.get(..TXN_DIGEST_LEN).map(TxnDigest::read) {
            Some(Ok((_, d))) => Some(d),
            _ => None,
        };
        Ok(Txn {
            header,
            body,
            digest,
        })
    }
}

#[cfg(test)]
mod tests;
