//! `shengbo run --once`: one slot occurrence — plan it, write the run and its deliveries to the
//! ledger before sending, push, wait for final states within a bound, print per-township
//! outcomes and the run's reach. Exit 0 when every delivery reached a final state and none
//! failed; 1 when some failed, expired, were refused or are still unsettled.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

use super::Global;
use crate::directory::Directory;
use crate::dispatch::Clock;
use crate::ledger::{Delivery, DeliveryState};
use crate::push::outcome::{RunOutcome, run_outcome};
use crate::push::state::StateWait;
use crate::push::{PlayClock, PreparedRun, Pusher};
use crate::schedule::Campaign;

mod setup;

pub(crate) use setup::{load_project, load_registry, pusher};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run one slot occurrence and exit (the daemon is `shengbo serve`).
    #[arg(long)]
    pub once: bool,
    /// The occurrence: RFC 3339, or `YYYY-MM-DD HH:MM` Beijing time. Default: the latest one
    /// still inside its air-by window, else the next one.
    #[arg(long)]
    pub at: Option<String>,
    /// Only this campaign (default: every campaign with a slot at that time).
    #[arg(long)]
    pub campaign: Option<String>,
    /// Base URL replacing `{sim}` in the endpoint registry (a running `shengbo sim`).
    #[arg(long, env = "SHENGBO_SIM_URL")]
    pub sim: Option<String>,
    /// Seconds to wait for play states after the play window (default: `[push] state_wait_s`).
    #[arg(long)]
    pub wait: Option<u64>,
    /// Play-clock speed for drills against the simulator (its `--speed`): state requests go out
    /// this many times sooner after the play window.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
    /// The name this process holds its delivery leases under and records on its attempts, as
    /// `serve --instance` (default: the host name). Two processes pushing into one shared
    /// ledger from the same host need different names.
    #[arg(long, env = "SHENGBO_INSTANCE", value_parser = super::serve::parse_instance)]
    pub instance: Option<String>,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    if !args.once {
        anyhow::bail!("{}", crate::t!("run-needs-once"));
    }
    let rt = super::runtime()?;
    rt.block_on(run_once(global, args))
}

async fn run_once(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let root = global.root.clone();
    let project = load_project(&root, &global.data_dir())?;
    let registry = load_registry(&root, &project.directory, args.sim.as_deref())?;
    let mut pusher = pusher(global, registry)?;
    if let Some(name) = &args.instance {
        pusher.instance = name.as_str().into();
    }
    let now = Utc::now();
    let picks = pick(
        &project.campaigns,
        args.campaign.as_deref(),
        args.at.as_deref(),
        now,
        pusher.registry.push.air_by,
    )?;
    let mut runs = Vec::new();
    for (campaign, occurrence) in &picks {
        // Recorded leased to this instance: the system clock below drives the run.
        let now = Utc::now();
        match pusher.prepare_occurrence(&project, campaign, *occurrence, now, Some(now))? {
            Some(r) => runs.push(r),
            None => eprintln!(
                "{}",
                crate::t!(
                    "run-nothing-airs",
                    campaign = campaign.as_str(),
                    at = beijing(*occurrence)
                )
            ),
        }
    }
    let wait = StateWait {
        max_after: args
            .wait
            .map_or(pusher.registry.push.state_wait, Duration::from_secs),
        ..StateWait::of(&pusher.registry.push)
    };
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop_tx.send(true);
    });
    let dispatcher = pusher.dispatcher(Clock::system());
    let play = PlayClock::starting_at(Utc::now(), args.speed);
    pusher.drive(&dispatcher, &mut runs, play, wait, stop).await;
    let mut code = ExitCode::SUCCESS;
    for r in &runs {
        let outcome = run_outcome(&pusher.ledger, r.run.id, &project.directory).await?;
        print_run(r, &outcome, &project.directory, args.json)?;
        if !args.json {
            // The whole run is read only for the pairs a cancel names (usually none).
            let cancels = pusher.ledger.cancels(Some(r.run.id))?;
            if !cancels.is_empty() {
                let deliveries = pusher.ledger.deliveries_of_run(r.run.id)?;
                for line in crate::push::pairs::pair_lines(&cancels, &deliveries) {
                    println!("{line}");
                }
            }
        }
        let open = pusher
            .ledger
            .deliveries_of_run_in(r.run.id, &DeliveryState::NOT_FINAL)?;
        let waiting = unsettled(&pusher, &open);
        if waiting > 0 {
            eprintln!("{}", crate::t!("run-unsettled", count = waiting));
        }
        if outcome.failed() > 0 || waiting > 0 || !r.unserved.is_empty() {
            code = ExitCode::from(1);
        }
    }
    Ok(code)
}

/// Of a run's deliveries not in a final state, those still unsettled: all but webhook deliveries
/// that were delivered (a webhook has no play-state channel: delivered is all it can say).
fn unsettled(pusher: &Pusher, open: &[Delivery]) -> usize {
    open.iter()
        .filter(|d| {
            let webhook = matches!(
                pusher.router.clients.get(&d.plan.endpoint),
                Some(crate::transport::EndpointClient::Webhook(_))
            );
            !(webhook && d.state == DeliveryState::Delivered)
        })
        .count()
}

