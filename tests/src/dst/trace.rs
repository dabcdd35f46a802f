//! The run's trace: every event the simulator caused or saw, on simulated
//! time, with record ids named by the order they appeared in (`D3`: the
//! third dispute), so a replay of the same seed prints the same lines.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use uuid::Uuid;

/// The names given to ids, and how many of each prefix were given.
type Names = (HashMap<Uuid, String>, HashMap<&'static str, usize>);

/// The run's events and the names given to record ids.
#[derive(Debug, Default)]
pub struct Trace {
    lines: Mutex<Vec<String>>,
    names: Mutex<Names>,
}

impl Trace {
    /// Notes an event of `who` at the current host's simulated time.
    pub fn event(&self, who: &str, what: impl AsRef<str>) {
        self.event_at(turmoil::sim_elapsed().unwrap_or_default(), who, what)
    }

    /// Notes an event of `who` at `at`.
    pub fn event_at(&self, at: Duration, who: &str, what: impl AsRef<str>) {
        let line = format!("{} {who:<16} {}", clock(at), what.as_ref());
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).push(line);
    }

    /// The name of `id` (`prefix` and its rank among the `prefix` ids named).
    pub fn name(&self, prefix: &'static str, id: Uuid) -> String {
        let mut g = self.names.lock().unwrap_or_else(|p| p.into_inner());
        let (names, counts) = &mut *g;
        if let Some(n) = names.get(&id) {
            return n.clone();
        }
        let c = counts.entry(prefix).or_default();
        *c += 1;
        let n = format!("{prefix}{c}");
        names.insert(id, n.clone());
        n
    }

    /// Gives `id` the name `name` (a user's sign-in name).
    pub fn alias(&self, id: Uuid, name: &str) {
        self.names.lock().unwrap_or_else(|p| p.into_inner()).0.insert(id, name.to_string());
    }

    /// The name already given to `id`, or a short form of it.
    pub fn known(&self, id: Uuid) -> String {
        let g = self.names.lock().unwrap_or_else(|p| p.into_inner());
        g.0.get(&id).cloned().unwrap_or_else(|| format!("#{}", &id.simple().to_string()[24..]))
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// How many events so far.
    pub fn len(&self) -> usize {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether nothing happened yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `hh:mm:ss.mmm` of a simulated duration.
pub fn clock(at: Duration) -> String {
    let ms = at.as_millis();
    format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}
