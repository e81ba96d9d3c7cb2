//! Recognition of four-letter words and the `4lw.commands.whitelist` rule
//! (ZooKeeper's `FourLetterCommands`).

/// A four-letter word a client may send instead of a ConnectRequest.
///
/// The server reads the first 4 bytes of a fresh connection as the frame
/// length; when that big-endian int equals a word's ASCII bytes, the
/// connection is a command: answer with [`super::respond`] and close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FourLetterWord {
    /// `ruok`: liveness probe, answers `imok`.
    Ruok,
    /// `srvr`: server statistics without the client list.
    Srvr,
    /// `stat`: server statistics with the client list.
    Stat,
    /// `mntr`: tab-separated metrics.
    Mntr,
    /// `conf`: the effective configuration.
    Conf,
    /// `cons`: full per-connection statistics.
    Cons,
    /// `envi`: the process environment.
    Envi,
    /// `isro`: `ro` or `rw`.
    Isro,
    /// `wchs`: data-watch summary.
    Wchs,
    /// `wchc`: data watches by session.
    Wchc,
    /// `wchp`: data watches by path.
    Wchp,
    /// `dirs`: sizes of the snapshot and log directories.
    Dirs,
    /// `crst`: resets every connection's statistics.
    Crst,
    /// `srst`: resets the server statistics.
    Srst,
    /// `dump`: sessions, ephemerals and connections by expiry.
    Dump,
    /// `gtmk`: the trace mask.
    Gtmk,
    /// `stmk`: sets the trace mask from the 8 bytes that follow the word.
    Stmk,
    /// `hash`: the digest log.
    Hash,
    /// The bytes telnet sends when it closes (0xfff4fffd): recognised so the
    /// connection ends quietly, with no output.
    TelnetClose,
}

/// Every word, in the order ZooKeeper registers them.
const ALL: [FourLetterWord; 19] = [
    FourLetterWord::Conf,
    FourLetterWord::Cons,
    FourLetterWord::Crst,
    FourLetterWord::Dirs,
    FourLetterWord::Dump,
    FourLetterWord::Envi,
    FourLetterWord::Gtmk,
    FourLetterWord::Ruok,
    FourLetterWord::Stmk,
    FourLetterWord::Srst,
    FourLetterWord::Srvr,
    FourLetterWord::Stat,
    FourLetterWord::Wchc,
    FourLetterWord::Wchp,
    FourLetterWord::Wchs,
    FourLetterWord::Mntr,
    FourLetterWord::Isro,
    FourLetterWord::TelnetClose,
    FourLetterWord::Hash,
];

/// The int telnet's close sequence reads as.
const TELNET_CLOSE_FRAME_LEN: u32 = 0xfff4_fffd;

impl FourLetterWord {
    /// The word whose four bytes, read as a big-endian int, equal `frame_len`;
    /// `None` for an ordinary frame length (or an unknown word, which the
    /// server then treats as a length like any other).
    pub fn from_frame_len(frame_len: i32) -> Option<FourLetterWord> {
        ALL.into_iter().find(|word| word.frame_len() == frame_len)
    }

    /// The word as ZooKeeper names it: the four letters, or `telnet close`.
    pub fn name(&self) -> &'static str {
        use FourLetterWord::*;
        match self {
            Ruok => "ruok",
            Srvr => "srvr",
            Stat => "stat",
            Mntr => "mntr",
            Conf => "conf",
            Cons => "cons",
            Envi => "envi",
            Isro => "isro",
            Wchs => "wchs",
            Wchc => "wchc",
            Wchp => "wchp",
            Dirs => "dirs",
            Crst => "crst",
            Srst => "srst",
            Dump => "dump",
            Gtmk => "gtmk",
            Stmk => "stmk",
            Hash => "hash",
            TelnetClose => "telnet close",
        }
    }

    /// How many bytes after the word the server must read before answering:
    /// 8 (a big-endian i64 trace mask) for `stmk`, 0 otherwise.
    pub fn payload_len(&self) -> usize {
        match self {
            FourLetterWord::Stmk => 8,
            _ => 0,
        }
    }

    /// The frame length this word arrives as.
    fn frame_len(&self) -> i32 {
        match self {
            FourLetterWord::TelnetClose => TELNET_CLOSE_FRAME_LEN as i32,
            word => {
                let bytes: [u8; 4] = word
                    .name()
                    .as_bytes()
                    .try_into()
                    .expect("every word but telnet close has four letters");
                i32::from_be_bytes(bytes)
            }
        }
    }
}

