//! What a session sends: msg_ids and seq_nos, acknowledgements, resends, containers.
//!
//! Every server message gets a time-based msg_id (≡ 1 mod 4 for a reply, 3 for a message the
//! server starts) and a seq_no (odd for content-related messages, which the client must
//! acknowledge). Content-related messages are kept until the client acknowledges them with
//! `msgs_ack`, so they can be sent again: "the server will resend not-yet acknowledged
//! content-related messages to a new connection if the current connection is closed and
//! then re-opened" (core.telegram.org/mtproto/description#content-related-message), and on
//! `msg_resend_req`. A message sent again keeps its msg_id and travels in a container: "the
//! message must not be re-sent on its own with the same msg_id. Instead, it can be ...
//! wrapped in a container" (service_messages_about_messages).
//!
//! The server acknowledges the client's content-related messages in turn: an `rpc_result`
//! acknowledges its call; anything else is listed in a `msgs_ack`, sent with the next
//! outgoing messages or, if there are none, after a short delay.
//!
//! ```text
//! poll: [msgs_ack?] + queued messages (≤ 1024, ≤ max_container_bytes)
//!       one fresh message → sent alone;  several, or any resend → msg_container
//!       (inner messages in msg_id order; a new msg_id above them all, an even seq_no)
//! ```

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, SystemTime};

use secretchat_common::tl::TlWrite;

use super::msg_id::{Origin, ServerMsgIds};
use super::seq_no::SeqNo;
use crate::service::types::MsgsAck;
use crate::service_messages::{ContainerMessage, MsgContainer, MAX_CONTAINER_MESSAGES, MAX_IDS};

/// One server message: its msg_id, seq_no and body (as a container holds them), and what
/// the session must remember of it.
#[derive(Debug, Clone)]
struct OutMessage {
    message: ContainerMessage,
    /// The client call this answers (an `rpc_result`).
    answer_to: Option<i64>,
    /// Transmitted at least once.
    sent: bool,
}

#[derive(Debug, Clone)]
enum Queued {
    /// Not content-related: sent once, then forgotten.
    Once(OutMessage),
    /// Content-related, kept in `unacked` (skipped if acknowledged or dropped meanwhile).
    Kept(i64),
}

/// The sending half of one session.
#[derive(Debug, Clone)]
pub struct Outgoing {
    msg_ids: ServerMsgIds,
    seq_no: SeqNo,
    queue: VecDeque<Queued>,
    unacked: BTreeMap<i64, OutMessage>,
    /// Client call msg_id → the msg_id of its `rpc_result`, while that is unacknowledged.
    answers: BTreeMap<i64, i64>,
    /// Client msg_ids to acknowledge, and when a stand-alone `msgs_ack` becomes due.
    pending_acks: BTreeSet<i64>,
    ack_due: Option<SystemTime>,
    max_unacked: usize,
}

impl Outgoing {
    /// The sending half of a new session, whose msg_ids start above `msg_id_floor`.
    pub fn new(max_unacked: usize, msg_id_floor: i64) -> Self {
        Self {
            msg_ids: ServerMsgIds::above(msg_id_floor),
            seq_no: SeqNo::default(),
            queue: VecDeque::new(),
            unacked: BTreeMap::new(),
            answers: BTreeMap::new(),
            pending_acks: BTreeSet::new(),
            ack_due: None,
            max_unacked: max_unacked.max(1),
        }
    }

    /// The last msg_id this session issued.
    pub fn last_msg_id(&self) -> i64 {
        self.msg_ids.last()
    }

    /// Queues a message; returns its msg_id. Content-related ones are kept until
    /// acknowledged; past `max_unacked` the oldest is forgotten (it will not be sent again).
    pub fn push(
        &mut self,
        now: SystemTime,
        origin: Origin,
        content_related: bool,
        body: Vec<u8>,
        answer_to: Option<i64>,
    ) -> i64 {
        let out = OutMessage {
            message: ContainerMessage {
                msg_id: self.msg_ids.next(now, origin),
                seqno: self.seq_no.next(content_related),
                body,
            },
            answer_to,
            sent: false,
        };
        let msg_id = out.message.msg_id;
        if !content_related {
            self.queue.push_back(Queued::Once(out));
            return msg_id;
        }
        if let Some(req) = answer_to {
            self.answers.insert(req, msg_id);
        }
        self.unacked.insert(msg_id, out);
        self.queue.push_back(Queued::Kept(msg_id));
        while self.unacked.len() > self.max_unacked {
            if let Some((_, oldest)) = self.unacked.pop_first() {
                self.forget_answer(&oldest);
            }
        }
        msg_id
    }

    fn forget_answer(&mut self, out: &OutMessage) {
        if let Some(req) = out.answer_to {
            if self.answers.get(&req) == Some(&out.message.msg_id) {
                self.answers.remove(&req);
            }
        }
    }

    /// The client acknowledged these msg_ids: they need not be sent again.
    pub fn acknowledge(&mut self, msg_ids: &[i64]) {
        for msg_id in msg_ids {
            if let Some(out) = self.unacked.remove(msg_id) {
                self.forget_answer(&out);
            }
        }
    }

