//! Every record of `zookeeper.jute` (ZooKeeper 3.8/3.9), field for field.
//!
//! Field types follow the schema: `int` → `i32`, `long` → `i64`, `boolean` →
//! `bool`, `ustring` → `String` (null reads as ""), `buffer` → `Option<Vec<u8>>`
//! (null survives: ZooKeeper tells null node data from empty), `vector<T>` →
//! `Vec<T>` (null reads as empty). Records written by hand in Java (connect
//! handshake with its optional trailing flag, multi) live in `proto`.

use super::VectorElement;
use crate::jute_record;

// ---- org.apache.zookeeper.data ----

jute_record!(
    /// An identity: a scheme ("world", "digest", "ip", "auth", "sasl", "super") and its id.
    Id { scheme: String, id: String }
);
jute_record!(
    /// One ACL entry: permission bits (READ 1, WRITE 2, CREATE 4, DELETE 8, ADMIN 16) for an identity.
    Acl { perms: i32, id: Id }
);
jute_record!(
    /// The node metadata clients see (68 bytes on the wire).
    Stat {
        czxid: i64, mzxid: i64, ctime: i64, mtime: i64, version: i32, cversion: i32,
        aversion: i32, ephemeral_owner: i64, data_length: i32, num_children: i32, pzxid: i64,
    }
);
jute_record!(
    /// The node metadata a snapshot stores (60 bytes): no derived counts, and the
    /// persisted cversion, which counts child creations only.
    StatPersisted {
        czxid: i64, mzxid: i64, ctime: i64, mtime: i64, version: i32, cversion: i32,
        aversion: i32, ephemeral_owner: i64, pzxid: i64,
    }
);
jute_record!(
    /// One authenticated identity of a session, as whoAmI reports it.
    ClientInfo { auth_scheme: String, user: String }
);
impl VectorElement for Id {}
impl VectorElement for Acl {}
impl VectorElement for ClientInfo {}

// ---- org.apache.zookeeper.proto ----

