//! # A fault rule: which events it matches
//!
//! A rule is installed with `POST /admin/faults` as JSON (see `docs/faults.md`):
//!
//! ```json
//! {"match": {"device": {"user": "bob", "device": "phone"}, "chat_id": 5,
//!            "update": "new_encrypted_message", "nth": {"from": 2, "to": 3}},
//!  "action": {"type": "drop"}, "probability": 1.0, "seed": 42, "times": 1}
//! ```
//!
//! Two kinds of events can match: **deliveries** (an update about to be handed to a
//! device: a new encrypted message, a service message, `updateEncryption` of each
//! `EncryptedChat` kind, a read receipt, a typing notice) and **answers** (a call to a
//! method, matched with `"method"`; only the `error` action applies there).
//!
//! Each given field narrows the match: `device` (`{"user", "device"}` names or
//! `{"id"}`), `chat_id`, `update` (one kind or a list), `method`, `qts` (the qts the
//! message is about to get, `{"from", "to"}` inclusive). A rule also matches only what its
//! action can act on (a `corrupt` rule never matches a typing notice). Then, in order:
//! `nth` picks among the matching events by their 1-based number; `probability` draws
//! from the rule's own generator, seeded with `seed`; `times` caps how often it acts.

use serde::Deserialize;

use super::action::FaultAction;
use crate::delivery::UpdateKind;
use crate::device::DeviceId;

/// A device, by names or by id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum DeviceMatcher {
    Names { user: String, device: String },
    Id { id: String },
}

/// One kind or a list of kinds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum Kinds {
    One(UpdateKind),
    Many(Vec<UpdateKind>),
}

impl Kinds {
    fn contains(&self, kind: UpdateKind) -> bool {
        match self {
            Kinds::One(one) => *one == kind,
            Kinds::Many(many) => many.contains(&kind),
        }
    }
}

/// An inclusive range `{"from", "to"}`, or one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum Range {
    One(u64),
    Span { from: u64, to: u64 },
}

impl Range {
    pub fn contains(self, n: u64) -> bool {
        match self {
            Range::One(one) => n == one,
            Range::Span { from, to } => (from..=to).contains(&n),
        }
    }
}

/// `"match"`: every given field must hold.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceMatcher>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<Kinds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<Range>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qts: Option<Range>,
}

/// The JSON of `POST /admin/faults`.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    #[serde(default, rename = "match")]
    pub matcher: Matcher,
    pub action: FaultAction,
    #[serde(default = "one")]
    pub probability: f64,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub times: Option<u64>,
}

fn one() -> f64 {
    1.0
}

/// The device a delivery goes to or a call comes from, as a rule sees it.
#[derive(Debug, Clone)]
pub struct DeviceView<'a> {
    pub id: DeviceId,
    pub username: &'a str,
    pub device_name: &'a str,
}

/// A delivery as a rule sees it.
#[derive(Debug, Clone)]
pub struct DeliveryView<'a> {
    pub device: DeviceView<'a>,
    pub kind: UpdateKind,
    pub chat_id: Option<i32>,
    /// The qts a message is about to get.
    pub qts: Option<i32>,
    /// Whether the message's sender is known (for `reflect`).
    pub has_sender: bool,
}