    /// The msg_id and size of the unacknowledged answer to a client call.
    pub fn answer_of(&self, req_msg_id: i64) -> Option<(i64, usize)> {
        let msg_id = *self.answers.get(&req_msg_id)?;
        Some((msg_id, self.unacked.get(&msg_id)?.message.body.len()))
    }

    /// Queues a kept message again (same msg_id, so it will travel in a container);
    /// `false` if it is not kept (acknowledged, forgotten, or never ours).
    pub fn resend(&mut self, msg_id: i64) -> bool {
        if !self.unacked.contains_key(&msg_id) {
            return false;
        }
        self.queue.push_back(Queued::Kept(msg_id));
        true
    }

    /// Queues again every kept message already transmitted (the session moved to another
    /// connection).
    pub fn resend_all_sent(&mut self) {
        let sent: Vec<i64> = self
            .unacked
            .values()
            .filter(|out| out.sent)
            .map(|out| out.message.msg_id)
            .collect();
        self.queue.extend(sent.into_iter().map(Queued::Kept));
    }

    /// Removes the unacknowledged answer to a client call (`rpc_drop_answer`): its msg_id,
    /// seq_no and length.
    pub fn drop_answer(&mut self, req_msg_id: i64) -> Option<(i64, i32, usize)> {
        let msg_id = self.answers.remove(&req_msg_id)?;
        let ContainerMessage {
            msg_id,
            seqno,
            body,
        } = self.unacked.remove(&msg_id)?.message;
        Some((msg_id, seqno, body.len()))
    }

    /// Acknowledges a client message with the next transmit, or by `now + delay`.
    pub fn ack_later(&mut self, msg_id: i64, now: SystemTime, delay: Duration) {
        self.pending_acks.insert(msg_id);
        if self.ack_due.is_none() {
            self.ack_due = Some(now + delay);
        }
    }

    /// No separate acknowledgement needed (an `rpc_result` acknowledges its call).
    pub fn cancel_ack(&mut self, msg_id: i64) {
        self.pending_acks.remove(&msg_id);
        if self.pending_acks.is_empty() {
            self.ack_due = None;
        }
    }

    /// When a stand-alone `msgs_ack` is due, if one is waiting.
    pub fn ack_due(&self) -> Option<SystemTime> {
        self.ack_due
    }

    /// The next thing to transmit: one message, or a container of several.
    pub fn poll_transmit(
        &mut self,
        now: SystemTime,
        max_container_bytes: usize,
    ) -> Option<ContainerMessage> {
        let acks_due = !self.pending_acks.is_empty()
            && (!self.queue.is_empty() || self.ack_due.is_some_and(|due| due <= now));
        let mut batch: Vec<ContainerMessage> = Vec::new();
        let mut resends = false;
        let mut size = 0;
        if acks_due {
            let ids: Vec<i64> = self.pending_acks.iter().take(MAX_IDS).copied().collect();
            for id in &ids {
                self.pending_acks.remove(id);
            }
            if self.pending_acks.is_empty() {
                self.ack_due = None;
            }
            let body = MsgsAck { msg_ids: ids }.to_bytes();
            size += body.len();
            batch.push(ContainerMessage {
                msg_id: self.msg_ids.next(now, Origin::Reply),
                seqno: self.seq_no.next(false),
                body,
            });
        }
        let mut in_batch = BTreeSet::new();
        while batch.len() < MAX_CONTAINER_MESSAGES {
            let Some(queued) = self.queue.front() else {
                break;
            };
            let next_len = match queued {
                Queued::Once(out) => out.message.body.len(),
                Queued::Kept(msg_id) => self
                    .unacked
                    .get(msg_id)
                    .map_or(0, |out| out.message.body.len()),
            };
            if !batch.is_empty() && size + next_len + 16 > max_container_bytes {
                break;
            }
            let Some(queued) = self.queue.pop_front() else {
                break;
            };
            let message = match queued {
                Queued::Once(out) => out.message,
                Queued::Kept(msg_id) => {
                    let Some(out) = self.unacked.get_mut(&msg_id) else {
                        continue; // acknowledged or dropped since it was queued
                    };
                    if !in_batch.insert(msg_id) {
                        continue;
                    }
                    resends |= out.sent;
                    out.sent = true;
                    out.message.clone()
                }
            };
            size += message.body.len() + 16;
            batch.push(message);
        }
        match batch.len() {
            0 => None,
            1 if !resends => batch.pop(),
            _ => {
                // In msg_id order: the acknowledgement made just now goes last, and resends
                // of older messages first. Pyrogram closes the connection on a msg_id lower
                // than every one it has stored (session.py `handle_packet`), which a
                // container starting with a new msg_id would risk right after it restarts.
                batch.sort_by_key(|message| message.msg_id);
                // A container answers the client if anything in it does.
                let origin = if batch.iter().any(|m| m.msg_id.rem_euclid(4) == 1) {
                    Origin::Reply
                } else {
                    Origin::Server
                };
                let container = MsgContainer { messages: batch };
                Some(ContainerMessage {
                    msg_id: self.msg_ids.next(now, origin),
                    seqno: self.seq_no.next(false),
                    body: container.to_bytes(),
                })
            }
        }
    }
}
