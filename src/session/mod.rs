//! Sessions: ids, passwords, timeouts and expiry by tick buckets.
//!
//! This is ZooKeeper's `SessionTrackerImpl` with its `ExpiryQueue`, sans-IO:
//! the server passes the current time in as `now_ms` (a monotonic clock in
//! milliseconds) and asks [`SessionTracker::next_expiry_ms`] when to call
//! [`SessionTracker::expire`] next. Session ids and passwords are computed
//! exactly as ZooKeeper computes them, so a Paddock server and an Apache
//! ZooKeeper server agree on both.
//!
//! # Layout
//! - `password`: [`session_password`] and [`check_password`] (java.util.Random).
//! - `tracker`: [`SessionTracker`] and [`initial_session_id`].

mod password;
mod tracker;

pub use password::{check_password, session_password, PASSWORD_LEN};
pub use tracker::{initial_session_id, SessionTracker};
