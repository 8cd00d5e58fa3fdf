//! `shengbo demo`: the main job on a fresh clone with no outside service — the simulator on
//! loopback standing in for all 17 county platforms, the next slot occurrences of every
//! campaign pushed on an accelerated play clock, per-county outcomes and reach with their
//! denominator, and the ledger left in the data dir for coverage review.

use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

use super::Global;
use super::run::{
    beijing, by_state, load_project, load_registry, parse_time, percent, print_reach, pusher,
    thousands,
};
use crate::demo::{next_occurrences, set, start_sim};
use crate::dispatch::Clock;
use crate::push::outcome::{RunOutcome, build, run_outcome};
use crate::push::state::StateWait;
use crate::push::{PlayClock, Project, Pusher};
use crate::sim::Faults;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many slot occurrences to run (the next ones of every campaign).
    #[arg(long, default_value_t = 4)]
    pub slots: usize,
    /// Play-clock speed: simulated seconds per real second.
    #[arg(long, default_value_t = 600.0)]
    pub speed: f64,
    /// Start looking for slots here (RFC 3339 or `YYYY-MM-DD HH:MM` Beijing); default now.
    #[arg(long)]
    pub from: Option<String>,
    /// Simulated outages: share of requests answered HTTP 503 (retried).
    #[arg(long, default_value_t = 0.0)]
    pub outage_rate: f64,
    /// Share of accepted messages that fail to play (BrdStateCode 4).
    #[arg(long, default_value_t = 0.0)]
    pub play_fail_rate: f64,
    /// Share of terminals that play (partial coverage).
    #[arg(long, default_value_t = 1.0)]
    pub coverage: f64,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let rt = super::runtime()?;
    rt.block_on(demo(global, args))
}

async fn demo(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let from = match &args.from {
        Some(t) => parse_time(t)?,
        None => Utc::now(),
    };
    let data = global.data_dir();
    let project = Arc::new(load_project(&global.root, &data)?);
    anyhow::ensure!(
        !project.campaigns.is_empty(),
        "{}",
        crate::t!("run-no-campaign")
    );
    let mut registry = load_registry(&global.root, &project.directory, None)?;
    let clock = Arc::new(Mutex::new(PlayClock::starting_at(from, args.speed)));
    let faults = Faults {
        http_5xx_rate: args.outage_rate,
        brd_fail_rate: args.play_fail_rate,
        coverage_ratio: args.coverage,
        ..Faults::default()
    };
    let sim = start_sim(&project.directory, faults, Arc::clone(&clock)).await?;
    registry.substitute_sim(&sim.url);
    own_sim_only(&registry, &sim.url)?;
    let pusher = pusher(global, registry)?;
    let occurrences = next_occurrences(&project.campaigns, from, args.slots, TimeDelta::days(31));
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}\n",
        crate::t!(
            "demo-heading",
            platforms = pusher.registry.endpoints.len(),
            url = sim.url.as_str(),
            speed = args.speed.to_string(),
            slots = occurrences.len(),
            from = beijing(from)
        )
    )?;
    let mut runs = Vec::new();
    let mut bad = 0;
    for (at, campaigns) in &occurrences {
        let play = set(&clock, *at - TimeDelta::seconds(1), args.speed);
        let outcomes = one_slot(&pusher, &project, *at, campaigns, play).await?;
        for r in outcomes {
            bad += r.outcome.failed() + r.outcome.unsettled();
            print_slot(&mut out, *at, &r.campaign, &r.outcome)?;
            if r.already {
                writeln!(out, "{}", crate::t!("demo-already"))?;
            }
            runs.push(crate::reach::run_areas(
                &*pusher.ledger,
                r.run,
                &project.directory,
            )?);
        }
    }
    let merged = crate::reach::best_of(&runs);
    let total = build(&[], &merged, &project.directory, Default::default());
    print_counties(&mut out, &total, occurrences.len())?;
    let stats = sim.state.stats();
    let simulator = crate::t!(
        "demo-simulator",
        requests = stats.requests,
        messages = stats.messages,
        outages = stats.http_5xx
    );
    writeln!(out, "{simulator}")?;
    let wire = crate::t!(
        "demo-wire",
        packages = stats.wire_checked,
        skew = format!("{:.1}", stats.wire_skew_ms as f64 / 1000.0),
        mismatches = stats.wire_day_mismatches
    );
    writeln!(out, "{wire}")?;
    let seconds = format!("{:.1}", started.elapsed().as_secs_f64());
    writeln!(out, "{}\n", crate::t!("demo-done", seconds = seconds))?;
    let span = occurrences
        .first()
        .zip(occurrences.last())
        .map(|(a, b)| (a.0, b.0));
    print_next(&mut out, global, &data, span)?;
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The demo pushes only to its own loopback simulator: an endpoint whose URL is not
/// `{sim}/…` (a deployed registry's real platform) stops it before anything is recorded or sent.
fn own_sim_only(registry: &crate::endpoint::Registry, sim_url: &str) -> anyhow::Result<()> {
    let own = format!("{}/", sim_url.trim_end_matches('/'));
    let foreign = registry
        .endpoints
        .iter()
        .find(|e| e.enabled && !e.url.starts_with(&own));
    if let Some(e) = foreign {
        anyhow::bail!(
            "{}",
            crate::t!(
                "demo-foreign-endpoint",
                endpoint = e.id.as_str(),
                url = e.url.as_str()
            )
        );
    }
    Ok(())
}

