//! Data a database starts with: the default job configs (one per job
//! type, created once per database), and the synthetic demo dataset.

use grove_store::Change;
use grove_store::demo::{DemoSize, DemoSummary};

use crate::{App, AppError};

impl App {
    /// Creates the default job configs in a database that never had them;
    /// returns the ids created (none after the first time, even if they
    /// were deleted since).
    pub async fn seed_defaults(&self) -> Result<Vec<String>, AppError> {
        let created = grove_store::seed::seed_defaults(&*self.store, self.clock.now()).await?;
        for id in &created {
            self.wake(Change::Config(id.clone()));
        }
        Ok(created)
    }

    /// Loads the demo dataset: advancement rules, sprouts and signals.
    /// Rules are not scheduled, so the engine has nothing to learn.
    pub async fn load_demo(&self, size: DemoSize) -> Result<DemoSummary, AppError> {
        Ok(grove_store::demo::generate(&*self.store, size, self.clock.now()).await?)
    }
}
