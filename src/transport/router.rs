//! The [`Router`]: the dispatcher's one [`Transport`], sending each job through the client of
//! its endpoint (EBD or webhook), built from the registry. An endpoint whose keys or secrets
//! cannot be loaded is kept out, with its reason; its jobs wait and expire, the others go on.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::ebd::{EbdClient, ExchangeError, Recipe};
use super::webhook::Webhook;
use crate::dispatch::{AttemptOutcome, DeliveryJob, RetryKind, Transport};
use crate::ebd::keys::{KeySigner, load_verifying_key};
use crate::ebd::{EbdProfile, Ebrid, PackageBytes};
use crate::endpoint::{Endpoint, Protocol, Registry, Signer as SignerCfg};
use crate::ledger::DeliveryId;

/// One endpoint's client.
#[derive(Debug, Clone)]
pub enum EndpointClient {
    Ebd(EbdClient),
    Webhook(Webhook),
}

/// Sends jobs to their endpoints.
#[derive(Debug, Clone, Default)]
pub struct Router {
    pub clients: BTreeMap<String, EndpointClient>,
    /// Endpoints left out, with the reason (bad key file, missing secret, …).
    pub broken: BTreeMap<String, String>,
    /// EBD packages are built per attempt from their recipes (ids and content).
    recipes: Arc<Mutex<HashMap<DeliveryId, Recipe>>>,
}

impl Router {
    /// Clients for every enabled endpoint of the registry.
    pub fn new(registry: &Registry, profile: &Arc<EbdProfile>, client: &reqwest::Client) -> Router {
        let mut router = Router::default();
        for e in registry.endpoints.iter().filter(|e| e.enabled) {
            match endpoint_client(e, profile, client) {
                Ok(c) => {
                    router.clients.insert(e.id.clone(), c);
                }
                Err(err) => {
                    tracing::error!(endpoint = %e.id, reason = %err, "endpoint left out");
                    router.broken.insert(e.id.clone(), err.to_string());
                }
            }
        }
        router
    }

    /// Keep `recipe` for `delivery`: its jobs then carry no bytes and are built per attempt.
    pub fn keep_recipe(&self, delivery: DeliveryId, recipe: Recipe) {
        self.recipes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(delivery, recipe);
    }

    /// Drop the recipes of deliveries the dispatcher is done with (a later dispatch of one,
    /// after a restart or a reload, keeps its recipe again).
    pub fn forget_recipes(&self, deliveries: impl IntoIterator<Item = DeliveryId>) {
        let mut recipes = self.recipes.lock().unwrap_or_else(|e| e.into_inner());
        for d in deliveries {
            recipes.remove(&d);
        }
    }

    fn recipe(&self, delivery: DeliveryId) -> Option<Recipe> {
        self.recipes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&delivery)
            .cloned()
    }

    /// An EBD job's package, built again from its recipe and checked against its record.
    async fn ebd_bytes(
        &self,
        c: &EbdClient,
        job: &DeliveryJob,
    ) -> Result<PackageBytes, ExchangeError> {
        let recipe = self
            .recipe(job.delivery.id)
            .ok_or(ExchangeError::NoRecipe(job.delivery.id))?;
        let digest = &job.delivery.plan.payload_digest;
        // Unsigned, with its clips in memory, a package is a few kilobytes of XML and tar
        // headers around shared audio: built here. Otherwise (a clip to read from disk, an SM2
        // signature to make) on a blocking thread.
        if !c.signs()
            && let Some(media) = super::media::held_media_files(&recipe.content)
        {
            return c.rebuild_with(&recipe, digest, &media);
        }
        let (c, digest) = (c.clone(), digest.clone());
        tokio::task::spawn_blocking(move || c.rebuild(&recipe, &digest)).await?
    }

    /// One attempt to cancel delivery `d` at its endpoint under package id `cancel_id`: an EBM
    /// with MsgType 2, or a webhook cancel body. `now` is the real clock.
    pub async fn cancel(
        &self,
        d: &crate::ledger::Delivery,
        cancel_id: &str,
        reason: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> AttemptOutcome {
        match self.clients.get(&d.plan.endpoint) {
            Some(EndpointClient::Ebd(c)) => match c.build_cancel(cancel_id, d, now) {
                Ok(pkg) => c.send_broadcast(cancel_id, &pkg.bytes).await,
                Err(e) => AttemptOutcome::Retryable {
                    kind: RetryKind::Other,
                    detail: format!("building the cancel: {e}"),
                },
            },
            Some(EndpointClient::Webhook(w)) => {
                let body = super::webhook::cancel_body(cancel_id, &d.plan.ebm_id, reason);
                w.send(cancel_id, body).await
            }
            None => AttemptOutcome::Retryable {
                kind: RetryKind::Other,
                detail: format!("endpoint `{}` is not in the registry", d.plan.endpoint),
            },
        }
    }

    pub fn ebd(&self, endpoint: &str) -> Option<&EbdClient> {
        match self.clients.get(endpoint) {
            Some(EndpointClient::Ebd(c)) => Some(c),
            _ => None,
        }
    }
}

fn endpoint_client(
    e: &Endpoint,
    profile: &Arc<EbdProfile>,
    client: &reqwest::Client,
) -> Result<EndpointClient, ExchangeError> {
    if e.url.contains(crate::endpoint::SIM_PLACEHOLDER) {
        return Err(ExchangeError::SimPlaceholder(e.url.clone()));
    }
    match &e.protocol {
        Protocol::Ebd { ebrid, signing } => {
            let dest = Ebrid::parse(ebrid, profile.id_format)?;
            let signer: Option<Arc<dyn crate::ebd::Signer>> = match &signing.signer {
                SignerCfg::None => None,
                SignerCfg::KeyFile(path) => {
                    Some(Arc::new(KeySigner::load(path, &profile.sm2_dist_id)?))
                }
            };
            let peer_key = match &signing.peer_public_key {
                Some(path) => Some(load_verifying_key(path, &profile.sm2_dist_id)?),
                None => None,
            };
            Ok(EndpointClient::Ebd(EbdClient {
                client: client.clone(),
                url: e.url.clone(),
                dest,
                timeout: e.timeout,
                profile: Arc::clone(profile),
                signer,
                peer_key,
            }))
        }
        Protocol::Webhook { secret } => Ok(EndpointClient::Webhook(Webhook {
            client: client.clone(),
            url: e.url.clone(),
            secret: secret.resolve()?,
            timeout: e.timeout,
        })),
    }
}

impl Transport for Router {
    async fn send(&self, job: &DeliveryJob) -> AttemptOutcome {
        match self.clients.get(&job.delivery.plan.endpoint) {
            Some(EndpointClient::Ebd(c)) => match self.ebd_bytes(c, job).await {
                Ok(package) => c.send_broadcast(&job.delivery.plan.ebd_id, &package).await,
                Err(err) => AttemptOutcome::Retryable {
                    kind: RetryKind::Other,
                    detail: err.to_string(),
                },
            },
            Some(EndpointClient::Webhook(w)) => {
                w.send(&job.delivery.plan.ebd_id, job.payload.to_vec())
                    .await
            }
            None => AttemptOutcome::Retryable {
                kind: RetryKind::Other,
                detail: match self.broken.get(&job.delivery.plan.endpoint) {
                    Some(reason) => format!(
                        "endpoint `{}` unavailable: {reason}",
                        job.delivery.plan.endpoint
                    ),
                    None => format!(
                        "endpoint `{}` is not in the registry",
                        job.delivery.plan.endpoint
                    ),
                },
            },
        }
    }
}
