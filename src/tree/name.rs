//! A name as a child set keeps it: up to [`INLINE_MAX`] bytes in the value
//! itself, longer ones shared on the heap.
//!
//! Most child names are short (`c-0000000042`, `lock-`, a host:port). Kept
//! inline, such a name costs no allocation of its own (32 bytes each on the
//! heap as an `Arc<str>`), and a table that grows, or a listing of the set,
//! reads it where the entry is instead of following a pointer per name
//! (one cache miss each: a 1,000,000-child set spent most of a rehash, and
//! of a listing, on them).
//!
//! A name is two words: a child-set entry (name, insertion sequence, hash,
//! node) is then 32 bytes, and a table at its usual load holds ~2 buckets
//! per name (a 1,000,000-child set: 2^21 buckets, 16 MiB less than with
//! three-word names). Longer names share one allocation with a count of
//! their holders ([`SharedName`], a thin `Arc<str>`).

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicUsize, Ordering};

/// The longest name kept inline.
const INLINE_MAX: usize = 14;

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
    Shared(SharedName),
}

// Two words: the tag and the inline name fill the first, a shared name's
// pointer the second.
const _: () = assert!(std::mem::size_of::<Name>() == 16);

impl From<&str> for Name {
    fn from(name: &str) -> Name {
        if name.len() > INLINE_MAX {
            return Name::Shared(SharedName::new(name));
        }
        let mut bytes = [0; INLINE_MAX];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Name::Inline {
            len: name.len() as u8,
            bytes,
        }
    }
}

/// An immutable string in one allocation with the count of its holders
/// (the count, the length, then the bytes): an `Arc<str>` in one word.
pub struct SharedName(NonNull<SharedHeader>);

/// The front of a [`SharedName`]'s allocation; the bytes follow it.
#[repr(C)]
struct SharedHeader {
    /// Holders of the allocation; the last to drop frees it.
    holders: AtomicUsize,
    /// Length of the string in bytes.
    len: usize,
}

// SAFETY: the string never changes and the holder count is atomic, as in
// Arc<str>.
unsafe impl Send for SharedName {}
// SAFETY: as for Send.
unsafe impl Sync for SharedName {}

/// The allocation of a [`SharedName`] of `len` bytes.
fn shared_layout(len: usize) -> Layout {
    let (layout, _) = Layout::new::<SharedHeader>()
        .extend(Layout::array::<u8>(len).expect("name length"))
        .expect("name layout");
    layout.pad_to_align()
}

impl SharedName {
    /// A copy of `name`, held once.
    fn new(name: &str) -> SharedName {
        let layout = shared_layout(name.len());
        // SAFETY: the layout is at least a header, so not zero-sized.
        let Some(ptr) = NonNull::new(unsafe { alloc(layout) }.cast::<SharedHeader>()) else {
            handle_alloc_error(layout)
        };
        // SAFETY: the allocation holds a header and then `name.len()` bytes;
        // `name` cannot overlap a fresh allocation.
        unsafe {
            ptr.as_ptr().write(SharedHeader {
                holders: AtomicUsize::new(1),
                len: name.len(),
            });
            let bytes = ptr.as_ptr().add(1).cast::<u8>();
            std::ptr::copy_nonoverlapping(name.as_ptr(), bytes, name.len());
        }
        SharedName(ptr)
    }

    fn header(&self) -> &SharedHeader {
        // SAFETY: the header lives while any holder does, and `self` is one.
        unsafe { self.0.as_ref() }
    }

    fn as_str(&self) -> &str {
        // SAFETY: `new` copied a whole `str` of `len` bytes right after the
        // header, and it lives while `self` does.
        unsafe {
            let bytes = self.0.as_ptr().add(1).cast::<u8>();
            let len = self.header().len;
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(bytes, len))
        }
    }
}

impl Clone for SharedName {
    /// Another holder of the same allocation.
    fn clone(&self) -> SharedName {
        // Relaxed, as Arc: a new holder is made from an existing one, which
        // keeps the allocation alive meanwhile.
        let before = self.header().holders.fetch_add(1, Ordering::Relaxed);
        if before > isize::MAX as usize {
            std::process::abort();
        }
        SharedName(self.0)
    }
}

impl Drop for SharedName {
    /// Frees the allocation when the last holder drops it.
    fn drop(&mut self) {
        if self.header().holders.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // Every other holder's use happens before the free (as Arc).
        fence(Ordering::Acquire);
        let layout = shared_layout(self.header().len);
        // SAFETY: this was the last holder; the allocation came from `new`
        // with this layout.
        unsafe { dealloc(self.0.as_ptr().cast::<u8>(), layout) }
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
            Name::Shared(name) => name.as_str(),
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
            "ünïcödé names can be long",
            &"y".repeat(INLINE_MAX),
            &long,
        ] {
            let name = Name::from(s);
            assert_eq!(&*name, s);
            assert_eq!(hasher.hash_one(&name), hasher.hash_one(s), "{s}");
            assert_eq!(name, Name::from(s));
            assert_eq!(format!("{name:?}"), format!("{s:?}"));
            assert_eq!(name.clone(), name);
            let moved = name.clone();
            drop(name);
            assert_eq!(&*moved, s, "a clone outlives the original");
        }
        assert!(matches!(
            Name::from(&*"y".repeat(INLINE_MAX)),
            Name::Inline { .. }
        ));
        assert!(matches!(Name::from(&*long), Name::Shared(_)));
        assert_ne!(Name::from("a"), Name::from("b"));
    }

    #[test]
    fn a_shared_name_is_held_and_released_across_threads() {
        let name = Name::from("a-name-longer-than-inline-0000000001");
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let mine = name.clone();
                std::thread::spawn(move || {
                    let copies: Vec<Name> = (0..1000).map(|_| mine.clone()).collect();
                    copies.iter().all(|c| **c == *mine)
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().unwrap());
        }
        let Name::Shared(shared) = &name else {
            panic!("not shared")
        };
        assert_eq!(shared.header().holders.load(Ordering::Relaxed), 1);
    }
}