impl RuleSpec {
    /// Checks a rule before it is installed: a clear sentence for what is wrong.
    pub fn check(&self, known_method: impl Fn(&str) -> bool) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.probability) || self.probability.is_nan() {
            return Err(format!(
                "probability must be in 0..=1, got {}",
                self.probability
            ));
        }
        if let Some(Range::Span { from, to }) = self.matcher.nth {
            if from == 0 || from > to {
                return Err(format!(
                    "nth must be 1-based with from <= to, got {from}..={to}"
                ));
            }
        }
        if self.matcher.nth == Some(Range::One(0)) {
            return Err("nth is 1-based: the first matching event is 1".into());
        }
        if let Some(Range::Span { from, to }) = self.matcher.qts {
            if from > to {
                return Err(format!("qts range must have from <= to, got {from}..={to}"));
            }
        }
        if let Some(method) = &self.matcher.method {
            if !known_method(method) {
                return Err(format!("there is no method {method:?}"));
            }
            if self.matcher.update.is_some() || self.matcher.qts.is_some() {
                return Err(
                    "a rule matches either answers (\"method\") or deliveries (\"update\", \"qts\"), not both"
                        .into(),
                );
            }
        }
        match (&self.action, &self.matcher.method) {
            (FaultAction::Error { .. }, None) => {
                return Err("the error action answers a method: name it with match.method".into())
            }
            (FaultAction::Error { .. }, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                return Err(
                    "only the error action applies to answers (match.method); the others act on deliveries"
                        .into(),
                )
            }
        }
        self.action.check()
    }

    fn device_matches(&self, device: &DeviceView<'_>) -> bool {
        match &self.matcher.device {
            None => true,
            Some(DeviceMatcher::Id { id }) => id.parse::<i64>() == Ok(device.id.0),
            Some(DeviceMatcher::Names { user, device: name }) => {
                user == device.username && name == device.device_name
            }
        }
    }

    /// Whether a delivery passes every filter but `nth`, probability and `times`.
    pub fn matches_delivery(&self, delivery: &DeliveryView<'_>) -> bool {
        let m = &self.matcher;
        m.method.is_none()
            && self.device_matches(&delivery.device)
            && m.chat_id.is_none_or(|id| delivery.chat_id == Some(id))
            && m.update.as_ref().is_none_or(|k| k.contains(delivery.kind))
            && m.qts.is_none_or(|range| {
                delivery
                    .qts
                    .is_some_and(|qts| u64::try_from(qts).is_ok_and(|q| range.contains(q)))
            })
            && self.action.applies_to(delivery)
    }

    /// Whether a call passes every filter but `nth`, probability and `times`.
    pub fn matches_call(&self, device: Option<&DeviceView<'_>>, method: &str) -> bool {
        let m = &self.matcher;
        m.method.as_deref() == Some(method)
            && match (&m.device, device) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(_), Some(device)) => self.device_matches(device),
            }
            && m.chat_id.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(value: serde_json::Value) -> Result<RuleSpec, String> {
        let spec: RuleSpec = serde_json::from_value(value).map_err(|e| e.to_string())?;
        spec.check(|m| m == "messages.sendEncrypted")?;
        Ok(spec)
    }

    #[test]
    fn an_error_rule_without_a_method_is_refused_with_a_sentence() {
        let err = spec(json!({"action": {"type": "error", "error_code": 420, "error_message": "FLOOD_WAIT_5"}}))
            .unwrap_err();
        assert!(err.contains("match.method"), "{err}");
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let err = spec(json!({"action": {"type": "drop"}, "probabilty": 0.5})).unwrap_err();
        assert!(err.contains("probabilty"), "{err}");
    }

    #[test]
    fn a_probability_above_one_is_refused() {
        let err = spec(json!({"action": {"type": "drop"}, "probability": 1.5})).unwrap_err();
        assert!(err.contains("probability"), "{err}");
    }

    #[test]
    fn nth_zero_is_refused() {
        assert!(spec(json!({"match": {"nth": 0}, "action": {"type": "drop"}})).is_err());
        assert!(
            spec(json!({"match": {"nth": {"from": 3, "to": 2}}, "action": {"type": "drop"}}))
                .is_err()
        );
    }

    #[test]
    fn a_delivery_rule_matches_by_device_names_chat_and_kind() {
        let rule = spec(
            json!({"match": {"device": {"user": "bob", "device": "phone"}, "chat_id": 5,
                                         "update": ["new_encrypted_message", "read"]},
                               "action": {"type": "drop"}}),
        )
        .unwrap();
        let view = |user, kind, chat_id| DeliveryView {
            device: DeviceView {
                id: DeviceId(1),
                username: user,
                device_name: "phone",
            },
            kind,
            chat_id: Some(chat_id),
            qts: Some(2),
            has_sender: true,
        };
        assert!(rule.matches_delivery(&view("bob", UpdateKind::Read, 5)));
        assert!(!rule.matches_delivery(&view("alice", UpdateKind::Read, 5)));
        assert!(!rule.matches_delivery(&view("bob", UpdateKind::Typing, 5)));
        assert!(!rule.matches_delivery(&view("bob", UpdateKind::Read, 6)));
    }
}
