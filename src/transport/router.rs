//! The [`Router`]: the dispatcher's one [`Transport`], sending each job through the client of
//! its endpoint (EBD or webhook), built from the registry. An endpoint whose keys or secrets
//! cannot be loaded is kept out, with its reason; its jobs wait and expire, the others go on.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::ebd::EbdClient;
use super::webhook::Webhook;
use crate::dispatch::{AttemptOutcome, DeliveryJob, RetryKind, Transport};
use crate::ebd::keys::{KeySigner, load_verifying_key};
use crate::ebd::{EbdProfile, Ebrid};
use crate::endpoint::{Endpoint, Protocol, Registry, Signer as SignerCfg};

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
                Err(reason) => {
                    tracing::error!(endpoint = %e.id, %reason, "endpoint left out");
                    router.broken.insert(e.id.clone(), reason);
                }
            }
        }
        router
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
) -> Result<EndpointClient, String> {
    if e.url.contains(crate::endpoint::SIM_PLACEHOLDER) {
        return Err(format!(
            "url `{}` still holds `{{sim}}`: run `shengbo demo`, or pass `--sim URL`",
            e.url
        ));
    }
    match &e.protocol {
        Protocol::Ebd { ebrid, signing } => {
            let dest = Ebrid::parse(ebrid, profile.id_format).map_err(|err| err.to_string())?;
            let signer: Option<Arc<dyn crate::ebd::Signer>> = match &signing.signer {
                SignerCfg::None => None,
                SignerCfg::KeyFile(path) => Some(Arc::new(
                    KeySigner::load(path, &profile.sm2_dist_id).map_err(|err| err.to_string())?,
                )),
            };
            let peer_key = match &signing.peer_public_key {
                Some(path) => Some(
                    load_verifying_key(path, &profile.sm2_dist_id)
                        .map_err(|err| err.to_string())?,
                ),
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
            secret: secret.resolve().map_err(|err| err.to_string())?,
            timeout: e.timeout,
        })),
    }
}

impl Transport for Router {
    async fn send(&self, job: &DeliveryJob) -> AttemptOutcome {
        match self.clients.get(&job.endpoint) {
            Some(EndpointClient::Ebd(c)) => {
                c.send_broadcast(&job.ebd_id, job.payload.to_vec()).await
            }
            Some(EndpointClient::Webhook(w)) => w.send(&job.ebd_id, job.payload.to_vec()).await,
            None => AttemptOutcome::Retryable {
                kind: RetryKind::Other,
                detail: match self.broken.get(&job.endpoint) {
                    Some(reason) => format!("endpoint `{}` unavailable: {reason}", job.endpoint),
                    None => format!("endpoint `{}` is not in the registry", job.endpoint),
                },
            },
        }
    }
}
