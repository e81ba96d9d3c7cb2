//! A name as a child set keeps it: up to [`INLINE_MAX`] bytes in the value
//! itself, longer ones shared on the heap.
//!
//! Most child names are short (`c-0000000042`, `lock-`, a host:port). Kept
//! inline, such a name costs no allocation of its own (32 bytes each on the
//! heap as an `Arc<str>`), and a table that grows, or a listing of the set,
//! reads it where the entry is instead of following a pointer per name
//! (one cache miss each: a 1,000,000-child set spent most of a rehash, and
//! of a listing, on them).

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// The longest name kept inline.
const INLINE_MAX: usize = 22;

/// A name (UTF-8); compares, hashes and borrows as its `str`.
#[derive(Clone)]
pub enum Name {
    /// `bytes[..len]` is the name.
    Inline {
        /// Bytes used.
        len: u8,
        /// The name, then zeros.
        bytes: [u8; INLINE_MAX],
    },
    /// A name longer than [`INLINE_MAX`] bytes.
    Shared(Arc<str>),
}

// Three words, as the `Arc<str>` and padding it replaces in a table entry.
const _: () = assert!(std::mem::size_of::<Name>() == 24);

impl From<&str> for Name {
    fn from(name: &str) -> Name {
        if name.len() > INLINE_MAX {
            return Name::Shared(name.into());
        }
        let mut bytes = [0; INLINE_MAX];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Name::Inline {
            len: name.len() as u8,
            bytes,
        }
    }
}

impl Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Name::Inline { len, bytes } => {
                let used = &bytes[..*len as usize];
                // SAFETY: `used` is a whole `str` copied in by `from`.
                unsafe { std::str::from_utf8_unchecked(used) }
            }
            Name::Shared(name) => name,
        }
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self
    }
}

impl Hash for Name {
    /// As the `str`, so that a table of names is searched by `&str`.
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        **self == **other
    }
}

impl Eq for Name {}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn short_and_long_names_read_back_hash_and_compare_as_their_str() {
        let hasher = std::collections::hash_map::RandomState::new();
        let long = "x".repeat(INLINE_MAX + 1);
        for s in [
            "",
            "a",
            "c-0000000042",
            "héllo wörld",
            &"y".repeat(INLINE_MAX),
            &long,
        ] {
            let name = Name::from(s);
            assert_eq!(&*name, s);
            assert_eq!(hasher.hash_one(&name), hasher.hash_one(s), "{s}");
            assert_eq!(name, Name::from(s));
            assert_eq!(name.clone(), name);
            assert_eq!(format!("{name:?}"), format!("{s:?}"));
        }
        assert!(matches!(
            Name::from(&*"y".repeat(INLINE_MAX)),
            Name::Inline { .. }
        ));
        assert!(matches!(Name::from(&*long), Name::Shared(_)));
        assert_ne!(Name::from("a"), Name::from("b"));
    }
}
