//! Session passwords, generated the way ZooKeeper's `ZooKeeperServer.generatePasswd`
//! does: `new java.util.Random(sessionId ^ 0xB3415C00L).nextBytes(16)`.
//!
//! Any server of an ensemble can validate a reconnect without shared state,
//! because the password is a pure function of the session id.

/// Length in bytes of every session password ZooKeeper hands out.
pub const PASSWORD_LEN: usize = 16;

/// The constant ZooKeeper xors into the session id to seed the generator.
const PASSWORD_SEED_SALT: i64 = 0xB341_5C00;

/// java.util.Random's LCG multiplier.
const LCG_MULTIPLIER: u64 = 0x5_DEEC_E66D;
/// java.util.Random's LCG addend.
const LCG_ADDEND: u64 = 0xB;
/// java.util.Random keeps 48 bits of state.
const LCG_MASK: u64 = (1 << 48) - 1;

/// The 48-bit linear congruential generator of `java.util.Random`.
struct JavaRandom {
    /// The 48-bit state; the upper 16 bits are always zero.
    seed: u64,
}

impl JavaRandom {
    /// Seeds like `new Random(seed)`: the seed is scrambled with the multiplier.
    fn new(seed: i64) -> Self {
        JavaRandom {
            seed: (seed as u64 ^ LCG_MULTIPLIER) & LCG_MASK,
        }
    }

    /// `Random.nextInt()`, i.e. `next(32)`: the top 32 of the 48 state bits.
    fn next_int(&mut self) -> u32 {
        self.seed = self
            .seed
            .wrapping_mul(LCG_MULTIPLIER)
            .wrapping_add(LCG_ADDEND)
            & LCG_MASK;
        (self.seed >> 16) as u32
    }

    /// `Random.nextBytes`: one `nextInt` per 4 bytes, low byte first.
    fn next_bytes(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(4) {
            let word = self.next_int().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

/// The password of `session_id`, byte for byte what Apache ZooKeeper returns
/// in the ConnectResponse for that session.
pub fn session_password(session_id: i64) -> [u8; PASSWORD_LEN] {
    let mut password = [0u8; PASSWORD_LEN];
    JavaRandom::new(session_id ^ PASSWORD_SEED_SALT).next_bytes(&mut password);
    password
}

/// Whether a reconnecting client's `passwd` proves it owns `session_id`
/// (ZooKeeper's `checkPasswd`): the id is non-zero and the password is the
/// one [`session_password`] gives.
pub fn check_password(session_id: i64, passwd: &[u8]) -> bool {
    session_id != 0 && passwd == session_password(session_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected bytes printed by OpenJDK 17:
    /// `new java.util.Random(id ^ 0xB3415C00L).nextBytes(b)` with a 16-byte `b`.
    const JAVA_VECTORS: [(i64, [u8; 16]); 5] = [
        (
            0,
            [
                0xf2, 0x2a, 0xcd, 0x4a, 0x97, 0xe6, 0x9d, 0x6d, 0x20, 0xa4, 0x9b, 0xb6, 0x38, 0xea,
                0xdb, 0x38,
            ],
        ),
        (
            1,
            [
                0x05, 0x4c, 0xc7, 0x4a, 0x37, 0x32, 0x7d, 0xb2, 0x15, 0xe7, 0x02, 0xe2, 0x0c, 0x73,
                0xf0, 0x05,
            ],
        ),
        (
            0x0100_017f_3a2b_0000,
            [
                0x57, 0xb2, 0xb9, 0xb5, 0x98, 0x4a, 0x14, 0xdd, 0x8d, 0x1e, 0xc9, 0x98, 0xa1, 0xf8,
                0xb2, 0xc4,
            ],
        ),
        (
            -1,
            [
                0x20, 0xf6, 0x2c, 0xb5, 0x64, 0x8d, 0xc2, 0xd7, 0x71, 0x47, 0x1c, 0x8a, 0x24, 0x86,
                0xa9, 0xee,
            ],
        ),
        (
            0x72d1_c3b5_a6e4_0001,
            [
                0x71, 0x4f, 0xa8, 0x24, 0x33, 0xaf, 0xee, 0x6f, 0x61, 0x86, 0xef, 0x41, 0x68, 0x8e,
                0xde, 0x36,
            ],
        ),
    ];

    #[test]
    fn password_matches_java_random_next_bytes() {
        for (session_id, expected) in JAVA_VECTORS {
            assert_eq!(
                session_password(session_id),
                expected,
                "session {session_id:#x}"
            );
        }
    }

    #[test]
    fn password_seed_keeps_only_48_bits() {
        // Java's Random drops the top 16 seed bits, so these ids share a password.
        assert_eq!(session_password(i64::MIN + 1), session_password(1));
    }

    #[test]
    fn check_password_accepts_only_the_generated_password() {
        let id = 0x0100_017f_3a2b_0000;
        assert!(check_password(id, &session_password(id)));
        assert!(!check_password(id, &session_password(id + 1)));
        assert!(!check_password(id, &[0u8; PASSWORD_LEN]));
        assert!(!check_password(id, &session_password(id)[..15]));
    }

    #[test]
    fn check_password_refuses_session_zero() {
        assert!(!check_password(0, &session_password(0)));
    }
}
