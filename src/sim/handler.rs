//! The simulator's HTTP edge: take the package out of the multipart body, roll the fault dice,
//! validate (with the sender checks of the id layouts: EBDID, EBMID and `SRC/EBRID` name the
//! same code), update playback, and answer with a signed response tar.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::Rng;

use super::{SimState, lock};
use crate::ebd::assemble::{BuiltPackage, ReplyError, reply_package};
use crate::ebd::package::{Limits, read_package};
use crate::ebd::{
    Body, Ebd, EbdId, EbdResponse, EbmBrdLog, EbmStateResponse, MsgType, PackageBytes, ResultCode,
    Verdict, validate_package,
};
use crate::server::ebd_state::tar_part;

fn plain(status: StatusCode, text: String) -> Response {
    (status, text).into_response()
}

impl SimState {
    fn roll(&self, rate: f64) -> bool {
        rate > 0.0 && (rate >= 1.0 || lock(&self.inner.rng).random::<f64>() < rate)
    }

    fn count_code(&self, code: ResultCode) {
        lock(&self.inner.stats).by_code[usize::from(code.code())] += 1;
    }
}

/// `POST` with a multipart body: the first file part whose name ends in `.tar` is the package.
pub(super) async fn receive(State(sim): State<SimState>, multipart: Multipart) -> Response {
    lock(&sim.inner.stats).requests += 1;
    let faults = sim.inner.config.faults.clone();
    if sim.roll(faults.http_5xx_rate) {
        lock(&sim.inner.stats).http_5xx += 1;
        return plain(StatusCode::SERVICE_UNAVAILABLE, "simulated outage".into());
    }
    if sim.roll(faults.slow_rate) {
        tokio::time::sleep(Duration::from_millis(faults.slow_ms)).await;
    }
    let bytes = match tar_part(multipart).await {
        Ok(b) => b,
        Err(e) => {
            lock(&sim.inner.stats).bad_requests += 1;
            tracing::info!(error = %e, "request refused");
            return plain(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    let state = sim.clone();
    let answer = tokio::task::spawn_blocking(move || state.answer(&bytes)).await;
    match answer {
        Ok(Ok(pkg)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", pkg.name),
                ),
            ],
            pkg.bytes.to_vec(),
        )
            .into_response(),
        Ok(Err(Unanswered::Unavailable(msg))) => {
            tracing::info!(%msg, "request refused for now");
            plain(StatusCode::SERVICE_UNAVAILABLE, msg)
        }
        Ok(Err(Unanswered::Internal(e))) => {
            tracing::error!(error = %e, "simulator could not build its reply");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "simulator error".into())
        }
        Err(e) => {
            tracing::error!(error = %e, "simulator could not build its reply");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "simulator error".into())
        }
    }
}

