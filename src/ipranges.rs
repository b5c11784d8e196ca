//! Who owns an IP address, according to AWS's published `ip-ranges.json`.
//!
//! AWS lists every range under `AMAZON` as well as under the service that uses it, and a range
//! listed under both S3 and EC2 is used only by S3 ("range overlaps" in AWS's documentation).
//! So the answer is the longest matching prefix and, among the entries with that prefix, a
//! specific service over `AMAZON`, and S3 over EC2.
//!
//! Lookups are answered from a table of disjoint address intervals, built once: prefixes are
//! either nested or disjoint, so flattening them gives for each interval its most specific
//! owner, and a lookup is one binary search. [`IpRanges::lookup_linear`] is the plain scan the
//! benchmark compares against, and the tests check the two agree.
//!
//! Parsing the file is [`IpRanges::from_json`] (pure); reading it from disk is [`load_file`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The owner of an address, as reported to users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpOwner {
    /// `S3`, `EC2`, `AMAZON`…; `VPC` for an address inside the VPC's own CIDRs.
    pub service: String,
    pub region: String,
    /// The matching prefix (or VPC CIDR, or prefix list CIDR).
    pub prefix: String,
    /// Where the answer came from: `ip-ranges`, `vpc-cidr`, or `prefix-list:<pl-id>`.
    pub source: String,
}

impl IpOwner {
    pub fn is_s3(&self) -> bool {
        self.service == "S3"
    }
}

/// Why an ip-ranges file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum IpRangesError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not an ip-ranges.json document: {source}")]
    Parse {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: bad prefix {prefix:?}")]
    BadPrefix { path: String, prefix: String },
}

#[derive(Deserialize)]
struct RawFile<'a> {
    #[serde(rename = "syncToken", default, borrow)]
    sync_token: Option<&'a str>,
    #[serde(rename = "createDate", borrow)]
    create_date: &'a str,
    #[serde(borrow)]
    prefixes: Vec<RawPrefix<'a>>,
    #[serde(default, borrow)]
    ipv6_prefixes: Vec<RawPrefix<'a>>,
}

#[derive(Deserialize)]
struct RawPrefix<'a> {
    #[serde(alias = "ipv6_prefix", borrow)]
    ip_prefix: &'a str,
    #[serde(borrow)]
    region: &'a str,
    #[serde(borrow)]
    service: &'a str,
}

/// One published prefix: its address interval, length and owner (indices into the string pool).
#[derive(Debug, Clone, Copy)]
struct Entry {
    start: u128,
    end: u128,
    len: u8,
    service: u16,
    region: u16,
}

/// A disjoint interval starting at `start` and running to the next interval's start; `owner`
/// is the most specific entry covering it, or none for a gap.
#[derive(Debug, Clone, Copy)]
struct Interval {
    start: u128,
    owner: Option<u32>,
}

#[derive(Debug, Default)]
struct Family {
    entries: Vec<Entry>,
    intervals: Vec<Interval>,
}

/// A parsed ip-ranges snapshot, ready for lookups.
#[derive(Debug)]
pub struct IpRanges {
    pub create_date: String,
    pub sync_token: Option<String>,
    strings: Vec<String>,
    v4: Family,
    v6: Family,
}

impl IpRanges {
    /// Parses the text of an `ip-ranges.json` file; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Self, IpRangesError> {
        let raw: RawFile = serde_json::from_str(text).map_err(|source| IpRangesError::Parse {
            path: origin.to_string(),
            source,
        })?;
        let mut pool = StringPool::default();
        let mut v4 = Vec::with_capacity(raw.prefixes.len());
        let mut v6 = Vec::with_capacity(raw.ipv6_prefixes.len());
        for p in raw.prefixes.iter().chain(&raw.ipv6_prefixes) {
            let net: IpNet = p.ip_prefix.parse().map_err(|_| IpRangesError::BadPrefix {
                path: origin.to_string(),
                prefix: p.ip_prefix.to_string(),
            })?;
            let (start, end) = interval_of(&net);
            let entry = Entry {
                start,
                end,
                len: net.prefix_len(),
                service: pool.intern(p.service),
                region: pool.intern(p.region),
            };
            match net {
                IpNet::V4(_) => v4.push(entry),
                IpNet::V6(_) => v6.push(entry),
            }
        }
        let strings = pool.into_strings();
        Ok(IpRanges {
            create_date: raw.create_date.to_string(),
            sync_token: raw.sync_token.map(str::to_string),
            v4: Family::build(v4, &strings),
            v6: Family::build(v6, &strings),
            strings,
        })
    }

    /// Number of published prefixes (IPv4 and IPv6, every service entry counted).
    pub fn len(&self) -> usize {
        self.v4.entries.len() + self.v6.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The owner of `ip`, or `None` when AWS does not publish it.
    pub fn lookup(&self, ip: IpAddr) -> Option<IpOwner> {
        let (family, key) = self.family_of(ip);
        let at = family.intervals.partition_point(|i| i.start <= key);
        let owner = family.intervals.get(at.checked_sub(1)?)?.owner?;
        Some(self.owner_of(&family.entries[owner as usize], ip))
    }

    /// The same answer as [`IpRanges::lookup`] by scanning every entry: the baseline for the
    /// benchmark and the reference for the tests.
    pub fn lookup_linear(&self, ip: IpAddr) -> Option<IpOwner> {
        let (family, key) = self.family_of(ip);
        let mut best: Option<&Entry> = None;
        for e in &family.entries {
            if e.start <= key && key <= e.end {
                let better = match best {
                    None => true,
                    Some(b) => (e.len, self.rank(e)) > (b.len, self.rank(b)),
                };
                if better {
                    best = Some(e);
                }
            }
        }
        best.map(|e| self.owner_of(e, ip))
    }

    fn family_of(&self, ip: IpAddr) -> (&Family, u128) {
        match ip {
            IpAddr::V4(v4) => (&self.v4, u32::from(v4) as u128),
            IpAddr::V6(v6) => (&self.v6, u128::from(v6)),
        }
    }

    fn rank(&self, e: &Entry) -> u8 {
        service_rank(&self.strings[e.service as usize])
    }

    fn owner_of(&self, e: &Entry, ip: IpAddr) -> IpOwner {
        IpOwner {
            service: self.strings[e.service as usize].clone(),
            region: self.strings[e.region as usize].clone(),
            prefix: prefix_text(e, ip.is_ipv4()),
            source: "ip-ranges".to_string(),
        }
    }
}

