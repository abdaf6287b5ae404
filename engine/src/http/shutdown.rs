//! The engine's shutdown as calls see it: once it begins, a call waiting to
//! try again (after a failure, a 429 or a spent rate-limit window) stops
//! waiting and ends the run instead, so SIGTERM is not held up by retries.
//! A request already sent is not cut: its answer decides what the journal says.

use std::sync::Arc;
use std::time::Duration;

use super::CallError;

/// One signal shared by the engine, its runs and their connections.
#[derive(Clone, Debug)]
pub struct Shutdown(Arc<tokio::sync::watch::Sender<bool>>);

impl Default for Shutdown {
    fn default() -> Shutdown {
        Shutdown(Arc::new(tokio::sync::watch::Sender::new(false)))
    }
}

impl Shutdown {
    /// No new work; waits end now.
    pub fn begin(&self) {
        self.0.send_replace(true);
    }

    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Ends when the shutdown begins (at once if it has).
    pub async fn begun(&self) {
        let mut seen = self.0.subscribe();
        // The sender lives as long as `self`, so this only ends on `true`.
        let _ = seen.wait_for(|set| *set).await;
    }

    /// Waits `wait` before a call tries again, unless the shutdown begins first.
    pub async fn pause(&self, wait: Duration) -> Result<(), CallError> {
        tokio::select! {
            () = tokio::time::sleep(wait) => Ok(()),
            () = self.begun() => Err(stopping()),
        }
    }
}

/// Why a call stopped waiting.
pub fn stopping() -> CallError {
    CallError::Stop { message: "the engine is shutting down; what is left waits for the next run".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn a_pause_ends_when_the_shutdown_begins() {
        let shutdown = Shutdown::default();
        assert_eq!(shutdown.pause(Duration::from_millis(1)).await, Ok(()));
        let waiting = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shutdown.pause(Duration::from_secs(3600)).await }
        });
        tokio::task::yield_now().await;
        shutdown.begin();
        assert_eq!(waiting.await.unwrap(), Err(stopping()));
        assert_eq!(shutdown.pause(Duration::from_secs(3600)).await, Err(stopping()), "once begun, no wait starts");
    }
}