/// Why a package got no reply tar.
#[derive(Debug, thiserror::Error)]
enum Unanswered {
    /// An injected refusal answered HTTP 503 (the sender retries).
    #[error("{0}")]
    Unavailable(String),
    /// The simulator failed to build its reply.
    #[error(transparent)]
    Internal(#[from] ReplyError),
}

/// An id in a package from another sender than its `SRC/EBRID`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} `{id}` is from sender `{sender}`, SRC/EBRID is `{src}`")]
pub(super) struct SenderMismatch {
    what: &'static str,
    id: String,
    sender: String,
    src: String,
}

/// The sender checks of the id layouts: the sender code inside the EBDID, inside a broadcast's
/// EBMID and inside the EBMID a state request asks about are all the package's `SRC/EBRID`
/// (a sender asks only about its own messages). A pair's `RelatedInfo` may name another code.
pub(super) fn check_senders(ebd: &Ebd) -> Result<(), SenderMismatch> {
    let src = &ebd.src.ebrid;
    let mismatch = |what, id: &dyn std::fmt::Display, sender: &crate::ebd::Ebrid| SenderMismatch {
        what,
        id: id.to_string(),
        sender: sender.to_string(),
        src: src.to_string(),
    };
    if ebd.id.sender() != src {
        return Err(mismatch("EBDID", &ebd.id, ebd.id.sender()));
    }
    let (what, ebm_id) = match &ebd.body {
        Body::Ebm(ebm) => ("EBMID", &ebm.id),
        Body::EbmStateRequest(r) => ("asked EBMID", &r.ebm_id),
        _ => return Ok(()),
    };
    if ebm_id.sender() != src {
        return Err(mismatch(what, ebm_id, ebm_id.sender()));
    }
    Ok(())
}

impl SimState {
    /// Validate one package and build the reply tar (blocking work).
    fn answer(&self, bytes: &PackageBytes) -> Result<BuiltPackage, Unanswered> {
        let faults = &self.inner.config.faults;
        if let Some(code) = faults.force_result_code
            && self.roll(faults.force_result_rate)
        {
            let code = ResultCode::from_code(code).unwrap_or(ResultCode::Other);
            let ebdid = read_package(bytes.reader(), &Limits::default())
                .ok()
                .map(|r| r.ebdid);
            let verdict = Verdict {
                code,
                desc: format!("simulated fault: {}", code.desc_zh()),
                ebdid,
                package: None,
            };
            return Ok(self.reply_verdict(&verdict, None)?);
        }
        let verdict = validate_package(bytes.reader(), &self.inner.inbound);
        let Some(pkg) = &verdict.package else {
            return Ok(self.reply_verdict(&verdict, None)?);
        };
        let ebd = &pkg.ebd;
        let checked = check_senders(ebd)
            .map_err(|e| (ResultCode::ParseFailure, e.to_string()))
            .and_then(|()| {
                super::areas::check_areas(ebd).map_err(|e| (ResultCode::Other, e.to_string()))
            });
        if let Err((code, desc)) = checked {
            tracing::info!(ebdid = %ebd.id, %desc, "package refused");
            let refused = Verdict {
                code,
                desc,
                ebdid: verdict.ebdid.clone(),
                package: None,
            };
            return Ok(self.reply_verdict(&refused, Some(ebd))?);
        }
        self.note_wire(ebd);
        if let Body::EbmStateRequest(r) = &ebd.body {
            *lock(&self.inner.asked)
                .entry(r.ebm_id.as_str().to_string())
                .or_default() += 1;
        }
        let body = match &ebd.body {
            Body::Ebm(ebm) if ebm.basic.msg_type == MsgType::Cancel => {
                let v = self.take_cancel(ebm, &verdict)?;
                return Ok(self.reply_verdict(&v, Some(ebd))?);
            }
            Body::Ebm(_) if self.inner.hold_broadcasts.load(Ordering::SeqCst) => {
                return Err(Unanswered::Unavailable(
                    "simulated outage of broadcasts".into(),
                ));
            }
            Body::Ebm(ebm) => {
                self.refuse_lang(ebm)?;
                self.take_ebm(ebm);
                None
            }
            Body::EbmStateRequest(_) if self.inner.hold_states.load(Ordering::SeqCst) => {
                lock(&self.inner.stats).states_held += 1;
                return Err(Unanswered::Unavailable(
                    "simulated outage of state requests".into(),
                ));
            }
            Body::EbmStateRequest(r) => Some(self.state_response(r.ebm_id.as_str())),
            Body::OmdRequest(r) if r.omd_type == "EBMBrdLog" => {
                let platform = self
                    .inner
                    .config
                    .profile
                    .sender()
                    .map_err(ReplyError::Sender)?;
                let now = self.inner.clock.now();
                let items =
                    lock(&self.inner.playback).log(r.params.start, r.params.end, now, &platform);
                Some(Body::EbmBrdLog(EbmBrdLog {
                    params: Some(r.params.clone()),
                    items,
                }))
            }
            _ => None,
        };
        Ok(match body {
            None => self.reply_verdict(&verdict, Some(ebd))?,
            Some(b) => {
                self.count_code(ResultCode::Ok);
                self.reply(b, Some(ebd), verdict.ebdid.as_deref())?
            }
        })
    }

    /// How far a package's wire times are from the wall clock (a platform's own clock), and
    /// whether its ids are dated the day of its `EBDTime`.
    fn note_wire(&self, ebd: &Ebd) {
        let real = chrono::Utc::now();
        let mut times = vec![ebd.time];
        let mut days: Vec<chrono::NaiveDate> = ebd.id.sequence().map(|s| s.0).into_iter().collect();
        if let Body::Ebm(e) = &ebd.body {
            times.push(e.basic.send_time);
            days.push(e.id.day());
        }
        let skew = times
            .iter()
            .map(|t| (*t - real).num_milliseconds().unsigned_abs())
            .max()
            .unwrap_or(0);
        let day = ebd
            .time
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive();
        let mut stats = lock(&self.inner.stats);
        stats.wire_checked += 1;
        stats.wire_skew_ms = stats.wire_skew_ms.max(skew);
        if days.iter().any(|d| *d != day) {
            stats.wire_day_mismatches += 1;
        }
    }

