//! Authentication schemes and ACL validation (ZooKeeper's `server/auth`).
//!
//! ACL lists are stored exactly as ZooKeeper stores them (`fixupACL`: duplicate
//! removal, `auth` expansion, per-scheme id validation) and checked as
//! `ZooKeeperServer.checkACL` checks them: world:anyone, digest ids by equality,
//! IPv4 ip ids by address or CIDR block (3.8.0 has no IPv6 ids), and a `super`
//! identity that passes every check.

pub mod sasl;

use crate::jute::records::{Acl, Id};
use crate::proto::ErrorCode;

/// Schemes whose ids count as "authenticated" for `auth` expansion: not ip,
/// and not `super`, which has no provider (ZooKeeper logs and skips it).
fn is_authenticated_scheme(scheme: &str) -> bool {
    matches!(scheme, "digest" | "sasl" | "x509")
}

/// Validates and expands an ACL list as ZooKeeper's fixupACL: an empty list,
/// an unknown scheme or a malformed id is InvalidACL; `auth` entries become one
/// entry per authenticated id of the session (InvalidACL when it has none);
/// duplicates are dropped, keeping the first. `sasl` ids (Kerberos-name
/// syntax) are valid only when `sasl_scheme` says SASLAuthenticationProvider
/// is registered (an `authProvider.N`).
pub fn fixup_acl(
    acl: &[Acl],
    session_ids: &[Id],
    sasl_scheme: bool,
) -> Result<Vec<Acl>, ErrorCode> {
    if acl.is_empty() {
        return Err(ErrorCode::InvalidAcl);
    }
    let mut unique: Vec<&Acl> = Vec::with_capacity(acl.len());
    for a in acl {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    let mut out = Vec::with_capacity(unique.len());
    for a in unique {
        match a.id.scheme.as_str() {
            "world" if a.id.id == "anyone" => out.push(a.clone()),
            "auth" => {
                let before = out.len();
                out.extend(
                    session_ids
                        .iter()
                        .filter(|id| is_authenticated_scheme(&id.scheme))
                        .map(|id| Acl {
                            perms: a.perms,
                            id: id.clone(),
                        }),
                );
                if out.len() == before {
                    return Err(ErrorCode::InvalidAcl);
                }
            }
            "digest" if is_valid_digest_id(&a.id.id) => out.push(a.clone()),
            "ip" if is_valid_ip_id(&a.id.id) => out.push(a.clone()),
            "sasl" if sasl_scheme && sasl::is_valid_id(&a.id.id) => out.push(a.clone()),
            _ => return Err(ErrorCode::InvalidAcl),
        }
    }
    Ok(out)
}

/// True when every session may do `perm` on a node whose ACL is `acl` (no
/// ACL, or world:anyone granted it): [`check_acl`] without the identities.
pub fn anyone_may(acl: &[Acl], perm: i32) -> bool {
    acl.is_empty() || acl.iter().any(|a| a.perms & perm != 0 && is_anyone(a))
}

/// Whether `a` names world:anyone.
fn is_anyone(a: &Acl) -> bool {
    a.id.scheme == "world" && a.id.id == "anyone"
}

/// True when `ids` may do `perm` on a node whose ACL is `acl`
/// (ZooKeeper's checkACL, without skipACL, which the caller applies).
pub fn check_acl(acl: &[Acl], perm: i32, ids: &[Id]) -> bool {
    if acl.is_empty() || ids.iter().any(|id| id.scheme == "super") {
        return true;
    }
    acl.iter().filter(|a| a.perms & perm != 0).any(|a| {
        if is_anyone(a) {
            return true;
        }
        ids.iter()
            .filter(|id| id.scheme == a.id.scheme)
            .any(|id| matches_id(&a.id.scheme, &id.id, &a.id.id))
    })
}

/// Whether the session identity `id` matches the ACL id `pattern` of `scheme`.
fn matches_id(scheme: &str, id: &str, pattern: &str) -> bool {
    match scheme {
        "ip" => ip_matches(id, pattern),
        // SASLAuthenticationProvider lets a sasl user named "super" match any sasl id.
        "sasl" => id == pattern || id == "super",
        "digest" | "x509" => id == pattern,
        _ => false,
    }
}

/// IPAuthenticationProvider.matches: the client address against `a.b.c.d[/bits]`.
fn ip_matches(client: &str, pattern: &str) -> bool {
    let (addr, bits) = match pattern.split_once('/') {
        Some((a, b)) => (a, b.parse::<u32>().ok()),
        None => (pattern, None),
    };
    let (Some(client), Some(net)) = (ipv4_bytes(client), ipv4_bytes(addr)) else {
        return false;
    };
    let bits = bits
        .unwrap_or(net.len() as u32 * 8)
        .min(net.len() as u32 * 8) as usize;
    (0..net.len()).all(|i| {
        let mask = match bits.saturating_sub(i * 8) {
            0 => 0u8,
            b if b >= 8 => 0xff,
            b => 0xffu8 << (8 - b),
        };
        client[i] & mask == net[i] & mask
    })
}

/// The four bytes of a dotted IPv4 address; `None` for anything else (IPv6 too).
fn ipv4_bytes(s: &str) -> Option<Vec<u8>> {
    ipv4_width(s)?;
    Some(
        s.split('.')
            .map(|p| p.parse::<u16>().unwrap_or(0) as u8)
            .collect(),
    )
}

/// The ACL list getACL shows a caller without ADMIN: digest ids masked to `user:x`.
pub fn mask_digests(acl: &[Acl]) -> Vec<Acl> {
    acl.iter()
        .map(|a| match (a.id.scheme.as_str(), a.id.id.split_once(':')) {
            ("digest", Some((user, _))) => Acl {
                perms: a.perms,
                id: Id {
                    scheme: "digest".into(),
                    id: format!("{user}:x"),
                },
            },
            _ => a.clone(),
        })
        .collect()
}

/// Java's `String.split(sep)` piece count: trailing empty pieces are dropped.
fn java_split_count(s: &str, sep: char) -> usize {
    let pieces: Vec<&str> = s.split(sep).collect();
    pieces
        .iter()
        .rposition(|p| !p.is_empty())
        .map_or(0, |i| i + 1)
}

/// A digest id is `user:hash`: exactly two pieces around ':'.
fn is_valid_digest_id(id: &str) -> bool {
    java_split_count(id, ':') == 2
}

/// An ip id is an IPv4 address with an optional `/bits` prefix length
/// (ZooKeeper 3.8.0 refuses IPv6 ids as InvalidACL).
fn is_valid_ip_id(id: &str) -> bool {
    let (addr, bits) = match id.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (id, None),
    };
    let Some(width) = ipv4_width(addr) else {
        return false;
    };
    match bits {
        None => true,
        Some(b) => b.parse::<i32>().is_ok_and(|n| (0..=width).contains(&n)),
    }
}

