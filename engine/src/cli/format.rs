//! `--format` of each command: only the values that command writes, each
//! described in its own help (`flowmap runs --help`).

/// What a command writes, once its flag is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// One `--format` flag: text for people, and the JSON this command writes.
macro_rules! format_flag {
    ($name:ident, $json:literal $(, #[$extra:meta])?) => {
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
        pub enum $name {
            /// Text for people.
            #[default]
            Text,
            #[doc = $json]
            $(#[$extra])?
            Json,
        }

        impl From<$name> for Format {
            fn from(f: $name) -> Format {
                match f {
                    $name::Text => Format::Text,
                    $name::Json => Format::Json,
                }
            }
        }
    };
}

format_flag!(CheckFormat, "One JSON document: each flow file, the counts and every diagnostic.");
format_flag!(
    DryRunFormat,
    "One JSON object per record, a line each, then one line with the summary and the API calls (`jsonl` is the same).",
    #[value(alias = "jsonl")]
);
format_flag!(TestFormat, "One JSON object per test case, a line each, then one line with the summary.");
format_flag!(RunFormat, "The run's report as one JSON object.");
format_flag!(ConnectionsFormat, "One JSON object per connection, a line each.");
format_flag!(RunsFormat, "One JSON object per run, a line each.");
format_flag!(ShowFormat, "One JSON object per journal event of the record, a line each.");
