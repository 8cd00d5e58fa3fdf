//! `GET /v1/coverage?from=&to=|since=&by=county|township&campaign=&format=json|csv`: the same
//! figures as `shengbo coverage`, for coordinators.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::auth::Principal;
use super::error::AppError;
use super::state::{AppState, EndpointStatus, Records};
use crate::coverage::{self, By, Report};

#[derive(Debug, Default, Deserialize)]
pub struct CoverageQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub since: Option<String>,
    pub by: Option<String>,
    pub campaign: Option<String>,
    pub format: Option<String>,
    /// The page's language (`zh` or `en`); the JSON and CSV ignore it.
    pub lang: Option<String>,
    #[allow(dead_code)]
    pub token: Option<String>,
}

impl CoverageQuery {
    /// The query, a missing period defaulting to the one that ends at `now` (the state's clock).
    pub fn to_query(&self, now: DateTime<Utc>) -> Result<coverage::Query, AppError> {
        let (from, to) = coverage::period(
            self.from.as_deref(),
            self.to.as_deref(),
            self.since.as_deref(),
            now,
        )
        .map_err(AppError::bad_request)?;
        let by = match self.by.as_deref() {
            None => By::County,
            Some(b) => b.parse::<By>().map_err(AppError::bad_request)?,
        };
        Ok(coverage::Query {
            from,
            to,
            by,
            campaign: self.campaign.clone().filter(|c| !c.is_empty()),
        })
    }
}

fn records(state: &AppState) -> Result<Arc<dyn Records>, AppError> {
    state
        .records()
        .ok_or_else(|| AppError::Unavailable(crate::t!("http-no-ledger")))
}

/// Build the report off the runtime (the records block). A report answers its own query only:
/// it sets no metric (the reach gauges follow runs, through `crate::reach::of_run`).
pub async fn report(state: &AppState, query: coverage::Query) -> Result<Report, AppError> {
    let records = records(state)?;
    let directory = state.directory().clone();
    let q = query.clone();
    let report = tokio::task::spawn_blocking(move || {
        let inputs = records.coverage_inputs(q.from, q.to, q.campaign.as_deref())?;
        Ok::<_, super::state::RecordsError>(coverage::aggregate(&inputs, &directory, &q))
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    Ok(report)
}

/// Endpoint health for the page, or an empty list when there are no records.
pub async fn endpoints(state: &AppState) -> Result<Vec<EndpointStatus>, AppError> {
    let Some(records) = state.records() else {
        return Ok(Vec::new());
    };
    let list = tokio::task::spawn_blocking(move || records.endpoints())
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    Ok(list)
}

pub async fn json_or_csv(
    State(state): State<AppState>,
    Query(q): Query<CoverageQuery>,
    principal: Principal,
) -> Result<Response, AppError> {
    principal.require_coordinator()?;
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv") {
        return Err(AppError::BadRequest(crate::t!(
            "http-unknown-format",
            format = format
        )));
    }
    let report = report(&state, q.to_query(state.now())?).await?;
    Ok(if format == "csv" {
        (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            coverage::to_csv(&report),
        )
            .into_response()
    } else {
        axum::Json(report).into_response()
    })
}
