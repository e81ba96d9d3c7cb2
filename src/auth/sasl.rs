//! SASL DIGEST-MD5 (RFC 2831) as ZooKeeper 3.8's server offers it.
//!
//! The users come from the `Server` section of the JAAS file named by
//! `java.security.auth.login.config` (options `user_<name>="password"`). The
//! exchange is the one a JDK `SaslServer` runs with realm and server name
//! `zk-sasl-md5` and protocol `zookeeper`: an empty first token gets the
//! challenge, the client's digest response gets `rspauth=…`, and the
//! connection gains `sasl:<user>`.

use md5::{Digest, Md5};
use std::collections::BTreeMap;

/// The realm and server name ZooKeeper gives its DIGEST-MD5 server.
pub const REALM: &str = "zk-sasl-md5";
/// The SASL protocol (service) name ZooKeeper uses.
pub const PROTOCOL: &str = "zookeeper";
/// Default JAAS section of the server (property `zookeeper.sasl.serverconfig`).
pub const DEFAULT_SERVER_SECTION: &str = "Server";

/// One login module entry of a JAAS section: its class, flag and options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JaasEntry {
    /// The login module class name.
    pub module: String,
    /// required, requisite, sufficient or optional.
    pub flag: String,
    /// `key=value` options, values unquoted.
    pub options: BTreeMap<String, String>,
    /// The 1-based line of the module's class name, for errors.
    pub line: usize,
}

/// Parses a JAAS login configuration file: `Name { module flag key=value…; … };`
/// with `//`, `/* */` and `#` comments and double-quoted values (backslash
/// escapes). Returns the entries of each section by name, or what is wrong.
pub fn parse_jaas(text: &str) -> Result<BTreeMap<String, Vec<JaasEntry>>, String> {
    let mut it = jaas_tokens(text)?.into_iter().peekable();
    let mut sections: BTreeMap<String, Vec<JaasEntry>> = BTreeMap::new();
    while let Some((name, _)) = it.next() {
        let name = name.word().ok_or("expected a section name")?;
        expect(&mut it, Token::Open)?;
        let entries = sections.entry(name).or_default();
        loop {
            match it.next() {
                Some((Token::Close, _)) => break,
                Some((Token::Word(module), line)) => {
                    entries.push(jaas_entry(module, line, &mut it)?)
                }
                _ => return Err("expected a login module or '}'".into()),
            }
        }
        expect(&mut it, Token::Semi)?;
    }
    Ok(sections)
}

/// Tokens with the 1-based line each starts on.
type Tokens = std::iter::Peekable<std::vec::IntoIter<(Token, usize)>>;

/// The rest of one login module entry after its class name, through its ';'.
fn jaas_entry(module: String, line: usize, it: &mut Tokens) -> Result<JaasEntry, String> {
    let flag = it
        .next()
        .and_then(|(t, _)| t.word())
        .ok_or("expected a control flag")?;
    let mut options = BTreeMap::new();
    loop {
        match it.next() {
            Some((Token::Semi, _)) => break,
            Some((Token::Word(key), _)) => {
                expect(it, Token::Equals)?;
                let value = match it.next() {
                    Some((Token::Word(v) | Token::Quoted(v), _)) => v,
                    _ => return Err(format!("expected a value for {key}")),
                };
                options.insert(key, value);
            }
            _ => return Err("expected an option or ';'".into()),
        }
    }
    Ok(JaasEntry {
        module,
        flag,
        options,
        line,
    })
}

/// Consumes the next token, which must be `want`.
fn expect(it: &mut Tokens, want: Token) -> Result<(), String> {
    match it.next() {
        Some((t, _)) if t == want => Ok(()),
        other => Err(format!(
            "expected {want:?}, found {:?}",
            other.map(|(t, _)| t)
        )),
    }
}

/// A lexical token of a JAAS file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Open,
    Close,
    Semi,
    Equals,
}

impl Token {
    /// The text of a bare word.
    fn word(self) -> Option<String> {
        match self {
            Token::Word(w) => Some(w),
            _ => None,
        }
    }
}

