//! What the partner received and sent, as the control API lists them.

use serde::Serialize;

/// A file the partner took from Import.
#[derive(Clone, Debug, Serialize)]
pub struct ReceivedFile {
    pub name: String,
    pub bytes: usize,
    /// ISA13; empty when the file could not be read.
    pub isa13: String,
    /// ISA06 and ISA08.
    pub sender: String,
    pub receiver: String,
    /// ST01 of each set, in order.
    pub set_ids: Vec<String>,
    /// BEG03 of each 850.
    pub po_numbers: Vec<String>,
    /// The same interchange (ISA06, ISA08, ISA13) came before: acknowledged again, not answered.
    pub duplicate: bool,
    /// Why the file could not be read as X12 (nothing is answered then).
    pub error: Option<String>,
    /// For 997s: the groups they acknowledge, matched to the partner's own.
    pub acknowledgments: Vec<Acknowledgment>,
    /// Names of the files written in answer.
    pub answered_with: Vec<String>,
    pub text: String,
}

/// One AK1…AK9 of a 997 received.
#[derive(Clone, Debug, Serialize)]
pub struct Acknowledgment {
    /// AK101 and AK102.
    pub functional_id: String,
    pub group_control: String,
    /// AK901 (A, E, P, R).
    pub code: String,
    /// The sent file holding that group, when there is one.
    pub file: Option<String>,
}

/// A file the partner put in Export.
#[derive(Clone, Debug, Serialize)]
pub struct SentFile {
    pub name: String,
    pub bytes: usize,
    pub isa13: String,
    pub set_ids: Vec<String>,
    pub po_numbers: Vec<String>,
    /// GS01 and GS06 of each group.
    pub groups: Vec<(String, String)>,
    /// AK901 of the 997 that acknowledged it, once one came.
    pub acknowledged: Option<String>,
    pub text: String,
}
