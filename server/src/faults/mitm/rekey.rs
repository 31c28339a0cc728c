//! # Staying in the middle through a re-key
//!
//! Re-keying (SPEC §4) is a second Diffie–Hellman run *inside* the chat: four service
//! actions, sealed under the key in use — which, for a chat the server intercepted, is a
//! key the server holds. So it opens them like every other message and plays the same
//! trick as on the first exchange. "R" requests this exchange (either side of the chat),
//! "C" accepts it:
//!
//! ```text
//!   R                             server                                  C
//!   RequestKey{id, g_a} ──▶ key_R = g_a^m_r
//!                          shows C g^m_c ───────────────────────────▶ new key = (g^m_c)^c
//!                          key_C = g_b^m_c ◀── AcceptKey{id, g_b, fp(new key)}
//!   new key = (g^m_r)^a ◀── AcceptKey{id, g^m_r, fp(key_R)}
//!   CommitKey{id, fp(key_R)} ──▶ ── CommitKey{id, fp(key_C)} ─────────────────────▶ switches
//! ```
//!
//! The `exchange_id` is kept (both sides compare the ids of concurrent requests, SPEC §4),
//! every public value is checked as a client checks it, and both fingerprints are fixed up
//! so each side's check passes. An AbortKey forgets the exchange. What this module does
//! not do is choose keys for messages: it hands the two new keys back to [`super::Mitm`],
//! which holds them next to the old ones until both sides have switched.

use std::collections::VecDeque;

use rand::{CryptoRng, RngCore};
use secretchat_common::dh::{
    check_public_value, compute_key, public_value, CheckedConfig, DhError, Exponent,
};
use secretchat_common::tl::e2e::enums::DecryptedMessageAction as Action;
use secretchat_common::{ChatKey, Side};

/// How many exchanges are remembered. A request, accept or commit may come by again —
/// answered to a Resend (SPEC §3.3), maybe after the next exchange started — and must be
/// rewritten the same way; a lost concurrent request is never finished and ages out.
const REMEMBERED: usize = 4;

/// One exchange the server stepped into.
struct Intercepted {
    exchange_id: i64,
    requester: Side,
    /// R's `g_a` as it came: a resent request carries the same one.
    g_a: Vec<u8>,
    /// What C is shown instead of `g_a`: `g^m_c`.
    g_a_forged: Vec<u8>,
    m_c: Exponent,
    /// What R is shown instead of `g_b`: `g^m_r`.
    g_b_forged: Vec<u8>,
    /// The new key with R: `g_a^m_r`.
    key_with_requester: ChatKey,
    /// The new key with C, `g_b^m_c`, once C's AcceptKey went by.
    key_with_acceptor: Option<ChatKey>,
}

/// The re-key exchanges of one intercepted chat.
#[derive(Default)]
pub struct Rekeys {
    exchanges: VecDeque<Intercepted>,
}

/// The new keys of one exchange, by the side the server shares each with.
#[derive(Clone, PartialEq, Eq)]
pub struct NewKeys {
    pub with_creator: ChatKey,
    pub with_participant: ChatKey,
}

/// What the server did to a re-key action.
#[derive(Clone, PartialEq, Eq)]
pub enum Substitution {
    /// C is shown the server's `g^m_c` instead of R's `g_a`. `again` for a resent request.
    RequestKey { exchange_id: i64, again: bool },
    /// R is shown `g^m_r` and the fingerprint of its key with the server; both new keys are
    /// known now. `acceptor_fingerprint_matches`: C's fingerprint is that of `key_C`.
    AcceptKey {
        exchange_id: i64,
        keys: NewKeys,
        acceptor_fingerprint_matches: bool,
    },
    /// C is shown the fingerprint of `key_C`. `requester_fingerprint_matches`: R's was
    /// that of `key_R`.
    CommitKey {
        exchange_id: i64,
        requester_fingerprint_matches: bool,
    },
    /// The exchange is forgotten (`known`: the server had seen it).
    AbortKey { exchange_id: i64, known: bool },
}