/// Which words may run (`4lw.commands.whitelist`, system property
/// `zookeeper.4lw.commands.whitelist`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FourLetterWhitelist {
    /// The enabled words; a word outside it answers
    /// [`not_whitelisted_message`].
    enabled: Vec<FourLetterWord>,
}

impl FourLetterWhitelist {
    /// Builds the whitelist as ZooKeeper does from the comma list `list`
    /// (`None` when unset): names are trimmed, unknown names ignored, `*`
    /// enables every word; `isro` is added when `read_only_mode_enabled`
    /// (`readonlymode.enabled=true`), and `srvr` is always added (zkServer.sh
    /// needs it). So the default is `srvr` alone.
    pub fn from_config(list: Option<&str>, read_only_mode_enabled: bool) -> FourLetterWhitelist {
        let mut enabled = Vec::new();
        for name in list.unwrap_or("").split(',').map(str::trim) {
            if name == "*" {
                enabled = ALL.to_vec();
                break;
            }
            enabled.extend(ALL.into_iter().filter(|word| word.name() == name));
        }
        if read_only_mode_enabled {
            enabled.push(FourLetterWord::Isro);
        }
        enabled.push(FourLetterWord::Srvr);
        FourLetterWhitelist { enabled }
    }

    /// True when `word` may run.
    pub fn allows(&self, word: FourLetterWord) -> bool {
        self.enabled.contains(&word)
    }

    /// True when the word named `name` (e.g. "ruok") is known and may run.
    pub fn allows_name(&self, name: &str) -> bool {
        ALL.into_iter().any(|w| w.name() == name && self.allows(w))
    }
}

/// The whole answer to a known word that is not whitelisted, e.g.
/// `stat is not executed because it is not in the whitelist.\n`.
pub fn not_whitelisted_message(word: FourLetterWord) -> String {
    format!(
        "{} is not executed because it is not in the whitelist.\n",
        word.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_frame_len_reads_ascii_as_big_endian_int() {
        assert_eq!(
            FourLetterWord::from_frame_len(0x7275_6f6b),
            Some(FourLetterWord::Ruok)
        );
        assert_eq!(
            FourLetterWord::from_frame_len(i32::from_be_bytes(*b"mntr")),
            Some(FourLetterWord::Mntr)
        );
        assert_eq!(
            FourLetterWord::from_frame_len(0xfff4_fffd_u32 as i32),
            Some(FourLetterWord::TelnetClose)
        );
        assert_eq!(FourLetterWord::from_frame_len(45), None);
        assert_eq!(
            FourLetterWord::from_frame_len(i32::from_be_bytes(*b"abcd")),
            None
        );
    }

    #[test]
    fn every_word_round_trips_through_its_frame_len() {
        for word in ALL {
            assert_eq!(FourLetterWord::from_frame_len(word.frame_len()), Some(word));
        }
    }

    #[test]
    fn only_stmk_carries_a_payload() {
        for word in ALL {
            let expected = if word == FourLetterWord::Stmk { 8 } else { 0 };
            assert_eq!(word.payload_len(), expected, "{}", word.name());
        }
    }

    #[test]
    fn default_whitelist_is_srvr_only() {
        let whitelist = FourLetterWhitelist::from_config(None, false);
        for word in ALL {
            assert_eq!(whitelist.allows(word), word == FourLetterWord::Srvr);
        }
    }

    #[test]
    fn star_enables_every_word_including_telnet_close() {
        let whitelist = FourLetterWhitelist::from_config(Some("ruok, *"), false);
        assert!(ALL.into_iter().all(|word| whitelist.allows(word)));
    }

    #[test]
    fn list_is_trimmed_and_unknown_names_ignored() {
        let whitelist = FourLetterWhitelist::from_config(Some(" ruok , stat,bogus,,"), false);
        assert!(whitelist.allows(FourLetterWord::Ruok));
        assert!(whitelist.allows(FourLetterWord::Stat));
        assert!(whitelist.allows(FourLetterWord::Srvr));
        assert!(!whitelist.allows(FourLetterWord::Mntr));
        assert!(!whitelist.allows(FourLetterWord::Isro));
    }

    #[test]
    fn read_only_mode_adds_isro() {
        let whitelist = FourLetterWhitelist::from_config(Some("ruok"), true);
        assert!(whitelist.allows(FourLetterWord::Isro));
    }

    #[test]
    fn not_whitelisted_message_names_the_word() {
        assert_eq!(
            not_whitelisted_message(FourLetterWord::Stat),
            "stat is not executed because it is not in the whitelist.\n"
        );
        assert_eq!(
            not_whitelisted_message(FourLetterWord::TelnetClose),
            "telnet close is not executed because it is not in the whitelist.\n"
        );
    }
}