/// How strongly an entry's service claims a range it shares with others.
fn service_rank(service: &str) -> u8 {
    match service {
        "AMAZON" => 0,
        "EC2" => 1,
        "S3" => 3,
        _ => 2,
    }
}

fn prefix_text(e: &Entry, v4: bool) -> String {
    if v4 {
        format!("{}/{}", std::net::Ipv4Addr::from(e.start as u32), e.len)
    } else {
        format!("{}/{}", std::net::Ipv6Addr::from(e.start), e.len)
    }
}

fn interval_of(net: &IpNet) -> (u128, u128) {
    match net {
        IpNet::V4(n) => (
            u32::from(n.network()) as u128,
            u32::from(n.broadcast()) as u128,
        ),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

impl Family {
    fn build(mut entries: Vec<Entry>, strings: &[String]) -> Family {
        // Widest first among equal starts; among identical prefixes the strongest claim first,
        // so that de-duplication keeps it.
        entries.sort_by(|a, b| {
            a.start.cmp(&b.start).then(a.len.cmp(&b.len)).then(
                service_rank(&strings[b.service as usize])
                    .cmp(&service_rank(&strings[a.service as usize])),
            )
        });
        let mut owners: Vec<u32> = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            let same_as_previous = owners.last().is_some_and(|&p| {
                let p = &entries[p as usize];
                p.start == e.start && p.len == e.len
            });
            if !same_as_previous {
                owners.push(i as u32);
            }
        }
        let intervals = flatten(&entries, &owners);
        Family { entries, intervals }
    }
}

/// Turns nested-or-disjoint prefixes (sorted by start, widest first) into disjoint intervals,
/// each owned by the innermost prefix covering it.
fn flatten(entries: &[Entry], owners: &[u32]) -> Vec<Interval> {
    let mut out: Vec<Interval> = Vec::with_capacity(owners.len() * 2);
    let mut open: Vec<u32> = Vec::new();
    let push = |out: &mut Vec<Interval>, start: u128, owner: Option<u32>| {
        if let Some(last) = out.last_mut() {
            if last.start == start {
                last.owner = owner;
                return;
            }
            if last.owner == owner {
                return;
            }
        }
        out.push(Interval { start, owner });
    };
    let close_until = |out: &mut Vec<Interval>, open: &mut Vec<u32>, limit: Option<u128>| {
        while let Some(&top) = open.last() {
            let end = entries[top as usize].end;
            if limit.is_some_and(|l| end >= l) {
                break;
            }
            open.pop();
            if let Some(after) = end.checked_add(1) {
                push(out, after, open.last().copied());
            }
        }
    };
    for &idx in owners {
        let e = &entries[idx as usize];
        close_until(&mut out, &mut open, Some(e.start));
        push(&mut out, e.start, Some(idx));
        open.push(idx);
    }
    close_until(&mut out, &mut open, None);
    out
}

#[derive(Default)]
struct StringPool {
    index: HashMap<String, u16>,
    strings: Vec<String>,
}

impl StringPool {
    fn intern(&mut self, s: &str) -> u16 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.strings.len() as u16;
        self.strings.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }

    fn into_strings(self) -> Vec<String> {
        self.strings
    }
}

