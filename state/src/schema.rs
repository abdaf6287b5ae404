//! Recognising a flowmap state file and bringing its tables up to date.
//!
//! The file is marked with SQLite's application id (so a stray SQLite file of
//! another program is never taken for ours, let alone changed) and carries its
//! schema version in `PRAGMA user_version`. Each migration moves the schema one
//! version up; later versions are added at the end of [`MIGRATIONS`], never by
//! editing one that has shipped.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, TransactionBehavior};

use crate::db::{BUSY_TIMEOUT, connect, sqlite_error};
use crate::error::{Result, StateError};
use crate::files::create_private_file_if_missing;

/// "flmp": the SQLite application id of a flowmap state file.
const APPLICATION_ID: i32 = 0x666c_6d70;

/// Migration `i` takes the schema from version `i` to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: runs, the journal (audit trail), each record's current state,
    //    connection settings, sealed secrets and sealed tokens.
    r#"
    CREATE TABLE runs (
        -- AUTOINCREMENT: a run id is never reused, so journal rows keep pointing at their own run.
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        flow          TEXT    NOT NULL,
        version       TEXT    NOT NULL,
        mode          TEXT    NOT NULL,
        started_at_ms INTEGER NOT NULL,
        ended_at_ms   INTEGER,
        status        TEXT    NOT NULL,
        summary       TEXT             -- JSON, set when the run finishes
    );
    CREATE INDEX runs_by_flow ON runs (flow, id);

    -- Append-only: rows are never updated or deleted; this is the audit trail.
    CREATE TABLE journal (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        run       INTEGER REFERENCES runs (id),
        at_ms     INTEGER NOT NULL,
        flow      TEXT    NOT NULL,
        key       TEXT    NOT NULL,
        event     TEXT    NOT NULL,
        status    TEXT,
        source    TEXT,              -- JSON
        payload   TEXT,              -- JSON
        answer    TEXT,              -- JSON
        target_id TEXT,
        reasons   TEXT    NOT NULL,  -- JSON array of strings
        detail    TEXT
    );
    CREATE INDEX journal_by_record ON journal (flow, key, id);

    CREATE TABLE records (
        flow          TEXT    NOT NULL,
        key           TEXT    NOT NULL,
        status        TEXT    NOT NULL,
        attempts      INTEGER NOT NULL,
        target_id     TEXT,
        reasons       TEXT    NOT NULL,  -- JSON array of strings
        last_run      INTEGER REFERENCES runs (id),
        updated_at_ms INTEGER NOT NULL,
        PRIMARY KEY (flow, key)
    ) WITHOUT ROWID;
    CREATE INDEX records_by_status ON records (flow, status);

    CREATE TABLE settings (
        connection    TEXT    NOT NULL,
        name          TEXT    NOT NULL,
        value         TEXT    NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        PRIMARY KEY (connection, name)
    ) WITHOUT ROWID;

    CREATE TABLE secrets (
        connection    TEXT    NOT NULL,
        name          TEXT    NOT NULL,
        sealed        BLOB    NOT NULL,  -- Vault::seal with aad "secret:<connection>:<name>"
        updated_at_ms INTEGER NOT NULL,
        PRIMARY KEY (connection, name)
    ) WITHOUT ROWID;

    CREATE TABLE tokens (
        connection    TEXT    NOT NULL PRIMARY KEY,
        sealed        BLOB,              -- Vault::seal with aad "tokens:<connection>"; NULL if never issued
        -- Copies of what is not secret, so connections can be listed without the key.
        issued_at_ms  INTEGER,
        expires_at_ms INTEGER,
        needs_consent TEXT,
        updated_at_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 2: the inbox: records an event (an Exact Online webhook) asked a flow to
    //    run, kept until a run of the flow has taken them, so an accepted event
    //    survives a busy flow, a system that is down and a restart.
    r#"
    CREATE TABLE inbox (
        flow           TEXT    NOT NULL,
        key            TEXT    NOT NULL,
        origin         TEXT    NOT NULL,  -- e.g. "exact SalesOrders Update"
        received_at_ms INTEGER NOT NULL,
        PRIMARY KEY (flow, key)
    ) WITHOUT ROWID;
    "#,
    // 3: the events received for a record in the inbox: a run takes the record
    //    only as far as the events it saw, so one arriving during the run waits
    //    for the next run.
    r#"
    ALTER TABLE inbox ADD COLUMN events INTEGER NOT NULL DEFAULT 1;
    "#,
    // 4: deliveries: who is delivering, or has delivered, each identity at a
    //    target (e.g. Exact SalesOrders by YourRef), whichever flow or run it
    //    was; and the process that runs each run, so a run whose process is
    //    gone can be told from one still going.
    r#"
    CREATE TABLE deliveries (
        target        TEXT    NOT NULL,  -- "<system> <entity> <match field>", e.g. "exact SalesOrders YourRef"
        identity      TEXT    NOT NULL,  -- the match field's value, e.g. "PO50001"
        flow          TEXT    NOT NULL,
        key           TEXT    NOT NULL,
        run           INTEGER NOT NULL REFERENCES runs (id),
        status        TEXT    NOT NULL,  -- holding | sent | doubt
        target_id     TEXT,
        at_ms         INTEGER NOT NULL,
        PRIMARY KEY (target, identity)
    ) WITHOUT ROWID;
    CREATE INDEX deliveries_by_run ON deliveries (run);
    ALTER TABLE runs ADD COLUMN process TEXT;
    "#,
    // 5: what became of each try of a record in the inbox (how many runs did
    //    not settle it, why the last did not), and whether it is given up
    //    (`dead`: kept for an operator to retry or drop, never tried again by
    //    itself); and the webhook events received lately, so an event sent
    //    again is acknowledged without a second run.
    r#"
    ALTER TABLE inbox ADD COLUMN status TEXT NOT NULL DEFAULT 'waiting';  -- waiting | dead
    ALTER TABLE inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE inbox ADD COLUMN last_error TEXT;
    ALTER TABLE inbox ADD COLUMN last_try_at_ms INTEGER;
    CREATE TABLE webhook_events (
        id             TEXT    NOT NULL PRIMARY KEY,  -- a digest of what identifies the event (topic, key, action, time)
        received_at_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX webhook_events_by_age ON webhook_events (received_at_ms);
    "#,
    // 6: what started each run (`cli`, `schedule`, `manual` through the API,
    //    `webhook`), so the audit trail tells a webhook's run from a command's.
    //    Runs from before it have none (they were started by a command or a
    //    serving engine; which, is not known).
    r#"
    ALTER TABLE runs ADD COLUMN origin TEXT;
    "#,
    // 7: file transports. The files each flow has taken in, known by their
    //    content (a file seen again, or the same bytes under another name, is
    //    never processed twice); the control numbers given to outgoing X12
    //    interchanges and groups per partner pair (never reused); and the
    //    interchanges received, so one received twice is processed once.
    r#"
    CREATE TABLE files (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        flow             TEXT    NOT NULL,
        name             TEXT    NOT NULL,  -- the name it had when first taken in
        size             INTEGER NOT NULL,
        sha256           TEXT    NOT NULL,  -- of its content, lower-case hex
        first_seen_at_ms INTEGER NOT NULL,
        first_run        INTEGER REFERENCES runs (id),
        run              INTEGER REFERENCES runs (id),  -- the last run that took it up
        status           TEXT    NOT NULL,  -- taking | done
        records          INTEGER,           -- set when done
        finished_at_ms   INTEGER,
        disposal         TEXT,              -- archived | removed, once done with on the store
        archive_folder   TEXT,
        disposed_at_ms   INTEGER,
        UNIQUE (flow, sha256)
    );
    CREATE INDEX files_by_flow ON files (flow, id);

    CREATE TABLE control_numbers (
        pair          TEXT    NOT NULL,  -- e.g. "ZZ:SENDER ZZ:PARTNER"
        kind          TEXT    NOT NULL,  -- interchange (ISA13) | group (GS06)
        last          INTEGER NOT NULL,  -- the last number given out
        updated_at_ms INTEGER NOT NULL,
        PRIMARY KEY (pair, kind)
    ) WITHOUT ROWID;

    CREATE TABLE interchanges_received (
        sender         TEXT    NOT NULL,  -- ISA05:ISA06, as the caller identifies it
        receiver       TEXT    NOT NULL,  -- ISA07:ISA08
        control        TEXT    NOT NULL,  -- ISA13
        file           INTEGER NOT NULL REFERENCES files (id),
        received_at_ms INTEGER NOT NULL,
        PRIMARY KEY (sender, receiver, control)
    ) WITHOUT ROWID;
    "#,
    // 8: versions of records (a flow's `source.version`: a record is delivered once per
    //    version) and watermarks (a flow's `source.since`: where the next run starts).
    r#"
    ALTER TABLE journal ADD COLUMN version TEXT;       -- the source record's version the entry is about
    ALTER TABLE records ADD COLUMN sent_version TEXT;  -- the version last delivered

    CREATE TABLE watermarks (
        flow          TEXT    PRIMARY KEY,
        value         TEXT    NOT NULL,  -- the newest value of the flow's `since` field taken
        run           INTEGER REFERENCES runs (id),
        updated_at_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 9: X12 functional acknowledgements (997) received for the groups we sent, and the
    //    business document each record is about.
    r#"
    CREATE TABLE acknowledgements_received (
        partner        TEXT    NOT NULL,  -- who acknowledges (ISA05:ISA06 of the 997)
        functional_id  TEXT    NOT NULL,  -- AK101: the group's GS01 (PO for 850s)
        group_control  TEXT    NOT NULL,  -- AK102: the GS06 we sent
        verdict        TEXT    NOT NULL,  -- accepted | accepted_with_errors | partially_accepted | rejected
        detail         TEXT    NOT NULL,  -- JSON: each set's verdict and errors
        file           INTEGER REFERENCES files (id),
        received_at_ms INTEGER NOT NULL,
        PRIMARY KEY (partner, functional_id, group_control)
    ) WITHOUT ROWID;
    CREATE INDEX acknowledgements_by_group ON acknowledgements_received (group_control);

    -- The business document a record is about (a flow's `source.document`, e.g. a PO number):
    -- `flowmap show` tells each flow's part of that document's story.
    ALTER TABLE records ADD COLUMN document TEXT;
    CREATE INDEX records_by_document ON records (document);
    "#,
];

/// The schema version this build writes and understands.
pub(crate) const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

/// What the file says about itself.
struct Identity {
    application_id: i32,
    version: i64,
    /// Tables, indexes, … of any kind: an unmarked file with some is not empty.
    objects: i64,
}

/// Creates a new state file at `path`, complete with its tables, unless one
/// appeared there meanwhile. It is made under another name and linked into
/// place, so no process ever sees a half-made (or empty) state file at `path`:
/// an empty one is always a damaged one.
pub(crate) fn create(path: &Path) -> Result<()> {
    let mut name = path.as_os_str().to_owned();
    let mut suffix = [0u8; 6];
    getrandom::fill(&mut suffix).map_err(|error| StateError::new(format!("{}: cannot create it: no random numbers: {error}", path.display())))?;
    name.push(format!(".new-{}", crate::hex::encode(&suffix)));
    let draft = std::path::PathBuf::from(name);
    let made = (|| {
        // The file holds customer data (journal payloads) beside sealed
        // credentials: owner-only from the start.
        create_private_file_if_missing(&draft).map_err(|error| StateError::new(format!("{}: cannot create it: {error}", draft.display())))?;
        let mut connection = connect(&draft)?;
        migrate(&mut connection, &draft)?;
        drop(connection);
        match std::fs::hard_link(&draft, path) {
            Ok(()) => Ok(()),
            // Another process made it first: theirs is used.
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(error) => Err(StateError::new(format!("{}: cannot create it: {error}", path.display()))),
        }
    })();
    let _ = std::fs::remove_file(&draft);
    made
}

/// Checks that `connection` is a flowmap state file and not damaged, switches
/// it to WAL and migrates it to [`LATEST_VERSION`].
pub(crate) fn prepare(connection: &mut Connection, path: &Path, integrity: bool) -> Result<()> {
    // Before anything is written: another program's file must stay untouched.
    let identity = identity(connection, path)?;
    check(&identity, path)?;
    if integrity {
        check_integrity(connection, path)?;
    }
    use_wal(connection, path)?;
    if identity.version == LATEST_VERSION {
        // Up to date: no write transaction, so `flowmap runs` opening the file
        // never waits for the writers of a run under way.
        return Ok(());
    }
    migrate(connection, path)
}

/// Switches the file to WAL, which lets `flowmap runs` and `flowmap show` read
/// while a run writes. Once a file is in WAL mode it stays so; this is a no-op then.
fn use_wal(connection: &Connection, path: &Path) -> Result<()> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0)) {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => {
                return Err(StateError::new(format!(
                    "{}: cannot use WAL journal mode (SQLite kept \"{mode}\"); is the file on a network file system? \
                     keep the state on a local disk",
                    path.display()
                )));
            }
            // The switch needs the file to itself for a moment (another
            // process may be opening it too), and SQLite does not wait for
            // that with the busy timeout: wait here.
            Err(error) if error.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(error) => return Err(sqlite_error(path, "switching to WAL journal mode")(error)),
        }
    }
}