jute_record!(
    /// Re-registers watches after a reconnect (opcode 101, xid −8).
    SetWatches { relative_zxid: i64, data_watches: Vec<String>, exist_watches: Vec<String>, child_watches: Vec<String> }
);
jute_record!(
    /// Re-registers watches, persistent ones included (opcode 105, xid −8).
    SetWatches2 {
        relative_zxid: i64, data_watches: Vec<String>, exist_watches: Vec<String>, child_watches: Vec<String>,
        persistent_watches: Vec<String>, persistent_recursive_watches: Vec<String>,
    }
);
jute_record!(
    /// Precedes every request after the handshake.
    RequestHeader { xid: i32, r#type: i32 }
);
jute_record!(
    /// Precedes each op of a multi request or result; `type` −1 with `done` ends the list.
    MultiHeader { r#type: i32, done: bool, err: i32 }
);
jute_record!(
    /// `addauth` (opcode 100, xid −4).
    AuthPacket { r#type: i32, scheme: String, auth: Option<Vec<u8>> }
);
jute_record!(
    /// Precedes every reply and watch event (16 bytes).
    ReplyHeader { xid: i32, zxid: i64, err: i32 }
);
jute_record!(
    /// getData (4).
    GetDataRequest { path: String, watch: bool }
);
jute_record!(
    /// setData (5).
    SetDataRequest { path: String, data: Option<Vec<u8>>, version: i32 }
);
jute_record!(
    /// reconfig (16).
    ReconfigRequest { joining_servers: Option<String>, leaving_servers: Option<String>, new_members: Option<String>, cur_config_id: i64 }
);
jute_record!(
    /// Reply to setData.
    SetDataResponse { stat: Stat }
);
jute_record!(
    /// A SASL token from the client (opcode 102).
    GetSaslRequest { token: Option<Vec<u8>> }
);
jute_record!(
    /// A SASL token (schema record, not used on the client port).
    SetSaslRequest { token: Option<Vec<u8>> }
);
jute_record!(
    /// A SASL challenge from the server.
    SetSaslResponse { token: Option<Vec<u8>> }
);
jute_record!(
    /// create (1), create2 (15), createContainer (19).
    CreateRequest { path: String, data: Option<Vec<u8>>, acl: Vec<Acl>, flags: i32 }
);
jute_record!(
    /// createTTL (21).
    CreateTtlRequest { path: String, data: Option<Vec<u8>>, acl: Vec<Acl>, flags: i32, ttl: i64 }
);
jute_record!(
    /// delete (2).
    DeleteRequest { path: String, version: i32 }
);
jute_record!(
    /// getChildren (8).
    GetChildrenRequest { path: String, watch: bool }
);
jute_record!(
    /// getAllChildrenNumber (104).
    GetAllChildrenNumberRequest { path: String }
);
jute_record!(
    /// getChildren2 (12).
    GetChildren2Request { path: String, watch: bool }
);
jute_record!(
    /// check (13), inside multi.
    CheckVersionRequest { path: String, version: i32 }
);
jute_record!(
    /// Legacy schema record (no opcode uses it).
    GetMaxChildrenRequest { path: String }
);
jute_record!(
    /// Legacy schema record.
    GetMaxChildrenResponse { max: i32 }
);
jute_record!(
    /// Legacy schema record.
    SetMaxChildrenRequest { path: String, max: i32 }
);
jute_record!(
    /// sync (9).
    SyncRequest { path: String }
);
jute_record!(
    /// Reply to sync: echoes the path.
    SyncResponse { path: String }
);
jute_record!(
    /// getACL (6).
    GetAclRequest { path: String }
);
jute_record!(
    /// setACL (7).
    SetAclRequest { path: String, acl: Vec<Acl>, version: i32 }
);
jute_record!(
    /// Reply to setACL.
    SetAclResponse { stat: Stat }
);
jute_record!(
    /// addWatch (106); mode PERSISTENT 0, PERSISTENT_RECURSIVE 1.
    AddWatchRequest { path: String, mode: i32 }
);
jute_record!(
    /// A watch notification, after ReplyHeader xid −1.
    WatcherEvent { r#type: i32, state: i32, path: String }
);
jute_record!(
    /// An error code as a body (addWatch's reply, multi error results).
    ErrorResponse { err: i32 }
);
jute_record!(
    /// Reply to create.
    CreateResponse { path: String }
);
jute_record!(
    /// Reply to create2, createContainer, createTTL.
    Create2Response { path: String, stat: Stat }
);
jute_record!(
    /// exists (3).
    ExistsRequest { path: String, watch: bool }
);
jute_record!(
    /// Reply to exists.
    ExistsResponse { stat: Stat }
);
jute_record!(
    /// Reply to getData.
    GetDataResponse { data: Option<Vec<u8>>, stat: Stat }
);
jute_record!(
    /// Reply to getChildren.
    GetChildrenResponse { children: Vec<String> }
);
jute_record!(
    /// Reply to getAllChildrenNumber.
    GetAllChildrenNumberResponse { total_number: i32 }
);
jute_record!(
    /// Reply to getChildren2.
    GetChildren2Response { children: Vec<String>, stat: Stat }
);
jute_record!(
    /// Reply to getACL.
    GetAclResponse { acl: Vec<Acl>, stat: Stat }
);
jute_record!(
    /// checkWatches (17); type Children 1, Data 2, Any 3.
    CheckWatchesRequest { path: String, r#type: i32 }
);
jute_record!(
    /// removeWatches (18); type Children 1, Data 2, Any 3.
    RemoveWatchesRequest { path: String, r#type: i32 }
);
jute_record!(
    /// getEphemerals (103); a null prefix means all.
    GetEphemeralsRequest { prefix_path: Option<String> }
);
jute_record!(
    /// Reply to getEphemerals.
    GetEphemeralsResponse { ephemerals: Vec<String> }
);
jute_record!(
    /// Reply to whoAmI.
    WhoAmIResponse { client_info: Vec<ClientInfo> }
);

// ---- org.apache.zookeeper.server.quorum ----

jute_record!(
    /// Sent by a learner in FOLLOWERINFO / OBSERVERINFO.
    LearnerInfo { serverid: i64, protocol_version: i32, config_version: i64 }
);
jute_record!(
    /// Every message on the quorum port.
    QuorumPacket { r#type: i32, zxid: i64, data: Option<Vec<u8>>, authinfo: Vec<Id> }
);
jute_record!(
    /// Quorum SASL handshake.
    QuorumAuthPacket { magic: i64, status: i32, token: Option<Vec<u8>> }
);

// ---- org.apache.zookeeper.server.persistence ----

jute_record!(
    /// Header of a log or snapshot file.
    FileHeader { magic: i32, version: i32, dbid: i64 }
);

// ---- org.apache.zookeeper.txn ----

jute_record!(
    /// The tree digest carried after a txn.
    TxnDigest { version: i32, tree_digest: i64 }
);
jute_record!(
    /// Precedes every txn (32 bytes): session, client xid, zxid, leader time (ms), type.
    TxnHeader { client_id: i64, cxid: i32, zxid: i64, time: i64, r#type: i32 }
);
jute_record!(
    /// Create txn of ZooKeeper 3.3 and before (read only).
    CreateTxnV0 { path: String, data: Option<Vec<u8>>, acl: Vec<Acl>, ephemeral: bool }
);
jute_record!(
    /// create / create2: parentCVersion is the parent's persisted cversion after this create.
    CreateTxn { path: String, data: Option<Vec<u8>>, acl: Vec<Acl>, ephemeral: bool, parent_c_version: i32 }
);
jute_record!(
    /// createTTL.
    CreateTtlTxn { path: String, data: Option<Vec<u8>>, acl: Vec<Acl>, parent_c_version: i32, ttl: i64 }
);
jute_record!(
    /// createContainer.
    CreateContainerTxn { path: String, data: Option<Vec<u8>>, acl: Vec<Acl>, parent_c_version: i32 }
);
jute_record!(
    /// delete / deleteContainer.
    DeleteTxn { path: String }
);
jute_record!(
    /// setData: `version` is the node's new version.
    SetDataTxn { path: String, data: Option<Vec<u8>>, version: i32 }
);
jute_record!(
    /// check, inside multi.
    CheckVersionTxn { path: String, version: i32 }
);
jute_record!(
    /// setACL: `version` is the node's new aversion.
    SetAclTxn { path: String, acl: Vec<Acl>, version: i32 }
);
jute_record!(
    /// Legacy schema record.
    SetMaxChildrenTxn { path: String, max: i32 }
);
jute_record!(
    /// createSession: the negotiated timeout.
    CreateSessionTxn { time_out: i32 }
);
jute_record!(
    /// closeSession: the ephemerals to delete.
    CloseSessionTxn { paths2_delete: Vec<String> }
);
jute_record!(
    /// A failed op (in multi) or a failed write.
    ErrorTxn { err: i32 }
);
jute_record!(
    /// One op of a MultiTxn: its type and its serialized txn record.
    Txn { r#type: i32, data: Option<Vec<u8>> }
);
jute_record!(
    /// multi.
    MultiTxn { txns: Vec<Txn> }
);
impl VectorElement for Txn {}