/// Why a re-key action goes by unchanged: the server has lost this exchange.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Missed {
    #[error("the {from:?}'s g_a of exchange {exchange_id} fails the checks: {error}")]
    BadGA {
        from: Side,
        exchange_id: i64,
        error: DhError,
    },
    #[error("the {from:?}'s g_b of exchange {exchange_id} fails the checks: {error}")]
    BadGB {
        from: Side,
        exchange_id: i64,
        error: DhError,
    },
    #[error("{action} from the {from:?} for exchange {exchange_id}, which the server did not see requested (or accepted)")]
    UnknownExchange {
        action: &'static str,
        from: Side,
        exchange_id: i64,
    },
}

impl Substitution {
    /// One sentence for the event log.
    pub fn describe(&self) -> String {
        match self {
            Substitution::RequestKey { exchange_id, again } => format!(
                "re-key {exchange_id}: the acceptor is shown the server's g_a instead of the \
                 requester's{}",
                if *again {
                    " (the request came again)"
                } else {
                    ""
                }
            ),
            Substitution::AcceptKey { exchange_id, .. } => format!(
                "re-key {exchange_id}: the requester is shown the server's g_b and the \
                 fingerprint of its new key with the server; the server holds a new key \
                 with each side"
            ),
            Substitution::CommitKey { exchange_id, .. } => format!(
                "re-key {exchange_id}: the acceptor is shown the fingerprint of its new key \
                 with the server"
            ),
            Substitution::AbortKey { exchange_id, known } => format!(
                "re-key {exchange_id} aborted: {}",
                if *known {
                    "the server forgets it"
                } else {
                    "the server had not seen it"
                }
            ),
        }
    }
}

