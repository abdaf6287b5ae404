//! The code lists of the 997 Functional Acknowledgment (X12 data elements 715,
//! 716, 717, 718, 720 and 723), as types: what a receipt says about a file we
//! read, and what a partner's 997 says about one we sent.
//!
//! How reading problems map to these codes (the closest X12 has):
//!
//! | problem found while reading                         | code                          | why                                                    |
//! |-----------------------------------------------------|-------------------------------|--------------------------------------------------------|
//! | GS01 names no functional group we define            | AK905 1 group not supported   | no set of ours is of that group                        |
//! | GS08 is a version we have no dictionary for         | AK905 2 version not supported | its segments cannot be read                            |
//! | no GE before the next GS / IEA / end of file        | AK905 3 trailer missing       | the group is cut off                                   |
//! | GE02 is not GS06                                    | AK905 4 control numbers differ| header and trailer do not pair                         |
//! | GE01 is not the number of sets read                 | AK905 5 set count differs     | sets were lost or added                                |
//! | GS06 is not 1–9 digits                              | AK905 6 control number syntax | it cannot be acknowledged in AK102                     |
//! | ST01 + GS08 have no definition                      | AK502 1 set not supported     | we cannot read that set                                |
//! | no SE before the next ST / GE / IEA / end of file   | AK502 2 trailer missing       | the set is cut off                                     |
//! | SE02 is not ST02                                    | AK502 3 control numbers differ| header and trailer do not pair                         |
//! | SE01 is not the number of segments ST…SE            | AK502 4 segment count differs | segments were lost or added                            |
//! | a rejecting AK3/AK4 below, or a segment unreadable  | AK502 5 segments in error     | the set's content is wrong                             |
//! | ST01 is not three digits                            | AK502 6 invalid set id        | it cannot be acknowledged in AK201                     |
//! | ST02 is not 4–9 letters or digits                   | AK502 7 invalid control number| it cannot be acknowledged in AK202                     |
//! | ST02 repeats within the group                       | AK502 23 control not unique   | two sets would share one acknowledgement               |
//! | a segment whose id cannot be read, or is undefined  | AK304 1 unrecognized id       | no dictionary has it                                   |
//! | a defined segment the set's structure lacks         | AK304 6 not in defined set    | the dictionary knows it, this set does not             |
//! | a segment of the set, not where it stands           | AK304 7 not in proper sequence| the structure has it elsewhere                         |
//! | a segment with max use 1 seen twice / a list overrun| AK304 5 exceeds maximum use   | more than the structure's `max`                        |
//! | a loop instance beyond the loop's `max`             | AK304 4 loop over maximum     | more than the loop's `max`                             |
//! | a segment with `min: 1` absent                      | AK304 3 mandatory missing     | position: where it was due                             |
//! | more segments than the reader holds (a limit)       | AK304 5 exceeds maximum use   | the segment past the bound is one too many             |
//! | an element error in a segment                       | AK304 8 data element errors   | with its AK4s                                          |
//! | a `required` element empty or absent                | AK403 1 mandatory missing     |                                                        |
//! | elements past the segment's last defined one        | AK403 3 too many elements     | the first extra one                                    |
//! | shorter / longer than its min / max                 | AK403 4 / 5                   | digits counted for numbers (no sign, no point)         |
//! | an R or Nn value that is not a number               | AK403 6 invalid character     | the reader refuses it too                              |
//! | a DT that is no CCYYMMDD / YYMMDD calendar date     | AK403 8 invalid date          |                                                        |
//! | a TM that is no HHMM[SS[d..]] time                  | AK403 9 invalid time          |                                                        |
//!
//! Verdicts: an error that leaves the data unusable rejects the set (AK5 R):
//! envelope errors, a mandatory segment or element missing, a number, date or
//! time that is not one, an unreadable segment. What the reader reads anyway is
//! reported but accepted (AK5 E): lengths, extra elements, segments out of
//! place (kept under `_unknown`). Code lists are not checked on receipt: the
//! YAML lists the codes our writer sends, not every code X12 allows.

use serde::Serialize;