fn migrate(connection: &mut Connection, path: &Path) -> Result<()> {
    // IMMEDIATE: two processes opening a new file at once must not both
    // create the tables; the second waits, then sees the first's work.
    let transaction =
        connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sqlite_error(path, "starting the schema migration"))?;
    let identity = identity(&transaction, path)?;
    check(&identity, path)?;
    let from = identity.version;
    if from == LATEST_VERSION {
        return Ok(());
    }
    for (version, sql) in (from..).zip(MIGRATIONS.iter().skip(usize::try_from(from).unwrap_or(usize::MAX))) {
        transaction.execute_batch(sql).map_err(sqlite_error(path, format_args!("migrating the schema from version {version} to {}", version + 1)))?;
    }
    transaction.pragma_update(None, "application_id", APPLICATION_ID).map_err(sqlite_error(path, "marking the file as flowmap's"))?;
    transaction.pragma_update(None, "user_version", LATEST_VERSION).map_err(sqlite_error(path, "recording the schema version"))?;
    transaction.commit().map_err(sqlite_error(path, "committing the schema migration"))
}

/// SQLite's own check of the file's structure (pages, b-trees, records): a file
/// damaged by a disk, a bad copy or stray writes is refused before a run can
/// build on it, instead of failing somewhere later or losing rows silently.
fn check_integrity(connection: &Connection, path: &Path) -> Result<()> {
    let mut statement = connection.prepare("PRAGMA quick_check(3)").map_err(sqlite_error(path, "checking its integrity"))?;
    let problems = statement
        .query_map([], |row| row.get::<_, String>(0))
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(sqlite_error(path, "checking its integrity"))?;
    if problems.len() == 1 && problems[0] == "ok" {
        return Ok(());
    }
    Err(crate::db::damaged(path, &problems.join("; ")))
}

