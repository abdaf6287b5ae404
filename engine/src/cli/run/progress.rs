//! What a live run shows while it goes, on standard error: the records done,
//! the time left (ETA) and, while calls wait, why and for how long ("waiting
//! for Exact Online's minutely rate limit to reset, 41 s").
//!
//! `FLOWMAP_PROGRESS` chooses how: `bar`, `lines` (a line per batch of records
//! and per wait that begins, for logs and CI, where a bar cannot redraw) or
//! `off`. Unset, a bar is drawn when standard error is a terminal and the
//! output is not JSON; otherwise nothing.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::http::{Registry, WaitReason, Waiting};
use crate::project::Project;

/// How often the watcher looks at the connections' waits (and the bar's countdown moves).
const LOOK_EVERY: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Bar,
    Lines,
    Off,
}

fn mode(json: bool) -> Mode {
    match std::env::var("FLOWMAP_PROGRESS").as_deref() {
        Ok("bar") => Mode::Bar,
        Ok("lines") => Mode::Lines,
        Ok("off") => Mode::Off,
        _ if json || !std::io::stderr().is_terminal() => Mode::Off,
        _ => Mode::Bar,
    }
}

/// The progress of one run, as shown.
pub struct Shown {
    mode: Mode,
    bar: Option<indicatif::ProgressBar>,
    stop: Arc<AtomicBool>,
    watcher: Option<std::thread::JoinHandle<()>>,
}

impl Shown {
    /// Starts showing; a thread watches the connections' waits until [`Shown::finish`].
    pub fn start(json: bool, project: &Project, registry: &Arc<Registry>, rt: &tokio::runtime::Handle) -> Shown {
        let mode = mode(json);
        let stop = Arc::new(AtomicBool::new(false));
        if mode == Mode::Off {
            return Shown { mode, bar: None, stop, watcher: None };
        }
        let bar = (mode == Mode::Bar).then(new_bar);
        let titles: HashMap<String, String> = project.systems.iter().map(|(name, s)| (name.clone(), s.def.title.clone())).collect();
        let watch = Watch { mode, bar: bar.clone(), titles, registry: registry.clone(), rt: rt.clone(), stop: stop.clone() };
        let watcher = std::thread::Builder::new().name("progress".into()).spawn(move || watch.run()).ok();
        Shown { mode, bar, stop, watcher }
    }

    /// Records settled so far, of all the run took.
    pub fn records(&self, done: u64, total: u64) {
        match (&self.bar, self.mode) {
            (Some(bar), _) => {
                bar.set_length(total);
                bar.set_position(done);
            }
            (None, Mode::Lines) => eprintln!("{done}/{total} records"),
            _ => {}
        }
    }

    /// Stops the watcher and clears the bar, before the summary is printed.
    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Records done, elapsed time, the time left at the pace so far, and why calls wait.
const BAR: &str = "{spinner} {pos}/{len} records [{bar:30}] {elapsed}, ETA {eta}  {msg}";

fn new_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(BAR) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(LOOK_EVERY);
    bar
}

/// The watcher's view: the connections opened so far and what each waits for.
struct Watch {
    mode: Mode,
    bar: Option<indicatif::ProgressBar>,
    /// System name → its title ("Exact Online").
    titles: HashMap<String, String>,
    registry: Arc<Registry>,
    rt: tokio::runtime::Handle,
    stop: Arc<AtomicBool>,
}

impl Watch {
    fn run(self) {
        // What the last look saw waiting (system and why), so a wait is told once.
        let mut last: Option<(String, WaitReason)> = None;
        while !self.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            let wait = self.longest_wait();
            let text = wait.as_ref().map(|(title, w)| wait_text(title, &w.reason, w.until.saturating_duration_since(now)));
            let seen = wait.map(|(title, w)| (title, w.reason));
            match &self.bar {
                Some(bar) => bar.set_message(text.unwrap_or_default()),
                // A line when a wait begins, not for every second it lasts.
                None if self.mode == Mode::Lines && seen.is_some() && seen != last => eprintln!("{}", text.unwrap_or_default()),
                None => {}
            }
            last = seen;
            std::thread::sleep(LOOK_EVERY);
        }
    }

    /// The wait that ends last over every connection, with its system's title.
    fn longest_wait(&self) -> Option<(String, Waiting)> {
        let connections = self.rt.block_on(self.registry.opened());
        connections
            .iter()
            .filter_map(|c| c.budget.waiting().map(|w| (self.titles.get(&c.system).cloned().unwrap_or_else(|| c.system.clone()), w)))
            .max_by_key(|(_, w)| w.until)
    }
}

/// What the progress shows for a wait of `left` more: why, and for how long.
pub fn wait_text(system: &str, reason: &WaitReason, left: Duration) -> String {
    let left = whole_seconds(left);
    match reason {
        WaitReason::Budget(name) => format!("waiting for {system}'s {name} rate limit to reset, {left}"),
        WaitReason::TooManyRequests => format!("waiting: {system} answered 429 Too Many Requests, {left}"),
        WaitReason::Retry { attempt } => format!("waiting to call {system} again (try {attempt}), {left}"),
    }
}

/// "41 s", "2 min 5 s"; at least 1 s while a wait lasts.
fn whole_seconds(d: Duration) -> String {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    match s.max(1) {
        s if s < 60 => format!("{s} s"),
        s => format!("{} min {} s", s / 60, s % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_says_why_and_for_how_long() {
        let budget = WaitReason::Budget("minutely".into());
        assert_eq!(
            wait_text("Exact Online", &budget, Duration::from_millis(40_200)),
            "waiting for Exact Online's minutely rate limit to reset, 41 s"
        );
        assert_eq!(
            wait_text("Exact Online", &WaitReason::Budget("daily".into()), Duration::from_secs(125)),
            "waiting for Exact Online's daily rate limit to reset, 2 min 5 s"
        );
        assert_eq!(
            wait_text("Le New Black", &WaitReason::TooManyRequests, Duration::from_secs(12)),
            "waiting: Le New Black answered 429 Too Many Requests, 12 s"
        );
        assert_eq!(wait_text("Xero", &WaitReason::Retry { attempt: 2 }, Duration::from_millis(300)), "waiting to call Xero again (try 2), 1 s");
    }

    #[test]
    fn the_bar_template_is_valid() {
        assert!(indicatif::ProgressStyle::with_template(BAR).is_ok());
    }
}
