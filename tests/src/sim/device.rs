//! One simulated phone: a real [`FieldClient`] with its own store and device id,
//! signed in as a grid head, recording visits, disputes and photos and syncing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fengqiao_core::{ClientError, ClientOptions, FieldClient, MemoryClientStore, NewDispute, NewPhoto, NewVisit};
use fengqiao_domain::disputes::{Analysis, Difficulty, Party};
use fengqiao_domain::ladder::Grade;
use fengqiao_domain::{EntityKind, Household, VisitKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use super::stats::Tally;
use super::{Login, StoreKind};

/// A simulated phone and what it has recorded.
pub struct Device {
    /// Index in the run.
    pub index: usize,
    /// The phone core.
    pub client: Arc<FieldClient>,
    /// The signed-in user.
    pub user: Uuid,
    /// Every record this phone recorded (the core said it was saved).
    pub recorded: Vec<(EntityKind, Uuid)>,
    households: Vec<Household>,
    group: Option<Uuid>,
    last_visit: Option<Uuid>,
    rng: StdRng,
    dir: PathBuf,
    cycles: u64,
}

/// What a device does in one cycle.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// Ops recorded before each sync.
    pub ops: usize,
    /// Chance (0..1) that the phone has no signal at a sync time (records, skips the sync).
    pub offline: f64,
    /// Attach a small photo every third cycle.
    pub photos: bool,
    /// Report a dispute every fourth cycle.
    pub disputes: bool,
}

fn options(photo_dir: Option<PathBuf>) -> ClientOptions {
    ClientOptions {
        connect_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(60),
        photo_dir,
        // Small chunks: photos here are tens of kilobytes.
        upload_chunk_bytes: 256 * 1024,
        ..ClientOptions::default()
    }
}