/// Splits a JAAS file into tokens, each with its line, dropping whitespace
/// and comments.
fn jaas_tokens(text: &str) -> Result<Vec<(Token, usize)>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    // The line of chars[counted]; counting only forward keeps this linear.
    let (mut line, mut counted) = (1, 0);
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        line += chars[counted..i].iter().filter(|&&c| c == '\n').count();
        counted = i;
        i += 1;
        let mut push = |t: Token| tokens.push((t, line));
        match c {
            _ if c.is_whitespace() => {}
            '#' => i = skip_past(&chars, i, "\n"),
            '/' if next == Some('/') => i = skip_past(&chars, i, "\n"),
            '/' if next == Some('*') => i = skip_past(&chars, i + 1, "*/"),
            '{' => push(Token::Open),
            '}' => push(Token::Close),
            ';' => push(Token::Semi),
            '=' => push(Token::Equals),
            '"' => {
                let (value, end) = quoted(&chars, i).ok_or("unterminated quoted value")?;
                push(Token::Quoted(value));
                i = end;
            }
            _ => {
                let start = i - 1;
                while i < chars.len() && !is_jaas_delimiter(chars[i]) {
                    i += 1;
                }
                push(Token::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(tokens)
}

/// Characters that end a bare word.
fn is_jaas_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '{' | '}' | ';' | '=' | '"')
}

/// The index just past the first `end` at or after `from` (the end of text when absent).
fn skip_past(chars: &[char], from: usize, end: &str) -> usize {
    let end: Vec<char> = end.chars().collect();
    (from..chars.len())
        .find(|&i| chars[i..].starts_with(&end))
        .map_or(chars.len(), |i| i + end.len())
}

/// A quoted string's unescaped text starting after its opening quote, and the
/// index past its closing quote; `None` when it is not closed.
fn quoted(chars: &[char], mut i: usize) -> Option<(String, usize)> {
    let mut out = String::new();
    while i < chars.len() {
        match chars[i] {
            '"' => return Some((out, i + 1)),
            '\\' if i + 1 < chars.len() => {
                out.push(chars[i + 1]);
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    None
}

/// The DIGEST-MD5 user database of a server: ZooKeeper's SaslServerCallbackHandler.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaslUsers {
    /// user → password, from every `user_<name>` option of the section.
    passwords: BTreeMap<String, String>,
    /// zookeeper.SASLAuthenticationProvider.superPassword: the password of user `super`.
    super_password: Option<String>,
}

impl SaslUsers {
    /// The users of JAAS section `section` of `jaas` (the text of the file):
    /// `Err` when the file does not parse (ZooKeeper's server refuses to start
    /// then), `None` when it has no such section (ZooKeeper runs without SASL).
    pub fn from_jaas(
        jaas: &str,
        section: &str,
        super_password: Option<String>,
    ) -> Result<Option<SaslUsers>, String> {
        let sections = parse_jaas(jaas)?;
        let Some(entries) = sections.get(section) else {
            return Ok(None);
        };
        let passwords = entries
            .iter()
            .flat_map(|e| &e.options)
            .filter_map(|(k, v)| Some((k.strip_prefix("user_")?.to_owned(), v.clone())))
            .collect();
        Ok(Some(SaslUsers {
            passwords,
            super_password,
        }))
    }

    /// The password of `user`: for `super` the superPassword property wins.
    fn password(&self, user: &str) -> Option<&str> {
        match (&self.super_password, self.passwords.get(user)) {
            (Some(p), _) if user == "super" => Some(p),
            (_, p) => p.map(String::as_str),
        }
    }
}

/// Whether `id` is a valid `sasl` ACL id: a Kerberos name, which is
/// `primary[/instance]@REALM` or, without '@', any text.
pub fn is_valid_id(id: &str) -> bool {
    let Some((name, realm)) = id.split_once('@') else {
        return true;
    };
    let primary_instance_ok = match name.split_once('/') {
        Some((primary, instance)) => !primary.contains('@') && !instance.contains('/'),
        None => true,
    };
    primary_instance_ok && !realm.contains(['@', '/'])
}

/// Why a DIGEST-MD5 exchange failed (the server answers AuthFailed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslError(pub String);

/// The result of one step of the exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslStep {
    /// The token for the SetSASLResponse.
    pub token: Vec<u8>,
    /// Set when this step completed the exchange: the authorized user, the id
    /// of the connection's new `sasl` identity.
    pub authorized: Option<String>,
}

/// Where a connection's DIGEST-MD5 exchange stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestServer {
    /// No challenge sent yet.
    Start,
    /// The challenge with this nonce was sent.
    Challenged {
        /// The server nonce of the challenge.
        nonce: String,
    },
    /// Authentication succeeded; no more steps are accepted.
    Complete,
}