/// Reads and parses an ip-ranges file.
pub fn load_file(path: &Path) -> Result<IpRanges, IpRangesError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| IpRangesError::Read {
        path: shown.clone(),
        source,
    })?;
    IpRanges::from_json(&text, &shown)
}

/// Where an ip-ranges file comes from, in order: an explicit path (the `--ip-ranges` flag or
/// the `IP_RANGES_FILE` variable, decided by the caller), else `ip-ranges.json` next to the
/// executable (how the Lambda package carries it). `None` means classification is unavailable.
pub fn default_location(explicit: Option<&Path>) -> Option<std::path::PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    let beside = std::env::current_exe()
        .ok()?
        .parent()?
        .join("ip-ranges.json");
    beside.is_file().then_some(beside)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "syncToken": "1", "createDate": "2026-08-22-21-17-05",
      "prefixes": [
        {"ip_prefix": "52.219.204.0/22", "region": "ap-northeast-2", "service": "AMAZON", "network_border_group": "ap-northeast-2"},
        {"ip_prefix": "52.219.204.0/22", "region": "ap-northeast-2", "service": "S3", "network_border_group": "ap-northeast-2"},
        {"ip_prefix": "16.15.176.0/20", "region": "us-east-1", "service": "AMAZON", "network_border_group": "us-east-1"},
        {"ip_prefix": "16.15.176.0/20", "region": "us-east-1", "service": "EC2", "network_border_group": "us-east-1"},
        {"ip_prefix": "16.15.176.0/20", "region": "us-east-1", "service": "S3", "network_border_group": "us-east-1"},
        {"ip_prefix": "35.180.0.0/16", "region": "eu-west-3", "service": "EC2", "network_border_group": "eu-west-3"},
        {"ip_prefix": "35.180.0.0/16", "region": "eu-west-3", "service": "AMAZON", "network_border_group": "eu-west-3"},
        {"ip_prefix": "35.180.244.0/23", "region": "eu-west-3", "service": "AMAZON", "network_border_group": "eu-west-3"}
      ],
      "ipv6_prefixes": [
        {"ipv6_prefix": "2600:1f18::/33", "region": "us-east-1", "service": "EC2", "network_border_group": "us-east-1"},
        {"ipv6_prefix": "2600:1f18::/33", "region": "us-east-1", "service": "AMAZON", "network_border_group": "us-east-1"}
      ]
    }"#;

    fn ranges() -> IpRanges {
        IpRanges::from_json(SAMPLE, "sample").unwrap()
    }

    fn owner(ip: &str) -> Option<(String, String, String)> {
        ranges()
            .lookup(ip.parse().unwrap())
            .map(|o| (o.service, o.region, o.prefix))
    }

    #[test]
    fn s3_wins_over_amazon_and_ec2_on_the_same_prefix() {
        assert_eq!(
            owner("52.219.204.42"),
            Some((
                "S3".into(),
                "ap-northeast-2".into(),
                "52.219.204.0/22".into()
            ))
        );
        assert_eq!(owner("16.15.180.104").unwrap().0, "S3");
    }

    #[test]
    fn longest_prefix_wins_even_when_it_is_amazon() {
        assert_eq!(
            owner("35.180.244.40"),
            Some((
                "AMAZON".into(),
                "eu-west-3".into(),
                "35.180.244.0/23".into()
            ))
        );
        assert_eq!(owner("35.180.246.1").unwrap().0, "EC2");
    }

    #[test]
    fn ipv6_and_unknown_addresses() {
        assert_eq!(
            owner("2600:1f18:2148:bc00:e947:5a7f:a49f:9126").unwrap().0,
            "EC2"
        );
        assert_eq!(owner("199.59.149.230"), None);
        assert_eq!(owner("0.0.0.0"), None);
        assert_eq!(owner("255.255.255.255"), None);
    }

    #[test]
    fn interval_edges_match_the_linear_scan() {
        let r = ranges();
        for ip in [
            "52.219.203.255",
            "52.219.204.0",
            "52.219.207.255",
            "52.219.208.0",
            "35.179.255.255",
            "35.180.0.0",
            "35.180.243.255",
            "35.180.244.0",
            "35.180.245.255",
            "35.180.246.0",
            "35.180.255.255",
            "35.181.0.0",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(r.lookup(ip), r.lookup_linear(ip), "{ip}");
        }
    }

    #[test]
    fn bad_files_name_the_problem() {
        let err = IpRanges::from_json("{}", "x.json").unwrap_err().to_string();
        assert!(
            err.starts_with("x.json: not an ip-ranges.json document"),
            "{err}"
        );
        let bad = r#"{"createDate": "d", "prefixes": [{"ip_prefix": "1.2.3.4/40", "region": "r", "service": "S3"}]}"#;
        let err = IpRanges::from_json(bad, "x.json").unwrap_err().to_string();
        assert!(err.contains("1.2.3.4/40"), "{err}");
    }
}