    /// `refuse_lang`: a broadcast in the refused language is answered HTTP 503.
    fn refuse_lang(&self, ebm: &crate::ebd::Ebm) -> Result<(), Unanswered> {
        let refused = self.inner.config.faults.refuse_lang.as_deref();
        let lang = ebm.content.as_ref().map(|c| c.language_code.as_str());
        if refused.is_some() && refused == lang {
            lock(&self.inner.stats).refused_lang += 1;
            return Err(Unanswered::Unavailable(format!(
                "simulated refusal: this platform takes no `{}` broadcasts",
                lang.unwrap_or_default()
            )));
        }
        Ok(())
    }

    /// A cancel (MsgType 2) stops a known message that has not finished playing; a platform
    /// refuses one it does not hold or that has already played (ResultCode 5).
    fn take_cancel(&self, ebm: &crate::ebd::Ebm, ok: &Verdict) -> Result<Verdict, Unanswered> {
        if self.inner.hold_cancels.load(Ordering::SeqCst) {
            lock(&self.inner.stats).cancels_held += 1;
            return Err(Unanswered::Unavailable(
                "simulated outage of cancels".into(),
            ));
        }
        let now = self.inner.clock.now();
        let refused = self.inner.config.faults.refuse_cancel;
        let done = !refused && lock(&self.inner.playback).cancel(ebm, now);
        tracing::info!(ebmid = %ebm.id, cancelled = done, "cancel received");
        let mut stats = lock(&self.inner.stats);
        if done {
            stats.cancels += 1;
            return Ok(Verdict {
                code: ok.code,
                desc: ok.desc.clone(),
                ebdid: ok.ebdid.clone(),
                package: None,
            });
        }
        stats.cancels_refused += 1;
        let desc = if refused {
            "simulated refusal: the message has gone out to the loudspeakers and cannot be cancelled"
        } else {
            "cannot cancel: the message is unknown here or has finished playing"
        };
        Ok(Verdict {
            code: ResultCode::Other,
            desc: desc.into(),
            ebdid: ok.ebdid.clone(),
            package: None,
        })
    }

    fn take_ebm(&self, ebm: &crate::ebd::Ebm) {
        let cfg = &self.inner.config;
        let areas = ebm
            .content
            .as_ref()
            .map(|c| c.area_codes.as_slice())
            .unwrap_or(&[]);
        let terminals: u32 = areas.iter().map(|a| cfg.terminals_of(a)).sum();
        let ratio = cfg.faults.coverage_ratio.clamp(0.0, 1.0);
        let played = (f64::from(terminals) * ratio).floor() as u32;
        let fails = self.roll(cfg.faults.brd_fail_rate);
        let new = lock(&self.inner.playback).record(ebm, fails, terminals, played);
        if new {
            lock(&self.inner.stats).messages += 1;
        }
        tracing::info!(ebmid = %ebm.id, terminals, played, fails, new, "broadcast accepted");
    }

    fn state_response(&self, ebm_id: &str) -> Body {
        let now = self.inner.clock.now();
        let report = self.report(ebm_id);
        let id = crate::ebd::EbmId::parse(ebm_id, self.inner.config.profile.id_format)
            .expect("validated by the parser");
        Body::EbmStateResponse(match report {
            Some(r) => EbmStateResponse {
                rpt_time: now,
                ebm_id: id,
                brd_state_code: r.state.code(),
                brd_state_desc: Some(r.state.desc_zh().to_owned()),
                coverage: r.coverage,
                res_brd_info: r.res_brd_info,
            },
            None => EbmStateResponse {
                rpt_time: now,
                ebm_id: id,
                brd_state_code: 0,
                brd_state_desc: Some("未收到该消息".into()),
                coverage: None,
                res_brd_info: Vec::new(),
            },
        })
    }

    fn reply_verdict(&self, v: &Verdict, req: Option<&Ebd>) -> Result<BuiltPackage, ReplyError> {
        self.count_code(v.code);
        let body = Body::EbdResponse(EbdResponse {
            result_code: v.code.code(),
            result_desc: v.desc.clone(),
        });
        self.reply(body, req, v.ebdid.as_deref())
    }

