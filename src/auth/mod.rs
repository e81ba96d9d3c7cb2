//! Authentication schemes and ACL validation (ZooKeeper's `server/auth`).
//!
//! Today this holds what create and setACL need to store ACLs exactly as
//! ZooKeeper does (`PrepRequestProcessor.fixupACL`): duplicate removal, `auth`
//! expansion and per-scheme id validation. Permission checks are not enforced yet.

use crate::jute::records::{Acl, Id};
use crate::proto::ErrorCode;

/// Schemes whose ids count as "authenticated" for `auth` expansion (not ip).
fn is_authenticated_scheme(scheme: &str) -> bool {
    matches!(scheme, "digest" | "sasl" | "x509" | "super")
}

/// Validates and expands an ACL list as ZooKeeper's fixupACL: an empty list,
/// an unknown scheme or a malformed id is InvalidACL; `auth` entries become one
/// entry per authenticated id of the session (InvalidACL when it has none);
/// duplicates are dropped, keeping the first.
pub fn fixup_acl(acl: &[Acl], session_ids: &[Id]) -> Result<Vec<Acl>, ErrorCode> {
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
            _ => return Err(ErrorCode::InvalidAcl),
        }
    }
    Ok(out)
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

/// An ip id is an IPv4 or IPv6 address with an optional `/bits` prefix length.
fn is_valid_ip_id(id: &str) -> bool {
    let (addr, bits) = match id.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (id, None),
    };
    let width = if let Some(w) = ipv4_width(addr) {
        w
    } else if addr.parse::<std::net::Ipv6Addr>().is_ok() {
        128
    } else {
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
    fn fixup_keeps_valid_ids_and_drops_duplicates() {
        let list = vec![
            acl(31, "world", "anyone"),
            acl(31, "world", "anyone"),
            acl(1, "ip", "10.0.0.0/8"),
            acl(3, "digest", "u:h"),
        ];
        assert_eq!(
            fixup_acl(&list, &[]).unwrap(),
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
            acl(1, "foo", "x"),
        ] {
            assert_eq!(
                fixup_acl(std::slice::from_ref(&bad), &[]),
                Err(ErrorCode::InvalidAcl),
                "{bad:?}"
            );
        }
        assert_eq!(fixup_acl(&[], &[]), Err(ErrorCode::InvalidAcl));
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
            fixup_acl(&[acl(31, "auth", "")], &ids).unwrap(),
            vec![acl(31, "digest", "u:h")]
        );
        assert_eq!(
            fixup_acl(&[acl(31, "auth", "")], &ids[..1]),
            Err(ErrorCode::InvalidAcl)
        );
    }
}

/// The digest identity for an `addauth digest user:password`:
/// `user:base64(sha1("user:password"))`. `None` when there is no ':'.
pub fn digest_id(user_password: &str) -> Option<String> {
    use base64::Engine;
    let (user, _) = user_password.split_once(':')?;
    let hash = sha1_smol::Sha1::from(user_password.as_bytes())
        .digest()
        .bytes();
    Some(format!(
        "{user}:{}",
        base64::engine::general_purpose::STANDARD.encode(hash)
    ))
}

/// The identity an AuthPacket adds to its connection, or `None` when ZooKeeper
/// answers AuthFailed (unknown scheme, malformed credentials).
pub fn authenticate(scheme: &str, auth: &[u8]) -> Option<Id> {
    match scheme {
        "digest" => {
            let text = std::str::from_utf8(auth).ok()?;
            Some(Id {
                scheme: "digest".into(),
                id: digest_id(text)?,
            })
        }
        _ => None,
    }
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
        assert_eq!(digest_id("u:p").unwrap(), "u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=");
        assert_eq!(digest_id("nocolon"), None);
    }
}