/// Which (campaign, occurrence) pairs to run.
pub(crate) fn pick(
    campaigns: &[Campaign],
    only: Option<&str>,
    at: Option<&str>,
    now: DateTime<Utc>,
    air_by: Duration,
) -> anyhow::Result<Vec<(String, DateTime<Utc>)>> {
    let chosen: Vec<&Campaign> = campaigns
        .iter()
        .filter(|c| only.is_none_or(|id| c.id == id))
        .collect();
    if chosen.is_empty() {
        match only {
            Some(id) => anyhow::bail!("{}", crate::t!("run-no-such-campaign", id = id)),
            None => anyhow::bail!("{}", crate::t!("run-no-campaign")),
        }
    }
    let occurrences = |c: &Campaign, from: DateTime<Utc>, to: DateTime<Utc>| {
        c.occurrences(from, to)
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
    };
    let first_after = |t: DateTime<Utc>| {
        // An hour, a day, then a week ahead: a minute-by-minute drill stays cheap.
        [TimeDelta::hours(1), TimeDelta::days(1), TimeDelta::days(8)]
            .into_iter()
            .find_map(|h| {
                chosen
                    .iter()
                    .filter_map(|c| occurrences(c, t, t + h).first().copied())
                    .min()
            })
    };
    let instant = match at {
        Some(text) => {
            let t = parse_time(text)?;
            first_after(t).with_context(|| crate::t!("run-no-slot-after", at = text))?
        }
        None => {
            let back = now - TimeDelta::from_std(air_by).unwrap_or(TimeDelta::minutes(30));
            let recent = chosen
                .iter()
                .filter_map(|c| {
                    occurrences(c, back, now + TimeDelta::seconds(1))
                        .last()
                        .copied()
                })
                .max();
            recent
                .or_else(|| first_after(now))
                .with_context(|| crate::t!("run-no-slot-week"))?
        }
    };
    Ok(chosen
        .iter()
        .filter(|c| occurrences(c, instant, instant + TimeDelta::seconds(1)).contains(&instant))
        .map(|c| (c.id.clone(), instant))
        .collect())
}

/// RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` in Beijing time.
pub(crate) fn parse_time(text: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
        .with_context(|| crate::t!("run-not-a-time", at = text))?;
    Shanghai
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .with_context(|| crate::t!("run-not-beijing-time", at = text))
}

pub(crate) fn beijing(t: DateTime<Utc>) -> String {
    t.with_timezone(&Shanghai)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn print_run(r: &PreparedRun, o: &RunOutcome, dir: &Directory, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, o)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{}",
        crate::t!(
            "run-heading",
            run = r.run.id.to_string(),
            campaign = r.run.campaign.as_str(),
            at = beijing(r.run.occurrence)
        )
    )?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    for t in &o.townships {
        let st = |l| {
            t.states
                .get(&l)
                .map_or("-", |s: &crate::ledger::DeliveryState| s.as_str())
                .to_string()
        };
        rows.push(vec![
            t.code.clone(),
            t.name.clone(),
            st(crate::lang::Lang::Ii),
            st(crate::lang::Lang::Zh),
            t.reason.clone().unwrap_or_default(),
        ]);
    }
    for code in &r.unserved {
        let name = dir
            .township(code)
            .map(|t| t.name.clone())
            .unwrap_or_default();
        let none = "-".to_string();
        rows.push(vec![
            code.clone(),
            name,
            none.clone(),
            none,
            crate::t!("run-unserved"),
        ]);
    }
    let header = [
        crate::t!("run-col-township"),
        crate::t!("run-col-name"),
        "ii".to_string(),
        "zh".to_string(),
        crate::t!("run-col-reason"),
    ];
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    write!(out, "{}", super::plan::table::render(&header, &rows, &[]))?;
    print_reach(&mut out, o, 1)
}

pub(crate) fn print_reach(out: &mut impl Write, o: &RunOutcome, runs: usize) -> anyhow::Result<()> {
    let r = &o.reach;
    if !o.by_state.is_empty() {
        writeln!(out, "{}", crate::t!("run-deliveries", states = by_state(o)))?;
    }
    writeln!(
        out,
        "{}",
        crate::t!(
            "run-reach",
            reached = thousands(r.population_reached),
            targeted = thousands(r.population_targeted),
            share = percent(r.reached_share()),
            townships_reached = r.townships_reached,
            townships_targeted = r.townships_targeted,
            townships_played = r.townships_played,
            played = thousands(r.population_played),
            played_share = percent(r.played_share()),
        )
    )?;
    if r.townships_unreported > 0 {
        writeln!(
            out,
            "{}",
            crate::t!(
                "run-unreported",
                townships = r.townships_unreported,
                people = thousands(r.population_unreported)
            )
        )?;
    }
    writeln!(
        out,
        "{}",
        crate::t!(
            "run-denominator",
            townships = r.townships_targeted,
            runs = runs
        )
    )?;
    Ok(())
}

/// `3 played, 1 failed`: the deliveries of an outcome counted by state (state names stay
/// the ledger's).
pub(crate) fn by_state(o: &RunOutcome) -> String {
    let states: Vec<String> = o
        .by_state
        .iter()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    states.join(&crate::t!("list-separator"))
}

/// A share (0–1) as a percentage with one decimal, `-` when there is none.
pub(crate) fn percent(share: Option<f64>) -> String {
    share.map_or("-".to_string(), crate::reach::percent)
}

pub(crate) use crate::reach::thousands;