/// Push every campaign firing at `at`, with the dispatcher's clock set just before it.
async fn one_slot(
    pusher: &Pusher,
    project: &Arc<Project>,
    at: DateTime<Utc>,
    campaigns: &[String],
    play: PlayClock,
) -> anyhow::Result<Vec<SlotResult>> {
    // Sent half a minute (real time) before the slot: both halves of a pair must be delivered
    // before its first half's window opens, retries included.
    let virtual_now = at - TimeDelta::seconds(30);
    let mut runs = Vec::new();
    for c in campaigns {
        // The run (its SendTime and the dates in its ids) is dated by the real clock.
        let now = pusher.wire.now();
        let (p, project, c) = (pusher.clone(), Arc::clone(project), c.clone());
        let prepared = tokio::task::spawn_blocking(move || {
            // Leased on the dispatcher's clock, which starts at `virtual_now` below.
            p.prepare_occurrence(&project, &c, at, now, Some(virtual_now))
        })
        .await??;
        runs.extend(prepared);
    }
    let dispatcher = pusher.dispatcher(Clock::starting_at(virtual_now));
    // Play-clock time: at ×600 six hours pass in 36 s of real time.
    let wait = StateWait {
        poll: Duration::from_secs(60),
        max_after: Duration::from_secs(6 * 3600),
        ..StateWait::of(&pusher.registry.push)
    };
    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    let already: Vec<bool> = runs
        .iter()
        .map(|r| r.deliveries.iter().all(|p| p.delivery.state.is_final()))
        .collect();
    pusher.drive(&dispatcher, &mut runs, play, wait, stop).await;
    let mut out = Vec::with_capacity(runs.len());
    for (r, already) in runs.iter().zip(already) {
        out.push(SlotResult {
            campaign: r.run.campaign.clone(),
            run: r.run.id,
            outcome: run_outcome(&pusher.ledger, r.run.id, &project.directory).await?,
            already,
        });
    }
    Ok(out)
}

/// One campaign's run at one slot.
struct SlotResult {
    campaign: String,
    run: crate::ledger::RunId,
    outcome: RunOutcome,
    /// Every delivery was already final in the ledger (an earlier demo ran this slot).
    already: bool,
}

fn print_slot(
    out: &mut impl Write,
    at: DateTime<Utc>,
    campaign: &str,
    o: &RunOutcome,
) -> anyhow::Result<()> {
    let r = &o.reach;
    let line = crate::t!(
        "demo-slot",
        at = beijing(at),
        campaign = campaign,
        deliveries = o.by_state.values().sum::<u32>(),
        states = by_state(o),
        reached = thousands(r.population_reached),
        targeted = thousands(r.population_targeted),
        share = percent(r.reached_share()),
        townships_reached = r.townships_reached,
        townships_targeted = r.townships_targeted,
    );
    writeln!(out, "{line}")?;
    Ok(())
}

fn print_counties(out: &mut impl Write, o: &RunOutcome, slots: usize) -> anyhow::Result<()> {
    writeln!(out, "\n{}", crate::t!("demo-per-county", slots = slots))?;
    let rows: Vec<Vec<String>> = o
        .counties
        .iter()
        .map(|c| {
            let f = &c.figures;
            vec![
                c.code.clone(),
                c.name.clone(),
                format!("{}/{}", f.townships_reached, f.townships_targeted),
                format!(
                    "{}/{}",
                    thousands(f.population_reached),
                    thousands(f.population_targeted)
                ),
                percent(f.reached_share()),
            ]
        })
        .collect();
    let header = [
        crate::t!("demo-col-county"),
        crate::t!("demo-col-name"),
        crate::t!("demo-col-townships"),
        crate::t!("demo-col-people"),
        "%".to_string(),
    ];
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    write!(
        out,
        "{}",
        super::plan::table::render(&header, &rows, &[2, 3, 4])
    )?;
    writeln!(out)?;
    print_reach(out, o, slots)?;
    Ok(())
}

fn print_next(
    out: &mut impl Write,
    global: &Global,
    data: &crate::datadir::DataDir,
    span: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> anyhow::Result<()> {
    let path = data.ledger().display().to_string();
    writeln!(out, "{}", crate::t!("demo-ledger-is", path = path))?;
    let root = global.root.display();
    let period = span.map_or(String::new(), |(first, last)| {
        let day = |t: DateTime<Utc>| t.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
        let to = day(last).succ_opt().unwrap_or(day(last));
        format!(" --from {} --to {to}", day(first))
    });
    writeln!(
        out,
        "  shengbo --root {root} coverage --by township{period}"
    )?;
    writeln!(out, "{}", crate::t!("demo-next-coverage"))?;
    let token = demo_token(data);
    writeln!(out, "  shengbo --root {root} serve --no-schedule")?;
    match token {
        Ok(t) => {
            let url = format!(
                "http://127.0.0.1:8470/coverage?token={t}{}",
                period
                    .replace(" --from ", "&from=")
                    .replace(" --to ", "&to=")
            );
            writeln!(out, "{}", crate::t!("demo-next-open", url = url))?
        }
        Err(e) => writeln!(out, "{}", crate::t!("demo-no-token", error = e.to_string()))?,
    }
    writeln!(
        out,
        "  shengbo --root {root} sim & shengbo --root {root} run --once --sim http://127.0.0.1:8090"
    )?;
    writeln!(out, "{}", crate::t!("demo-next-sim"))?;
    Ok(())
}

/// A fresh coordinator token named `demo` (an earlier one is replaced; secrets are not kept).
fn demo_token(data: &crate::datadir::DataDir) -> anyhow::Result<String> {
    use crate::server::auth;
    let path = data.path().join("tokens.json");
    let _ = auth::revoke(&path, "demo");
    Ok(auth::add(
        &path,
        "demo",
        auth::Scope::Coordinator,
        Utc::now(),
    )?)
}
