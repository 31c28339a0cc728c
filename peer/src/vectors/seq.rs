//! Vectors of kind `seq_no`: raw counters to the `2·raw + x` wire form.

use secretchat_common::seq_no::{RawSeqNo, SeqField};
use secretchat_common::side::Side;

use super::fields::{bad, Fields, Mismatch};

pub fn seq_no(v: &Fields) -> Result<(), Mismatch> {
    let sender = if v.input_bool("sender_is_originator")? {
        Side::Creator
    } else {
        Side::Participant
    };
    for (field, input, output) in [
        (SeqField::In, "raw_in_seq_no", "in_seq_no"),
        (SeqField::Out, "raw_out_seq_no", "out_seq_no"),
    ] {
        let raw = u32::try_from(v.input_i64(input)?)
            .map_err(|_| bad(&format!("inputs.{input}"), "not a counter"))?;
        let wire = RawSeqNo(raw)
            .to_wire(field, sender)
            .map_err(|e| bad(&format!("inputs.{input}"), e.to_string()))?;
        v.expect_i64(output, i64::from(wire.0))?;
        // And back: the wire form must parse to the same counter for this sender.
        let back = wire
            .to_raw(field, sender)
            .map_err(|e| bad(output, e.to_string()))?;
        if back != RawSeqNo(raw) {
            return Err(Mismatch::Differs {
                field: format!("{output} (back to raw)"),
                expected: raw.to_string(),
                got: back.0.to_string(),
            });
        }
    }
    Ok(())
}
