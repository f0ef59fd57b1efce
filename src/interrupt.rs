//! SIGINT and SIGTERM during `apply` (docs/contract.md §5). Once [`Signals::listen`] has run, a
//! signal no longer ends the process by itself: apply decides. Before the first write it ends
//! the run at once; during the writes the first signal stops new steps and the second ends the
//! run at once.

use tokio::sync::watch;

/// A signal apply reacts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    /// SIGINT (Ctrl-C; what GitHub Actions sends first when a run is cancelled).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl Signal {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// 128 + the signal's number, as shells report a process the signal ended.
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

/// The signals received so far, in order.
#[derive(Clone, Debug)]
pub(crate) struct Signals(watch::Receiver<Vec<Signal>>);

impl Signals {
    /// Starts listening for SIGINT and SIGTERM (Ctrl-C off Unix) on `rt`.
    pub(crate) fn listen(rt: &tokio::runtime::Runtime) -> Signals {
        let (tx, rx) = watch::channel(Vec::new());
        let tx = std::sync::Arc::new(tx);
        let _entered = rt.enter();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            for (kind, sig) in [
                (SignalKind::interrupt(), Signal::Interrupt),
                (SignalKind::terminate(), Signal::Terminate),
            ] {
                match signal(kind) {
                    Ok(mut stream) => {
                        let tx = tx.clone();
                        rt.spawn(async move {
                            while stream.recv().await.is_some() {
                                tx.send_modify(|v| v.push(sig));
                            }
                        });
                    }
                    Err(e) => tracing::warn!("cannot listen for {}: {e}", sig.name()),
                }
            }
        }
        #[cfg(not(unix))]
        {
            let tx = tx.clone();
            rt.spawn(async move {
                while tokio::signal::ctrl_c().await.is_ok() {
                    tx.send_modify(|v| v.push(Signal::Interrupt));
                }
            });
        }
        Signals(rx)
    }

    /// The first signal, if one came.
    pub(crate) fn first(&self) -> Option<Signal> {
        self.0.borrow().first().copied()
    }

    /// Waits for the `n`th signal (1-based) and returns it.
    pub(crate) async fn nth(&self, n: usize) -> Signal {
        let mut rx = self.0.clone();
        loop {
            if let Some(s) = rx.borrow_and_update().get(n.saturating_sub(1)) {
                return *s;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}