impl DigestServer {
    /// Runs one step: the first answers with a challenge carrying `nonce`
    /// (fresh random text from the caller, ignored after the first step), the
    /// second checks the client's digest response against `users`.
    pub fn step(
        &mut self,
        users: &SaslUsers,
        token: &[u8],
        nonce: &str,
    ) -> Result<SaslStep, SaslError> {
        match std::mem::replace(self, DigestServer::Complete) {
            DigestServer::Start => {
                *self = DigestServer::Challenged {
                    nonce: nonce.to_owned(),
                };
                Ok(SaslStep {
                    token: challenge(nonce).into_bytes(),
                    authorized: None,
                })
            }
            DigestServer::Challenged { nonce } => {
                let text = std::str::from_utf8(token)
                    .map_err(|_| SaslError("response is not UTF-8".into()))?;
                let (user, rspauth) = verify_response(users, &nonce, text)?;
                Ok(SaslStep {
                    token: format!("rspauth={rspauth}").into_bytes(),
                    authorized: Some(user),
                })
            }
            DigestServer::Complete => Err(SaslError("authentication already completed".into())),
        }
    }
}

/// The server's challenge for `nonce`, as the JDK's DIGEST-MD5 server words it
/// (qop `auth` is the default, so it is not named).
pub fn challenge(nonce: &str) -> String {
    format!("realm=\"{REALM}\",nonce=\"{nonce}\",charset=utf-8,algorithm=md5-sess")
}

/// A nonce as the JDK makes one: base64 of 30 random bytes (40 characters).
pub fn nonce_from(random: &[u8; 30]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(random)
}

/// Parses `key=value` / `key="value"` directives separated by commas.
fn directives(text: &str) -> Result<BTreeMap<String, String>, SaslError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = BTreeMap::new();
    let mut i = 0;
    let bad = || SaslError("malformed digest response".into());
    while i < chars.len() {
        while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
            i += 1;
        }
        if i == chars.len() {
            break;
        }
        let start = i;
        while i < chars.len() && chars[i] != '=' {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        i += 1;
        let value = if chars.get(i) == Some(&'"') {
            let (v, end) = quoted(&chars, i + 1).ok_or_else(bad)?;
            i = end;
            v
        } else {
            let s = i;
            while i < chars.len() && chars[i] != ',' {
                i += 1;
            }
            chars[s.min(chars.len())..i].iter().collect()
        };
        let key = key.trim().to_ascii_lowercase();
        if key.is_empty() || out.insert(key, value.trim().to_owned()).is_some() {
            return Err(bad());
        }
    }
    Ok(out)
}

