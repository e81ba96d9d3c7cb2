//! The client protocol: opcodes and error codes, requests decoded from frames and
//! replies encoded into frames.
pub mod codes;
pub mod reply;
pub mod request;

pub use codes::{ErrorCode, OpCode};
pub use request::{
    decode_connect_request, decode_request, ConnectRequest, ConnectResponse, MultiOp, Request,
    RequestError,
};