/// 32 if `addr` is four dot-separated decimal numbers 0..=255 (leading zeros allowed, as Java's parseInt).
fn ipv4_width(addr: &str) -> Option<i32> {
    let parts: Vec<&str> = addr.split('.').collect();
    let ok = parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u16>().is_ok_and(|n| n <= 255));
    ok.then_some(32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(perms: i32, scheme: &str, id: &str) -> Acl {
        Acl {
            perms,
            id: Id {
                scheme: scheme.into(),
                id: id.into(),
            },
        }
    }

    #[test]
    fn anyone_may_only_under_world_anyone_or_no_acl() {
        let read = crate::proto::codes::perms::READ;
        assert!(anyone_may(&[], read));
        assert!(anyone_may(&[acl(read, "world", "anyone")], read));
        assert!(!anyone_may(&[acl(2, "world", "anyone")], read));
        assert!(!anyone_may(
            &[acl(31, "digest", "u:x"), acl(31, "ip", "127.0.0.1")],
            read
        ));
        // Whatever anyone_may allows, check_acl allows for every identity.
        for a in [vec![], vec![acl(read, "world", "anyone")]] {
            assert!(check_acl(&a, read, &[]));
        }
    }

    #[test]
    fn fixup_keeps_valid_ids_and_drops_duplicates() {
        let list = vec![
            acl(31, "world", "anyone"),
            acl(31, "world", "anyone"),
            acl(1, "ip", "10.0.0.0/8"),
            acl(3, "digest", "u:h"),
        ];
        assert_eq!(
            fixup_acl(&list, &[], false).unwrap(),
            vec![list[0].clone(), list[2].clone(), list[3].clone()]
        );
    }

    #[test]
    fn fixup_rejects_bad_ids_and_unknown_schemes() {
        for bad in [
            acl(1, "world", "someone"),
            acl(1, "digest", "nohash"),
            acl(1, "digest", "u:"),
            acl(1, "ip", "1.2.3.4/33"),
            acl(1, "ip", "::1"),
            acl(1, "ip", "fe80::/16"),
            acl(1, "super", ""),
            acl(1, "foo", "x"),
            acl(1, "sasl", "a@b@c"),
            acl(1, "sasl", "a/b/c@R"),
        ] {
            assert_eq!(
                fixup_acl(std::slice::from_ref(&bad), &[], true),
                Err(ErrorCode::InvalidAcl),
                "{bad:?}"
            );
        }
        assert_eq!(fixup_acl(&[], &[], true), Err(ErrorCode::InvalidAcl));
        let bob = [acl(1, "sasl", "bob")];
        assert_eq!(fixup_acl(&bob, &[], false), Err(ErrorCode::InvalidAcl));
        assert_eq!(fixup_acl(&bob, &[], true).unwrap(), bob);
        let principal = [acl(1, "sasl", "zk/host@EXAMPLE.COM")];
        assert_eq!(fixup_acl(&principal, &[], true).unwrap(), principal);
    }

    #[test]
    fn auth_expands_to_authenticated_ids_only() {
        let ids = [
            Id {
                scheme: "ip".into(),
                id: "127.0.0.1".into(),
            },
            Id {
                scheme: "digest".into(),
                id: "u:h".into(),
            },
        ];
        assert_eq!(
            fixup_acl(&[acl(31, "auth", "")], &ids, false).unwrap(),
            vec![acl(31, "digest", "u:h")]
        );
        assert_eq!(
            fixup_acl(&[acl(31, "auth", "")], &ids[..1], false),
            Err(ErrorCode::InvalidAcl)
        );
    }
}

