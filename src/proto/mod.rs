//! The client protocol: opcodes and error codes, requests decoded from frames and
//! replies encoded into them.
pub mod codes;

pub use codes::{ErrorCode, OpCode};