impl Device {
    /// Opens the phone's store (in memory, or sled under `dir`), signs in (waiting
    /// out the server's sign-in rate limit) and pulls its jurisdiction.
    pub async fn start(
        index: usize,
        url: &str,
        login: &Login,
        store: StoreKind,
        dir: PathBuf,
        seed: u64,
    ) -> anyhow::Result<Device> {
        std::fs::create_dir_all(&dir)?;
        let photos = Some(dir.join("photos"));
        let client = match store {
            StoreKind::Memory => {
                FieldClient::with_store(Arc::new(MemoryClientStore::new()), url.to_string(), options(photos))?
            }
            StoreKind::Sled => FieldClient::open(
                dir.join("store").to_string_lossy().into_owned(),
                url.into(),
                crate::phone::store_key(),
                options(photos),
            )?,
        };
        let mut waited = 0;
        let info = loop {
            match client.login(login.username.clone(), login.password.clone()).await {
                Ok(info) => break info,
                Err(ClientError::RateLimited) if waited < 120 => {
                    waited += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => return Err(anyhow::anyhow!("device {index} ({}): sign-in: {e}", login.username)),
            }
        };
        client.sync().await.map_err(|e| anyhow::anyhow!("device {index}: first sync: {e}"))?;
        let households = client.households()?;
        if households.is_empty() {
            anyhow::bail!("device {index} ({}): no households in its jurisdiction", login.username);
        }
        let group = client.units()?.into_iter().find(|u| u.level == fengqiao_domain::UnitLevel::Group).map(|u| u.id);
        Ok(Device {
            index,
            client: Arc::new(client),
            user: info.id,
            recorded: Vec::new(),
            households,
            group,
            last_visit: None,
            rng: StdRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            dir,
            cycles: 0,
        })
    }

    /// A random number in `0..n`.
    pub fn rand_below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.rng.gen_range(0..n)
        }
    }

    /// Whether the phone is out of signal this time.
    pub fn offline(&mut self, chance: f64) -> bool {
        chance > 0.0 && self.rng.gen_bool(chance.clamp(0.0, 1.0))
    }

    /// Records `w.ops` operations offline (visits; a dispute and a photo on their
    /// cycles). Failures are counted, not fatal.
    pub async fn record(&mut self, w: &Workload, n: usize, tally: &Tally) {
        self.cycles += 1;
        for k in 0..n {
            let result = if w.disputes && self.cycles % 4 == 1 && k == 0 && self.group.is_some() {
                self.dispute().await
            } else if w.photos && self.cycles % 3 == 0 && k == 1 && self.last_visit.is_some() {
                self.photo().await
            } else {
                self.visit().await
            };
            match result {
                Ok(rec) => {
                    self.recorded.push(rec);
                    tally.recorded(rec.0);
                }
                Err(e) => tally.record_error(&e),
            }
        }
    }

    /// Runs a blocking phone call off the async workers (the sled store fsyncs).
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&FieldClient) -> Result<T, ClientError> + Send + 'static,
    ) -> Result<T, String> {
        let c = self.client.clone();
        match tokio::task::spawn_blocking(move || f(&c)).await {
            Ok(r) => r.map_err(|e| e.code().to_string()),
            Err(_) => Err("panic".into()),
        }
    }

    async fn visit(&mut self) -> Result<(EntityKind, Uuid), String> {
        let i = self.rand_below(self.households.len() as u64) as usize;
        let h = self.households[i].id;
        let notes = format!("设备{}第{}轮走访：了解生产生活情况，宣传调解法，无纠纷苗头。", self.index, self.cycles);
        let v = self
            .blocking(move |c| {
                c.record_visit(NewVisit {
                    household_id: h,
                    body: None,
                    kind: VisitKind::Routine,
                    visited_at: None,
                    notes,
                    location: None,
                    leads: vec![],
                })
            })
            .await?;
        self.last_visit = Some(v.id);
        Ok((EntityKind::Visit, v.id))
    }

    async fn dispute(&mut self) -> Result<(EntityKind, Uuid), String> {
        let origin = self.group.ok_or("no group")?;
        let d = self
            .blocking(move |c| {
                c.report_dispute(NewDispute {
                    kind: "neighbour".into(),
                    origin_unit: origin,
                    parties: vec![
                        Party { name: "李四".into(), household_id: None, phone: None },
                        Party { name: "赵六".into(), household_id: None, phone: None },
                    ],
                    summary: "宅基地边界争议".into(),
                    grade: Grade::General,
                    analysis: Analysis {
                        cause: "界址不清".into(),
                        consequences: "邻里失和".into(),
                        difficulty: Difficulty::Low,
                    },
                    found_at: None,
                    lead_id: None,
                    level: None,
                })
            })
            .await?;
        Ok((EntityKind::Dispute, d.id))
    }

    async fn photo(&mut self) -> Result<(EntityKind, Uuid), String> {
        let target = self.last_visit.ok_or("no visit")?;
        let len = 16 * 1024 + self.rand_below(48 * 1024) as usize;
        let bytes = crate::phone::as_jpeg((0..len).map(|_| self.rng.gen()).collect());
        let src = self.dir.join(format!("camera-{}.jpg", self.cycles));
        std::fs::write(&src, &bytes).map_err(|e| e.to_string())?;
        let path = src.to_string_lossy().into_owned();
        let a = self
            .blocking(move |c| {
                c.attach_photo(NewPhoto {
                    target_kind: EntityKind::Visit,
                    target_id: target,
                    source_path: path,
                    content_type: "image/jpeg".into(),
                    caption: "现场照片".into(),
                })
            })
            .await?;
        let _ = std::fs::remove_file(&src);
        Ok((EntityKind::Attachment, a.id))
    }

    /// One timed sync; the latency and its report go into `tally`.
    pub async fn sync(&self, tally: &Tally) -> Result<Duration, ClientError> {
        let t = Instant::now();
        let r = self.client.sync().await;
        let took = t.elapsed();
        match &r {
            Ok(report) => tally.synced(took, report),
            Err(e) => tally.sync_error(e),
        }
        r.map(|_| took)
    }

    /// Syncs until nothing is queued (ops and photos), at most `tries` times.
    pub async fn drain(&self, tally: &Tally, tries: usize) -> bool {
        for _ in 0..tries {
            let _ = self.sync(tally).await;
            match self.client.sync_status() {
                Ok(s) if s.pending_ops == 0 && s.photos_pending == 0 => return true,
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        false
    }
}
