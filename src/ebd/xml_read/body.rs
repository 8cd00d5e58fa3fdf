//! Reading the EBM, state-report and log bodies.

use roxmltree::Node;

use super::{
    At, Ctx, R, XmlError, area_codes, child, children, invalid, opt_num, opt_time, req, req_num,
    req_text, req_time, text,
};
use crate::ebd::model::*;

impl Ctx {
    /// An `EBM`; `strict` applies the MsgType 1 content rules (not for log items).
    pub(super) fn ebm(&self, at: At, strict: bool) -> R<Ebm> {
        let (n, p) = (at.node, at.path);
        let version = req_text(n, p, "EBMVersion")?;
        let id = self.ebmid(n, p, "EBMID")?;
        let related = match child(n, "RelatedInfo") {
            Some(r) if text(r, "EBMID").is_some() => {
                Some(self.ebmid(r, &format!("{p}/RelatedInfo"), "EBMID")?)
            }
            _ => None,
        };
        let bp = format!("{p}/MsgBasicInfo");
        let basic = basic_info(req(n, p, "MsgBasicInfo")?, &bp)?;
        let cp = format!("{p}/MsgContent");
        // The content rules are MsgType 1's: a cancel may name its message without media.
        let broadcast = basic.msg_type == MsgType::Broadcast;
        let content = match child(n, "MsgContent") {
            Some(c) => Some(msg_content(c, &cp, strict && broadcast)?),
            None if strict && broadcast => {
                return Err(XmlError::Missing {
                    path: cp,
                    line: super::line(n),
                });
            }
            None => None,
        };
        Ok(Ebm {
            version,
            id,
            related,
            basic,
            content,
        })
    }

    pub(super) fn state_response(&self, at: At) -> R<EbmStateResponse> {
        let (n, p) = (at.node, at.path);
        let e = req(n, p, "EBM")?;
        Ok(EbmStateResponse {
            rpt_time: req_time(n, p, "RptTime")?,
            ebm_id: self.ebmid(e, &format!("{p}/EBM"), "EBMID")?,
            brd_state_code: req_num(n, p, "BrdStateCode")?,
            brd_state_desc: text(n, "BrdStateDesc"),
            coverage: self.coverage(n, p)?,
            res_brd_info: self.res_brd_info(n, p)?,
        })
    }

    fn coverage(&self, parent: Node, p: &str) -> R<Option<Coverage>> {
        let Some(n) = child(parent, "Coverage") else {
            return Ok(None);
        };
        let p = format!("{p}/Coverage");
        let figure = if let Some(r) = opt_num::<f64>(n, &p, "CoverageRate")? {
            Some(CoverageFigure::Rate(r))
        } else {
            opt_num::<f64>(n, &p, "CoveragePercent")?.map(CoverageFigure::Percent)
        };
        let area = if text(n, "AreaCode").is_some() {
            area_codes(n, &p, "AreaCode")?
        } else {
            Vec::new()
        };
        let res_brd_stat = match text(n, "ResBrdStat") {
            None => None,
            Some(v) => Some(
                res_brd_stat(&v)
                    .ok_or_else(|| invalid(n, &p, "ResBrdStat", &v, "expected four numbers"))?,
            ),
        };
        Ok(Some(Coverage {
            figure,
            area_codes: area,
            res_brd_stat,
        }))
    }

    fn res_brd_info(&self, parent: Node, p: &str) -> R<Vec<ResBrdItem>> {
        let Some(info) = child(parent, "ResBrdInfo") else {
            return Ok(Vec::new());
        };
        let p = format!("{p}/ResBrdInfo/ResBrdItem");
        let mut items = Vec::new();
        for item in children(info, "ResBrdItem") {
            let ebrps = self.opt_ebrps(item, &p)?;
            let mut ebrbs = Vec::new();
            for bs in children(item, "EBRBS") {
                let bp = format!("{p}/EBRBS");
                ebrbs.push(Ebrbs {
                    rpt_time: opt_time(bs, &bp, "RptTime")?,
                    brd_sys_info: text(bs, "BrdSysInfo"),
                    start_time: opt_time(bs, &bp, "StartTime")?,
                    end_time: opt_time(bs, &bp, "EndTime")?,
                    file_url: text(bs, "FileURL"),
                    brd_state_code: opt_num(bs, &bp, "BrdStateCode")?,
                    brd_state_desc: text(bs, "BrdStateDesc"),
                });
            }
            items.push(ResBrdItem { ebrps, ebrbs });
        }
        Ok(items)
    }