    fn reply(
        &self,
        body: Body,
        req: Option<&Ebd>,
        req_id: Option<&str>,
    ) -> Result<BuiltPackage, ReplyError> {
        let profile = &self.inner.config.profile;
        let related = req_id.and_then(|r| EbdId::parse(r, profile.id_format).ok());
        let dest = req.map(|e| e.src.ebrid.clone());
        let broadcast = req.is_some_and(
            |e| matches!(&e.body, Body::Ebm(m) if m.basic.msg_type != MsgType::Cancel),
        );
        let signer = match self.inner.keys.signer.as_deref() {
            Some(_) if broadcast && self.inner.config.faults.unsigned_broadcast_replies => None,
            signer => signer,
        };
        reply_package(
            profile,
            &self.inner.seq,
            signer,
            (dest, related),
            self.inner.clock.now(),
            body,
        )
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::ebd::assemble::{EbmSpec, broadcast_ebm, envelope};
    use crate::ebd::model::parse_time;
    use crate::ebd::{EbdProfile, EbmId, EbmStateRequest, Ebrid};

    const SECOND: &str = "45134310000000102010102";

    fn profile() -> EbdProfile {
        EbdProfile {
            extra_sender_ebrids: vec![SECOND.into()],
            ..EbdProfile::default()
        }
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    }

    fn code(s: &str) -> Ebrid {
        Ebrid::parse(s, crate::ebd::IdFormat::V2018).unwrap()
    }

    /// A broadcast package whose EBDID is from `ebd_sender` and EBMID from `ebm_sender`.
    fn broadcast(ebd_sender: &str, ebm_sender: &str) -> Ebd {
        let p = profile();
        let t = parse_time("2026-11-27 09:00:00").unwrap();
        let spec = EbmSpec {
            id: EbmId::new(&code(ebm_sender), day(), 1).unwrap(),
            related: Some(EbmId::new(&p.sender().unwrap(), day(), 9_999).unwrap()),
            lang: crate::lang::Lang::Zh,
            title: "提示".into(),
            desc: Some("说明".into()),
            area_codes: vec!["513431100000".into()],
            send_time: t,
            start_time: t,
            end_time: t + chrono::TimeDelta::minutes(5),
        };
        let ebm = broadcast_ebm(&p, &spec, &[]).unwrap();
        let id = EbdId::package(&code(ebd_sender), day(), 1).unwrap();
        envelope(&p, id, None, None, t, Body::Ebm(ebm)).unwrap()
    }

    #[test]
    fn every_sender_code_passes_when_its_ids_agree() {
        let primary = EbdProfile::default().sender_ebrid;
        check_senders(&broadcast(SECOND, SECOND)).unwrap();
        check_senders(&broadcast(&primary, &primary)).unwrap();
        assert_eq!(broadcast(SECOND, SECOND).src.ebrid.as_str(), SECOND);
    }

    #[test]
    fn ids_of_another_sender_than_src_are_refused() {
        let primary = EbdProfile::default().sender_ebrid;
        let err = check_senders(&broadcast(SECOND, &primary)).unwrap_err();
        assert!(err.to_string().starts_with("EBMID"), "{err}");
        let mut ebd = broadcast(SECOND, SECOND);
        ebd.src.ebrid = code(&primary);
        let err = check_senders(&ebd).unwrap_err();
        let err = err.to_string();
        assert!(err.starts_with("EBDID") && err.contains(SECOND), "{err}");
    }

    #[test]
    fn a_state_request_asks_only_about_its_senders_messages() {
        let p = profile();
        let t = parse_time("2026-11-27 09:30:00").unwrap();
        let ask = |ebd_sender: &str, ebm_sender: &str| {
            let id = EbdId::package(&code(ebd_sender), day(), 2).unwrap();
            let ebm_id = EbmId::new(&code(ebm_sender), day(), 1).unwrap();
            let body = Body::EbmStateRequest(EbmStateRequest { ebm_id });
            check_senders(&envelope(&p, id, None, None, t, body).unwrap())
        };
        ask(SECOND, SECOND).unwrap();
        let err = ask(&p.sender_ebrid, SECOND).unwrap_err();
        assert!(err.to_string().starts_with("asked EBMID"), "{err}");
    }
}