/// The digest identity for an `addauth digest user:password`:
/// `user:base64(sha1("user:password"))`, where `user` is the text before the
/// first ':' (all of it when there is none, as ZooKeeper's generateDigest).
pub fn digest_id(user_password: &str) -> String {
    use base64::Engine;
    let user = user_password
        .split_once(':')
        .map_or(user_password, |(user, _)| user);
    let hash = sha1_smol::Sha1::from(user_password.as_bytes())
        .digest()
        .bytes();
    format!(
        "{user}:{}",
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}

/// The identities an AuthPacket adds to its connection, or `None` when ZooKeeper
/// answers AuthFailed (unknown scheme, credentials that are not UTF-8). A digest equal to
/// the configured super digest also adds `super:` (first, as ZooKeeper does).
pub fn authenticate(scheme: &str, auth: &[u8], super_digest: Option<&str>) -> Option<Vec<Id>> {
    match scheme {
        "digest" => {
            let text = std::str::from_utf8(auth).ok()?;
            let digest = digest_id(text);
            let mut ids = Vec::with_capacity(2);
            if super_digest == Some(digest.as_str()) {
                ids.push(Id {
                    scheme: "super".into(),
                    id: String::new(),
                });
            }
            ids.push(Id {
                scheme: "digest".into(),
                id: digest,
            });
            Some(ids)
        }
        _ => None,
    }
}

/// Adds `id` to a connection's identities unless it is there, keeping them in
/// the order ZooKeeper's per-connection set (a `ConcurrentHashMap` key set)
/// iterates, which is the order whoAmI lists them and `auth` expands them in:
/// by hash bin, then by insertion within a bin. Tables grow at 3/4 load as
/// Java's do; the in-bin order a Java resize would shuffle is kept as inserted.
pub fn add_identity(ids: &mut Vec<Id>, id: Id) {
    if ids.contains(&id) {
        return;
    }
    ids.push(id);
    let bins = chm_table_len(ids.len());
    ids.sort_by_key(|id| chm_bin(id, bins));
}

/// The table length of a Java ConcurrentHashMap holding `count` keys: 16,
/// doubled whenever the count reaches three quarters of it.
fn chm_table_len(count: usize) -> u32 {
    let mut len = 16u32;
    while count >= (len - (len >> 2)) as usize {
        len *= 2;
    }
    len
}

/// The bin of `id` in a ConcurrentHashMap table of `bins` slots: the jute
/// `Id.hashCode` spread as `h ^ (h >>> 16)`, masked to the table.
fn chm_bin(id: &Id, bins: u32) -> u32 {
    let h = 37i32
        .wrapping_mul(
            37i32
                .wrapping_mul(17)
                .wrapping_add(java_string_hash(&id.scheme)),
        )
        .wrapping_add(java_string_hash(&id.id)) as u32;
    (h ^ (h >> 16)) & 0x7fff_ffff & (bins - 1)
}

/// Java's `String.hashCode`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 units, wrapping.
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// The `user` whoAmI reports for an identity: for digest the part before ':'.
pub fn who_am_i_user(id: &Id) -> String {
    match id.scheme.as_str() {
        "digest" => id.id.split(':').next().unwrap_or_default().to_owned(),
        _ => id.id.clone(),
    }
}

#[cfg(test)]
mod digest_tests {
    use super::*;

    #[test]
    fn digest_matches_zookeepers_value() {
        // Observed on ZooKeeper 3.8.0: addauth digest u:p gives this id.
        assert_eq!(digest_id("u:p"), "u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=");
        // Observed on ZooKeeper 3.8.0: no ':' is no failure, the user is the whole text.
        assert!(digest_id("nocolon").starts_with("nocolon:"));
        assert!(digest_id("a:b:c").starts_with("a:"));
    }

    fn id(scheme: &str, id: &str) -> Id {
        Id {
            scheme: scheme.into(),
            id: id.into(),
        }
    }

    #[test]
    fn super_digest_adds_super_first() {
        let ids = authenticate("digest", b"u:p", Some("u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=")).unwrap();
        assert_eq!(
            ids,
            vec![
                id("super", ""),
                id("digest", "u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=")
            ]
        );
        assert_eq!(authenticate("foo", b"x", None), None);
    }

    #[test]
    fn identities_keep_zookeepers_set_order() {
        // Orders observed in whoAmI on ZooKeeper 3.8.0.
        let mut ids = vec![id("ip", "127.0.0.1")];
        add_identity(&mut ids, id("super", ""));
        add_identity(&mut ids, id("digest", "super:lK75jTNcA+U9vtVEw5vB51mj/w4="));
        add_identity(&mut ids, id("super", ""));
        assert_eq!(
            ids,
            vec![
                id("super", ""),
                id("digest", "super:lK75jTNcA+U9vtVEw5vB51mj/w4="),
                id("ip", "127.0.0.1")
            ]
        );
        let mut ids = vec![id("ip", "127.0.0.1")];
        add_identity(&mut ids, id("digest", &digest_id("u:p")));
        assert_eq!(ids[0], id("ip", "127.0.0.1"));
        assert_eq!(java_string_hash("digest"), -1_331_913_276);
        assert_eq!(chm_table_len(11), 16);
        assert_eq!(chm_table_len(12), 32);
    }

    #[test]
    fn check_acl_follows_zookeeper() {
        let acl = vec![
            Acl {
                perms: 1,
                id: id("digest", "u:h"),
            },
            Acl {
                perms: 2,
                id: id("ip", "10.1.0.0/16"),
            },
        ];
        assert!(check_acl(&acl, 1, &[id("digest", "u:h")]));
        assert!(!check_acl(&acl, 2, &[id("digest", "u:h")]));
        assert!(check_acl(&acl, 2, &[id("ip", "10.1.200.3")]));
        assert!(!check_acl(&acl, 2, &[id("ip", "10.2.0.1")]));
        assert!(check_acl(&acl, 16, &[id("super", "")]));
        assert!(check_acl(&[], 16, &[]));
        let sasl = vec![Acl {
            perms: 1,
            id: id("sasl", "bob"),
        }];
        assert!(check_acl(&sasl, 1, &[id("sasl", "bob")]));
        assert!(check_acl(&sasl, 1, &[id("sasl", "super")]));
        assert!(!check_acl(
            &sasl,
            1,
            &[id("sasl", "eve"), id("digest", "bob")]
        ));
        let v6 = vec![Acl {
            perms: 1,
            id: id("ip", "fe80::/16"),
        }];
        assert!(!check_acl(&v6, 1, &[id("ip", "fe80::1")]));
    }

    #[test]
    fn digests_are_masked_for_callers_without_admin() {
        let acl = vec![
            Acl {
                perms: 3,
                id: id("digest", "bob:abc="),
            },
            Acl {
                perms: 1,
                id: id("world", "anyone"),
            },
        ];
        assert_eq!(mask_digests(&acl)[0].id.id, "bob:x");
        assert_eq!(mask_digests(&acl)[1], acl[1]);
    }
}
