//! `shengbo sim`: run the loopback simulator of county emergency-broadcast platforms, or write
//! an SM2 key pair for drills.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use super::Global;
use crate::directory::Directory;
use crate::ebd::keys::{KeySigner, load_verifying_key, write_key_pair};
use crate::sim::{SimClock, SimConfig, SimKeys, SimState, app};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// Simulator settings (TOML: profile, speed, terminals, faults).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Simulated seconds per real second (overrides the config).
    #[arg(long)]
    pub speed: Option<f64>,
    /// SM2 private key that signs the simulator's replies (PEM or hex; keep it outside the repo).
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// The sender's SM2 public key: verify incoming signatures (ResultCode 4 when they fail).
    #[arg(long)]
    pub peer_key: Option<PathBuf>,
    /// Write a fresh key pair into this folder and exit.
    #[arg(long, value_name = "DIR")]
    pub gen_keys: Option<PathBuf>,
}

fn load_config(args: &Args) -> anyhow::Result<SimConfig> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| crate::t!("sim-reading", path = path.display().to_string()))?;
            SimConfig::from_toml(&text)
                .with_context(|| crate::t!("sim-in-file", path = path.display().to_string()))?
        }
        None => SimConfig::default(),
    };
    if let Some(speed) = args.speed {
        config.speed = speed;
    }
    if config.terminals.is_empty() {
        config = config.with_directory(&Directory::liangshan());
    }
    Ok(config)
}

fn load_keys(args: &Args, config: &SimConfig) -> anyhow::Result<SimKeys> {
    let dist_id = &config.profile.sm2_dist_id;
    let signer = match &args.key {
        Some(p) => Some(Arc::new(KeySigner::load(p, dist_id)?) as Arc<dyn crate::ebd::Signer>),
        None => None,
    };
    let peer_key = match &args.peer_key {
        Some(p) => Some(load_verifying_key(p, dist_id)?),
        None => None,
    };
    Ok(SimKeys { signer, peer_key })
}

pub fn run(_global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    if let Some(dir) = &args.gen_keys {
        let (private, public) = write_key_pair(dir)?;
        println!(
            "{}",
            crate::t!("sim-private-key", path = private.display().to_string())
        );
        println!(
            "{}",
            crate::t!("sim-public-key", path = public.display().to_string())
        );
        return Ok(ExitCode::SUCCESS);
    }
    let config = load_config(&args)?;
    let keys = load_keys(&args, &config)?;
    let clock = SimClock::system(config.speed);
    let state = SimState::new(config, keys, clock).context(crate::t!("sim-profile"))?;
    let rt = super::runtime()?;
    rt.block_on(serve(args.listen, state))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(addr: SocketAddr, state: SimState) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| crate::t!("sim-binding", addr = addr.to_string()))?;
    let local = listener.local_addr()?;
    eprintln!(
        "{}",
        crate::t!("sim-listening", url = format!("http://{local}"))
    );
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context(crate::t!("sim-serving"))?;
    Ok(())
}