/// Checks a client's digest response to the challenge with `nonce`; returns
/// the authorized user and the rspauth value.
fn verify_response(
    users: &SaslUsers,
    nonce: &str,
    text: &str,
) -> Result<(String, String), SaslError> {
    let d = directives(text)?;
    let get = |k: &str| {
        d.get(k)
            .map(String::as_str)
            .ok_or_else(|| SaslError(format!("missing {k}")))
    };
    let user = get("username")?;
    let realm = d.get("realm").map_or("", String::as_str);
    let (cnonce, nc, uri) = (get("cnonce")?, get("nc")?, get("digest-uri")?);
    let qop = d.get("qop").map_or("auth", String::as_str);
    let authzid = d.get("authzid").map(String::as_str);
    if get("nonce")? != nonce {
        return Err(SaslError("nonce mismatch".into()));
    }
    if realm != REALM || qop != "auth" || u32::from_str_radix(nc, 16) != Ok(1) {
        return Err(SaslError("unexpected realm, qop or nonce count".into()));
    }
    if !uri.eq_ignore_ascii_case(&format!("{PROTOCOL}/{REALM}")) {
        return Err(SaslError(format!("unexpected digest-uri {uri}")));
    }
    let password = users
        .password(user)
        .ok_or_else(|| SaslError(format!("cannot acquire password for {user}")))?;
    let a1 = DigestInputs {
        user,
        realm,
        password,
        nonce,
        cnonce,
        authzid,
    };
    let expected = a1.response(nc, &format!("AUTHENTICATE:{uri}"));
    if get("response")? != expected {
        return Err(SaslError("digest response mismatch".into()));
    }
    Ok((user.to_owned(), a1.response(nc, &format!(":{uri}"))))
}

/// What the md5-sess A1 of RFC 2831 is made of.
struct DigestInputs<'a> {
    user: &'a str,
    realm: &'a str,
    password: &'a str,
    nonce: &'a str,
    cnonce: &'a str,
    authzid: Option<&'a str>,
}

impl DigestInputs<'_> {
    /// `HEX(H(HEX(H(A1)) ":" nonce ":" nc ":" cnonce ":auth:" HEX(H(A2))))`.
    fn response(&self, nc: &str, a2: &str) -> String {
        let mut a1 = Md5::new();
        a1.update(Md5::digest(
            [
                latin1_or_utf8(self.user),
                b":".to_vec(),
                latin1_or_utf8(self.realm),
                b":".to_vec(),
                latin1_or_utf8(self.password),
            ]
            .concat(),
        ));
        a1.update(format!(":{}:{}", self.nonce, self.cnonce));
        if let Some(authzid) = self.authzid {
            a1.update(format!(":{authzid}"));
        }
        let kd = format!(
            "{}:{}:{nc}:{}:auth:{}",
            hex(&a1.finalize()),
            self.nonce,
            self.cnonce,
            hex(&Md5::digest(a2))
        );
        hex(&Md5::digest(kd))
    }
}

/// RFC 2831 with charset=utf-8: text that fits ISO 8859-1 is hashed in it, other text in UTF-8.
fn latin1_or_utf8(s: &str) -> Vec<u8> {
    if s.chars().all(|c| (c as u32) < 0x100) {
        s.chars().map(|c| c as u8).collect()
    } else {
        s.as_bytes().to_vec()
    }
}