macro_rules! x12_codes {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal, $text:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// The code as written in the 997.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            /// The code read from a 997; `None` for a code this list lacks.
            pub fn from_code(code: &str) -> Option<Self> {
                match code.trim() {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// What the code means, for people.
            pub fn text(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }
    };
}

x12_codes! {
    /// AK304 (element 720): what is wrong with a segment.
    SegmentSyntaxError {
        UnrecognizedSegmentId = "1", "unrecognized segment id";
        UnexpectedSegment = "2", "unexpected segment";
        MandatorySegmentMissing = "3", "mandatory segment missing";
        LoopOccursOverMaximumTimes = "4", "loop occurs over maximum times";
        SegmentExceedsMaximumUse = "5", "segment exceeds maximum use";
        SegmentNotInDefinedTransactionSet = "6", "segment not in defined transaction set";
        SegmentNotInProperSequence = "7", "segment not in proper sequence";
        SegmentHasDataElementErrors = "8", "segment has data element errors";
    }
}

x12_codes! {
    /// AK403 (element 723): what is wrong with an element.
    ElementSyntaxError {
        MandatoryDataElementMissing = "1", "mandatory element missing";
        ConditionalRequiredDataElementMissing = "2", "conditional required element missing";
        TooManyDataElements = "3", "too many elements";
        DataElementTooShort = "4", "element too short";
        DataElementTooLong = "5", "element too long";
        InvalidCharacterInDataElement = "6", "invalid character in element";
        InvalidCodeValue = "7", "invalid code value";
        InvalidDate = "8", "invalid date";
        InvalidTime = "9", "invalid time";
        ExclusionConditionViolated = "10", "exclusion condition violated";
    }
}

x12_codes! {
    /// AK502..AK506 (element 718): what is wrong with a transaction set.
    SetSyntaxError {
        TransactionSetNotSupported = "1", "transaction set not supported";
        TransactionSetTrailerMissing = "2", "transaction set trailer missing";
        ControlNumbersDoNotMatch = "3", "control number in header and trailer do not match";
        SegmentCountDoesNotMatch = "4", "number of included segments does not match actual count";
        OneOrMoreSegmentsInError = "5", "one or more segments in error";
        MissingOrInvalidSetIdentifier = "6", "missing or invalid transaction set identifier";
        MissingOrInvalidControlNumber = "7", "missing or invalid transaction set control number";
        ControlNumberNotUnique = "23", "transaction set control number not unique within the functional group";
    }
}

x12_codes! {
    /// AK905..AK909 (element 716): what is wrong with a functional group's envelope.
    GroupSyntaxError {
        FunctionalGroupNotSupported = "1", "functional group not supported";
        FunctionalGroupVersionNotSupported = "2", "functional group version not supported";
        FunctionalGroupTrailerMissing = "3", "functional group trailer missing";
        ControlNumbersDoNotAgree = "4", "group control number in the header and trailer do not agree";
        SetCountDoesNotMatch = "5", "number of included transaction sets does not match actual count";
        ControlNumberViolatesSyntax = "6", "group control number violates syntax";
    }
}

x12_codes! {
    /// AK501 (element 717): the verdict on one transaction set. A partner's
    /// M, W and X (rejections for security reasons) read as `Rejected`.
    SetVerdict {
        Accepted = "A", "accepted";
        AcceptedWithErrors = "E", "accepted, errors were noted";
        Rejected = "R", "rejected";
    }
}

x12_codes! {
    /// AK901 (element 715): the verdict on a functional group.
    GroupVerdict {
        Accepted = "A", "accepted";
        AcceptedWithErrors = "E", "accepted, errors were noted";
        PartiallyAccepted = "P", "partially accepted, at least one transaction set was rejected";
        Rejected = "R", "rejected";
    }
}

impl SetVerdict {
    /// AK501 as read: M, W and X are rejections too.
    pub fn read(code: &str) -> Option<Self> {
        match code.trim() {
            "M" | "W" | "X" => Some(SetVerdict::Rejected),
            other => Self::from_code(other),
        }
    }
}

impl GroupVerdict {
    /// AK901 as read: M, W and X are rejections too.
    pub fn read(code: &str) -> Option<Self> {
        match code.trim() {
            "M" | "W" | "X" => Some(GroupVerdict::Rejected),
            other => Self::from_code(other),
        }
    }
}

impl SegmentSyntaxError {
    /// Whether the set is rejected for it (otherwise it is accepted with errors).
    pub fn rejects(self) -> bool {
        self == SegmentSyntaxError::MandatorySegmentMissing
    }
}

impl ElementSyntaxError {
    /// Whether the set is rejected for it: the value is missing or is not what
    /// its type says; lengths, extra elements and codes are noted only.
    pub fn rejects(self) -> bool {
        !matches!(
            self,
            ElementSyntaxError::TooManyDataElements
                | ElementSyntaxError::DataElementTooShort
                | ElementSyntaxError::DataElementTooLong
                | ElementSyntaxError::InvalidCodeValue
        )
    }
}
