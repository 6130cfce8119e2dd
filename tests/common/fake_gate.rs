//! Gates: a request the fake holds when it arrives, until the test lets it through (served as
//! usual) or drops it (the connection closes unanswered). Crash tests kill the client while a
//! request is held, at a point they choose, without sleeping.

use tokio::sync::oneshot;

use super::*;

/// What the test does with a held request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Serve it: GitHub did the work, whether or not the client is still there to hear.
    Serve,
    /// Never serve it: the work is not done.
    Drop,
}

pub(super) struct Gate {
    method: String,
    path_prefix: String,
    arrived: Option<oneshot::Sender<()>>,
    release: Option<oneshot::Receiver<Release>>,
}

/// The test's end of a gate.
pub struct Held {
    arrived: oneshot::Receiver<()>,
    release: Option<oneshot::Sender<Release>>,
}

impl Held {
    /// Waits until a matching request arrives (and is being held).
    pub async fn arrived(&mut self) {
        (&mut self.arrived).await.expect("the fake is running");
    }

    pub fn release(mut self, how: Release) {
        if let Some(tx) = self.release.take() {
            let _ = tx.send(how);
        }
    }
}

impl FakeGitHub {
    /// Holds the next request whose method and path match (prefix), until the returned
    /// handle releases it.
    pub fn hold_next(&self, method: &str, path_prefix: &str) -> Held {
        let (arrived_tx, arrived) = oneshot::channel();
        let (release_tx, release_rx) = oneshot::channel();
        self.with_state(|s| {
            s.gates.push(Gate {
                method: method.to_owned(),
                path_prefix: path_prefix.to_owned(),
                arrived: Some(arrived_tx),
                release: Some(release_rx),
            })
        });
        Held {
            arrived,
            release: Some(release_tx),
        }
    }
}

/// Called by the request handler before it serves a request: when a gate matches, tells the
/// test and waits for its decision. `false`: drop the request.
pub(super) async fn pass(shared: &Arc<Mutex<State>>, method: &str, path: &str) -> bool {
    let gate = {
        let mut state = shared.lock().unwrap();
        let i = state.gates.iter().position(|g| {
            g.method.eq_ignore_ascii_case(method) && path.starts_with(&g.path_prefix)
        });
        i.map(|i| state.gates.remove(i))
    };
    let Some(mut gate) = gate else {
        return true;
    };
    if let Some(tx) = gate.arrived.take() {
        let _ = tx.send(());
    }
    match gate.release.take() {
        // A test that drops its handle lets the request through.
        Some(rx) => !matches!(rx.await, Ok(Release::Drop)),
        None => true,
    }
}