/// Lowercase hexadecimal.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAAS: &str = r#"
        // ZooKeeper's server section
        Server {
            org.apache.zookeeper.server.auth.DigestLoginModule required
            user_super="adminsecret" /* the admin */
            user_bob="bob\"secret"
            user_eve=plain;
        };
        # a client section
        Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="x"; };
    "#;

    #[test]
    fn jaas_sections_comments_and_quotes() {
        let sections = parse_jaas(JAAS).unwrap();
        assert_eq!(sections.len(), 2);
        let server = &sections["Server"][0];
        assert_eq!(server.flag, "required");
        assert_eq!(server.options["user_bob"], "bob\"secret");
        assert_eq!(server.options["user_eve"], "plain");
        assert_eq!((server.line, sections["Client"][0].line), (4, 10));
        assert_eq!(sections["Client"][0].options["username"], "bob");
        assert!(parse_jaas("Server { m required a=\"x; };").is_err());
        assert!(parse_jaas("Server { m required a=; };").is_err());
        assert!(parse_jaas("Server { m required a=b; }").is_err());
    }

    #[test]
    fn users_come_from_the_named_section() {
        let users = SaslUsers::from_jaas(JAAS, "Server", None).unwrap().unwrap();
        assert_eq!(users.password("bob"), Some("bob\"secret"));
        assert_eq!(users.password("super"), Some("adminsecret"));
        assert_eq!(users.password("username"), None);
        let users = SaslUsers::from_jaas(JAAS, "Server", Some("p".into()))
            .unwrap()
            .unwrap();
        assert_eq!(users.password("super"), Some("p"));
        assert_eq!(SaslUsers::from_jaas(JAAS, "Missing", None), Ok(None));
        assert!(SaslUsers::from_jaas("Server {", "Server", None).is_err());
    }

    #[test]
    fn rfc2831_example_digest() {
        // RFC 2831 section 4's example (md5-sess aside, the RFC uses the same
        // A1 construction): chris / secret at elwood.innosoft.com, imap service.
        let inputs = DigestInputs {
            user: "chris",
            realm: "elwood.innosoft.com",
            password: "secret",
            nonce: "OA6MG9tEQGm2hh",
            cnonce: "OA6MHXh6VqTrRk",
            authzid: None,
        };
        let uri = "imap/elwood.innosoft.com";
        assert_eq!(
            inputs.response("00000001", &format!("AUTHENTICATE:{uri}")),
            "d388dad90d4bbd760a152321f2143af7"
        );
        assert_eq!(
            inputs.response("00000001", &format!(":{uri}")),
            "ea40f60335c427b5527b84dbabcdfffd"
        );
    }

    /// An exchange between the JDK's DIGEST-MD5 client and server (javac'd
    /// here): bob / bobsecret, the client naming authzid "bob".
    const JDK_NONCE: &str = "htRoEBXezo+1TvHkUKMqr0ltGW5/y/j7/v5D7Vlz";
    const JDK_RESPONSE: &str = "charset=utf-8,username=\"bob\",realm=\"zk-sasl-md5\",nonce=\"htRoEBXezo+1TvHkUKMqr0ltGW5/y/j7/v5D7Vlz\",nc=00000001,cnonce=\"yGTaVbCTKz+yYqA6jvJpPv/ZqGDc70J+ypeQW14A\",digest-uri=\"zookeeper/zk-sasl-md5\",maxbuf=65536,response=6c6c58737605cac11f612393d24dc3ac,qop=auth,authzid=\"bob\"";

    fn bob(password: &str) -> SaslUsers {
        let jaas = format!("Server {{ m required user_bob=\"{password}\"; }};");
        SaslUsers::from_jaas(&jaas, "Server", None)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn jdk_exchange_completes_with_the_jdk_rspauth() {
        let users = bob("bobsecret");
        let mut server = DigestServer::Start;
        let first = server.step(&users, b"", JDK_NONCE).unwrap();
        assert_eq!(
            String::from_utf8(first.token).unwrap(),
            format!("realm=\"zk-sasl-md5\",nonce=\"{JDK_NONCE}\",charset=utf-8,algorithm=md5-sess")
        );
        assert_eq!(first.authorized, None);
        let second = server.step(&users, JDK_RESPONSE.as_bytes(), "").unwrap();
        assert_eq!(second.token, b"rspauth=c56cb5796c4fb3c9d12200a8e805ba1f");
        assert_eq!(second.authorized.as_deref(), Some("bob"));
        assert_eq!(server, DigestServer::Complete);
        assert!(server.step(&users, b"", "").is_err());
    }

    #[test]
    fn wrong_password_unknown_user_and_replays_fail() {
        for (users, nonce) in [
            (bob("wrong"), JDK_NONCE),
            (SaslUsers::default(), JDK_NONCE),
            (bob("bobsecret"), "another-nonce"),
        ] {
            let mut server = DigestServer::Challenged {
                nonce: nonce.into(),
            };
            assert!(server.step(&users, JDK_RESPONSE.as_bytes(), "").is_err());
        }
        let tampered = JDK_RESPONSE.replace("nc=00000001", "nc=00000002");
        let mut server = DigestServer::Challenged {
            nonce: JDK_NONCE.into(),
        };
        assert!(server
            .step(&bob("bobsecret"), tampered.as_bytes(), "")
            .is_err());
        assert_eq!(nonce_from(&[0; 30]).len(), 40);
    }
}