impl Rekeys {
    /// Rewrites `action`, sent by `from`, if it is one of the four re-key actions.
    /// `Ok(None)`: not a re-key action. `Err`: it goes by unchanged, and why.
    pub fn intercept(
        &mut self,
        config: &CheckedConfig,
        from: Side,
        action: &mut Action,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Option<Substitution>, Missed> {
        let substitution = match action {
            Action::DecryptedMessageActionRequestKey(request) => {
                let exchange_id = request.exchange_id;
                let again = self
                    .find(exchange_id, from)
                    .is_some_and(|known| known.g_a == request.g_a);
                if !again {
                    let exchange = Self::start(config, from, exchange_id, &request.g_a, rng)?;
                    self.exchanges
                        .retain(|e| (e.exchange_id, e.requester) != (exchange_id, from));
                    if self.exchanges.len() == REMEMBERED {
                        self.exchanges.pop_front();
                    }
                    self.exchanges.push_back(exchange);
                }
                let exchange = self.find(exchange_id, from).expect("just remembered");
                request.g_a = exchange.g_a_forged.clone();
                Substitution::RequestKey { exchange_id, again }
            }
            Action::DecryptedMessageActionAcceptKey(accept) => {
                let exchange_id = accept.exchange_id;
                let exchange =
                    self.find_mut(exchange_id, from.peer())
                        .ok_or(Missed::UnknownExchange {
                            action: "AcceptKey",
                            from,
                            exchange_id,
                        })?;
                let g_b =
                    check_public_value(config, &accept.g_b).map_err(|error| Missed::BadGB {
                        from,
                        exchange_id,
                        error,
                    })?;
                // key_C = pow(g_b, m_c) mod p
                let key_c = compute_key(config, &exchange.m_c, &g_b);
                let acceptor_fingerprint_matches =
                    key_c.fingerprint().as_i64() == accept.key_fingerprint;
                accept.g_b = exchange.g_b_forged.clone();
                accept.key_fingerprint = exchange.key_with_requester.fingerprint().as_i64();
                exchange.key_with_acceptor = Some(key_c.clone());
                let key_r = exchange.key_with_requester.clone();
                let keys = match from {
                    Side::Participant => NewKeys {
                        with_creator: key_r,
                        with_participant: key_c,
                    },
                    Side::Creator => NewKeys {
                        with_creator: key_c,
                        with_participant: key_r,
                    },
                };
                Substitution::AcceptKey {
                    exchange_id,
                    keys,
                    acceptor_fingerprint_matches,
                }
            }
            Action::DecryptedMessageActionCommitKey(commit) => {
                let exchange_id = commit.exchange_id;
                let unknown = Missed::UnknownExchange {
                    action: "CommitKey",
                    from,
                    exchange_id,
                };
                let exchange = self.find(exchange_id, from).ok_or(unknown.clone())?;
                let key_c = exchange.key_with_acceptor.as_ref().ok_or(unknown)?;
                let requester_fingerprint_matches =
                    exchange.key_with_requester.fingerprint().as_i64() == commit.key_fingerprint;
                commit.key_fingerprint = key_c.fingerprint().as_i64();
                Substitution::CommitKey {
                    exchange_id,
                    requester_fingerprint_matches,
                }
            }
            Action::DecryptedMessageActionAbortKey(abort) => {
                let exchange_id = abort.exchange_id;
                let before = self.exchanges.len();
                self.exchanges.retain(|e| e.exchange_id != exchange_id);
                Substitution::AbortKey {
                    exchange_id,
                    known: self.exchanges.len() != before,
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(substitution))
    }

    /// A fresh exchange for R's `g_a`: both exponents, and the key with R at once.
    fn start(
        config: &CheckedConfig,
        requester: Side,
        exchange_id: i64,
        g_a: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Intercepted, Missed> {
        let checked = check_public_value(config, g_a).map_err(|error| Missed::BadGA {
            from: requester,
            exchange_id,
            error,
        })?;
        let m_r = Exponent::generate(rng, &[]);
        let m_c = Exponent::generate(rng, &[]);
        Ok(Intercepted {
            exchange_id,
            requester,
            g_a: g_a.to_vec(),
            g_a_forged: public_value(config, &m_c),
            m_c,
            g_b_forged: public_value(config, &m_r),
            // key_R = pow(g_a, m_r) mod p
            key_with_requester: compute_key(config, &m_r, &checked),
            key_with_acceptor: None,
        })
    }

    fn find(&self, exchange_id: i64, requester: Side) -> Option<&Intercepted> {
        self.exchanges
            .iter()
            .find(|e| e.exchange_id == exchange_id && e.requester == requester)
    }

    fn find_mut(&mut self, exchange_id: i64, requester: Side) -> Option<&mut Intercepted> {
        self.exchanges
            .iter_mut()
            .find(|e| e.exchange_id == exchange_id && e.requester == requester)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use secretchat_common::tl::e2e::types;

    use super::*;

    /// An honest client's side of one exchange.
    struct Honest {
        secret: Exponent,
    }

    impl Honest {
        fn new(rng: &mut ChaCha20Rng) -> Self {
            Self {
                secret: Exponent::generate(rng, &[]),
            }
        }

        fn public(&self, config: &CheckedConfig) -> Vec<u8> {
            public_value(config, &self.secret)
        }

        /// The key with whoever sent `theirs`, after the checks a client makes.
        fn key(&self, config: &CheckedConfig, theirs: &[u8]) -> ChatKey {
            let theirs = check_public_value(config, theirs).expect("a value that passes");
            compute_key(config, &self.secret, &theirs)
        }
    }

    fn request(exchange_id: i64, g_a: Vec<u8>) -> Action {
        types::DecryptedMessageActionRequestKey { exchange_id, g_a }.into()
    }

    fn accept(exchange_id: i64, g_b: Vec<u8>, key: &ChatKey) -> Action {
        types::DecryptedMessageActionAcceptKey {
            exchange_id,
            g_b,
            key_fingerprint: key.fingerprint().as_i64(),
        }
        .into()
    }

    fn commit(exchange_id: i64, key: &ChatKey) -> Action {
        types::DecryptedMessageActionCommitKey {
            exchange_id,
            key_fingerprint: key.fingerprint().as_i64(),
        }
        .into()
    }

    fn g_a_of(action: &Action) -> Vec<u8> {
        match action {
            Action::DecryptedMessageActionRequestKey(request) => request.g_a.clone(),
            other => panic!("not a RequestKey: {other:?}"),
        }
    }

    /// Runs a whole exchange requested by `requester` through the server; answers the
    /// key each honest side ends up with and the server's two new keys.
    fn run_exchange(
        rekeys: &mut Rekeys,
        requester: Side,
        exchange_id: i64,
        rng: &mut ChaCha20Rng,
    ) -> (ChatKey, ChatKey, NewKeys) {
        let config = CheckedConfig::telegram_default();
        let (r, c) = (Honest::new(rng), Honest::new(rng));

        let mut action = request(exchange_id, r.public(&config));
        let done = rekeys.intercept(&config, requester, &mut action, rng);
        assert!(matches!(
            done,
            Ok(Some(Substitution::RequestKey { again: false, .. }))
        ));
        let shown_to_c = g_a_of(&action);
        assert_ne!(shown_to_c, r.public(&config), "g_a is substituted");

        let key_c = c.key(&config, &shown_to_c);
        let mut action = accept(exchange_id, c.public(&config), &key_c);
        let Ok(Some(Substitution::AcceptKey {
            keys,
            acceptor_fingerprint_matches,
            ..
        })) = rekeys.intercept(&config, requester.peer(), &mut action, rng)
        else {
            panic!("the AcceptKey is rewritten");
        };
        assert!(acceptor_fingerprint_matches);
        let Action::DecryptedMessageActionAcceptKey(shown_to_r) = &action else {
            panic!("still an AcceptKey");
        };
        assert_eq!(shown_to_r.exchange_id, exchange_id);
        assert_ne!(shown_to_r.g_b, c.public(&config), "g_b is substituted");
        // R's check: the fingerprint it is shown is that of the key it computes.
        let key_r = r.key(&config, &shown_to_r.g_b);
        assert_eq!(shown_to_r.key_fingerprint, key_r.fingerprint().as_i64());

        let mut action = commit(exchange_id, &key_r);
        let done = rekeys.intercept(&config, requester, &mut action, rng);
        assert!(matches!(
            done,
            Ok(Some(Substitution::CommitKey {
                requester_fingerprint_matches: true,
                ..
            }))
        ));
        // C's check: the committed fingerprint is that of the key it holds.
        let Action::DecryptedMessageActionCommitKey(shown_to_c) = &action else {
            panic!("still a CommitKey");
        };
        assert_eq!(shown_to_c.key_fingerprint, key_c.fingerprint().as_i64());
        (key_r, key_c, keys)
    }

    #[test]
    fn both_checks_pass_and_the_server_holds_each_sides_new_key() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut rekeys = Rekeys::default();
        for (requester, exchange_id) in [(Side::Creator, 17), (Side::Participant, -3)] {
            let (key_r, key_c, keys) = run_exchange(&mut rekeys, requester, exchange_id, &mut rng);
            assert_ne!(key_r, key_c, "the two ends hold different keys");
            let (with_requester, with_acceptor) = match requester {
                Side::Creator => (&keys.with_creator, &keys.with_participant),
                Side::Participant => (&keys.with_participant, &keys.with_creator),
            };
            assert_eq!(with_requester, &key_r);
            assert_eq!(with_acceptor, &key_c);
        }
    }

    #[test]
    fn a_resent_request_is_shown_the_same_substitute() {
        let config = CheckedConfig::telegram_default();
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let mut rekeys = Rekeys::default();
        let g_a = Honest::new(&mut rng).public(&config);
        let mut first = request(5, g_a.clone());
        let mut again = request(5, g_a);
        rekeys
            .intercept(&config, Side::Creator, &mut first, &mut rng)
            .unwrap();
        let done = rekeys.intercept(&config, Side::Creator, &mut again, &mut rng);
        assert!(matches!(
            done,
            Ok(Some(Substitution::RequestKey { again: true, .. }))
        ));
        assert_eq!(g_a_of(&first), g_a_of(&again));
    }

    #[test]
    fn a_degenerate_g_a_or_g_b_goes_by_unchanged() {
        let config = CheckedConfig::telegram_default();
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut rekeys = Rekeys::default();
        let one = {
            let mut bytes = vec![0u8; 256];
            bytes[255] = 1;
            bytes
        };
        let mut action = request(9, one.clone());
        let done = rekeys.intercept(&config, Side::Creator, &mut action, &mut rng);
        assert!(matches!(done, Err(Missed::BadGA { exchange_id: 9, .. })));
        assert_eq!(g_a_of(&action), one);

        let g_a = Honest::new(&mut rng).public(&config);
        let mut action = request(10, g_a);
        rekeys
            .intercept(&config, Side::Creator, &mut action, &mut rng)
            .unwrap();
        let key = ChatKey::from_bytes(&[7; 256]).unwrap();
        let mut action = accept(10, one.clone(), &key);
        let done = rekeys.intercept(&config, Side::Participant, &mut action, &mut rng);
        assert!(matches!(
            done,
            Err(Missed::BadGB {
                exchange_id: 10,
                ..
            })
        ));
        assert_eq!(action, accept(10, one, &key));
    }

    #[test]
    fn an_abort_forgets_the_exchange() {
        let config = CheckedConfig::telegram_default();
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let mut rekeys = Rekeys::default();
        let mut action = request(11, Honest::new(&mut rng).public(&config));
        rekeys
            .intercept(&config, Side::Participant, &mut action, &mut rng)
            .unwrap();
        let mut abort: Action = types::DecryptedMessageActionAbortKey { exchange_id: 11 }.into();
        let done = rekeys.intercept(&config, Side::Creator, &mut abort, &mut rng);
        assert!(matches!(
            done,
            Ok(Some(Substitution::AbortKey {
                exchange_id: 11,
                known: true
            }))
        ));
        let c = Honest::new(&mut rng);
        let key = ChatKey::from_bytes(&[1; 256]).unwrap();
        let mut late = accept(11, c.public(&config), &key);
        let done = rekeys.intercept(&config, Side::Creator, &mut late, &mut rng);
        assert!(matches!(done, Err(Missed::UnknownExchange { .. })));
    }

    #[test]
    fn an_accept_from_the_requesters_own_side_or_an_early_commit_is_not_rewritten() {
        let config = CheckedConfig::telegram_default();
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let mut rekeys = Rekeys::default();
        let mut action = request(12, Honest::new(&mut rng).public(&config));
        rekeys
            .intercept(&config, Side::Creator, &mut action, &mut rng)
            .unwrap();
        let key = ChatKey::from_bytes(&[2; 256]).unwrap();
        let mut early = commit(12, &key);
        let done = rekeys.intercept(&config, Side::Creator, &mut early, &mut rng);
        assert!(matches!(done, Err(Missed::UnknownExchange { .. })));
        assert_eq!(early, commit(12, &key));
        let mut own = accept(12, Honest::new(&mut rng).public(&config), &key);
        let done = rekeys.intercept(&config, Side::Creator, &mut own, &mut rng);
        assert!(matches!(done, Err(Missed::UnknownExchange { .. })));
    }

    #[test]
    fn actions_other_than_the_four_rekey_actions_are_left_alone() {
        let config = CheckedConfig::telegram_default();
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let mut noop: Action = types::DecryptedMessageActionNoop {}.into();
        let done = Rekeys::default().intercept(&config, Side::Creator, &mut noop, &mut rng);
        assert!(done.is_ok_and(|s| s.is_none()));
    }
}
