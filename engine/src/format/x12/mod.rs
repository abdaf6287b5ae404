//! ANSI X12: reader, writer and envelopes. Filled in by issue 11.