fn identity(connection: &Connection, path: &Path) -> Result<Identity> {
    // One statement, so one snapshot: read piecemeal, a file that another
    // process is creating right now could look half-made (no id yet, but tables).
    connection
        .query_row(
            "SELECT (SELECT application_id FROM pragma_application_id()),
                    (SELECT user_version FROM pragma_user_version()),
                    (SELECT count(*) FROM sqlite_schema)",
            [],
            |row| Ok(Identity { application_id: row.get(0)?, version: row.get(1)?, objects: row.get(2)? }),
        )
        .map_err(sqlite_error(path, "reading its header"))
}

fn check(identity: &Identity, path: &Path) -> Result<()> {
    let is_new = identity.application_id == 0 && identity.version == 0 && identity.objects == 0;
    if identity.application_id != APPLICATION_ID && !is_new {
        return Err(StateError::new(format!(
            "{} is not a flowmap state file: it is an SQLite database of another program (left unchanged)",
            path.display()
        )));
    }
    if identity.version > LATEST_VERSION {
        return Err(StateError::new(format!(
            "{} was written by a newer flowmap (schema version {}; this flowmap knows up to {LATEST_VERSION}): upgrade flowmap",
            path.display(),
            identity.version
        )));
    }
    if identity.version < 0 {
        return Err(StateError::new(format!("{}: damaged header: schema version {} is negative", path.display(), identity.version)));
    }
    Ok(())
}