    fn opt_ebrps(&self, n: Node, p: &str) -> R<Option<crate::ebd::ids::Ebrid>> {
        match child(n, "EBRPS") {
            Some(e) if text(e, "EBRID").is_some() => {
                Ok(Some(self.ebrid(e, &format!("{p}/EBRPS"), "EBRID")?))
            }
            _ => Ok(None),
        }
    }

    pub(super) fn brd_log(&self, at: At) -> R<EbmBrdLog> {
        let (n, p) = (at.node, at.path);
        let params = match child(n, "Params") {
            Some(pn) => Some(super::params(pn, &format!("{p}/Params"))?),
            None => None,
        };
        let ip = format!("{p}/EBMBrdItem");
        let mut items = Vec::new();
        for item in children(n, "EBMBrdItem") {
            let ebm_node = req(item, &ip, "EBM")?;
            let ep = format!("{ip}/EBM");
            let ebm = self.ebm(
                At {
                    node: ebm_node,
                    path: &ep,
                },
                false,
            )?;
            let mut units = Vec::new();
            if let Some(ui) = child(item, "UnitInfo") {
                for u in children(ui, "Unit") {
                    units.push(Unit {
                        ebrps: self.opt_ebrps(u, &format!("{ip}/UnitInfo/Unit"))?,
                        unit_id: text(u, "UnitId"),
                        unit_name: text(u, "UnitName"),
                        person_id: text(u, "PersonID"),
                        person_name: text(u, "PersonName"),
                    });
                }
            }
            items.push(EbmBrdItem {
                ebm,
                units,
                brd_state_code: req_num(item, &ip, "BrdStateCode")?,
                brd_state_desc: text(item, "BrdStateDesc"),
                coverage: self.coverage(item, &ip)?,
                res_brd_info: self.res_brd_info(item, &ip)?,
            });
        }
        Ok(EbmBrdLog { params, items })
    }
}

fn res_brd_stat(v: &str) -> Option<ResBrdStat> {
    let nums: Vec<u32> = v
        .split(',')
        .map(|s| s.trim().parse().ok())
        .collect::<Option<_>>()?;
    let [platforms, adapters, transmitters, terminals] = nums[..] else {
        return None;
    };
    Some(ResBrdStat {
        platforms,
        adapters,
        transmitters,
        terminals,
    })
}

fn basic_info(n: Node, p: &str) -> R<MsgBasicInfo> {
    let msg_type = match req_text(n, p, "MsgType")?.as_str() {
        "1" => MsgType::Broadcast,
        "2" => MsgType::Cancel,
        v => {
            return Err(invalid(
                n,
                p,
                "MsgType",
                v,
                "expected 1 (broadcast) or 2 (cancel)",
            ));
        }
    };
    let sender_code = req_text(n, p, "SenderCode")?;
    crate::ebd::ids::check_region_code(&sender_code)
        .map_err(|e| invalid(n, p, "SenderCode", &sender_code, e))?;
    let event_type = req_text(n, p, "EventType")?;
    if event_type.chars().count() != 5 {
        return Err(invalid(
            n,
            p,
            "EventType",
            &event_type,
            "expected 5 characters",
        ));
    }
    Ok(MsgBasicInfo {
        msg_type,
        sender_name: req_text(n, p, "SenderName")?,
        sender_code,
        send_time: req_time(n, p, "SendTime")?,
        event_type,
        severity: req_num(n, p, "Severity")?,
        start_time: req_time(n, p, "StartTime")?,
        end_time: req_time(n, p, "EndTime")?,
    })
}

fn msg_content(n: Node, p: &str, strict: bool) -> R<MsgContent> {
    let ap = format!("{p}/Auxiliary");
    let mut auxiliary = Vec::new();
    for a in children(n, "Auxiliary") {
        auxiliary.push(Auxiliary {
            kind: req_num(a, &ap, "AuxiliaryType")?,
            desc: req_text(a, &ap, "AuxiliaryDesc")?,
            size: opt_num(a, &ap, "Size")?,
            digest: text(a, "Digest"),
        });
    }
    let desc = text(n, "MsgDesc");
    if strict && auxiliary.is_empty() && desc.is_none() {
        return Err(XmlError::Missing {
            path: format!("{p}/Auxiliary or {p}/MsgDesc"),
            line: super::line(n),
        });
    }
    Ok(MsgContent {
        language_code: req_text(n, p, "LanguageCode")?,
        title: req_text(n, p, "MsgTitle")?,
        desc,
        area_codes: area_codes(n, p, "AreaCode")?,
        auxiliary,
    })
}
