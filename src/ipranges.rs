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
    #[error(transparent)]
    Read(#[from] crate::files::ReadError),
    #[error("{path}: not an ip-ranges.json document: {cause}")]
    Parse {
        path: String,
        cause: serde_json::Error,
    },
    #[error("{path}: not an ip-ranges.json document: no {field}")]
    MissingField { path: String, field: &'static str },
}

/// One entry of `prefixes` or `ipv6_prefixes`, borrowed from the text.
#[derive(Deserialize)]
struct RawPrefix<'a> {
    #[serde(alias = "ipv6_prefix", borrow)]
    ip_prefix: &'a str,
    #[serde(borrow)]
    region: &'a str,
    #[serde(borrow)]
    service: &'a str,
}

/// Collects entries while the JSON is read, so no intermediate list of every prefix is built
/// (the file has ~17,000 of them; building that list was a visible part of the load time).
#[derive(Default)]
struct Collector {
    pool: StringPool,
    v4: Vec<Entry>,
    v6: Vec<Entry>,
    create_date: Option<String>,
    sync_token: Option<String>,
}

impl Collector {
    fn push<E: serde::de::Error>(&mut self, p: RawPrefix<'_>) -> Result<(), E> {
        let (start, end, len, is_v4) = parse_prefix(p.ip_prefix)
            .ok_or_else(|| E::custom(format!("bad prefix {:?}", p.ip_prefix)))?;
        let entry = Entry {
            start,
            end,
            len,
            rank: service_rank(p.service),
            service: self.pool.intern(p.service),
            region: self.pool.intern(p.region),
        };
        if is_v4 {
            self.v4.push(entry);
        } else {
            self.v6.push(entry);
        }
        Ok(())
    }
}

impl<'de> serde::de::Visitor<'de> for &mut Collector {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an ip-ranges.json object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "createDate" => self.create_date = Some(map.next_value()?),
                "syncToken" => self.sync_token = map.next_value()?,
                "prefixes" | "ipv6_prefixes" => map.next_value_seed(PrefixList(self))?,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct PrefixList<'c>(&'c mut Collector);

impl<'de> serde::de::DeserializeSeed<'de> for PrefixList<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for PrefixList<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of prefixes")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(p) = seq.next_element::<RawPrefix<'de>>()? {
            self.0.push::<A::Error>(p)?;
        }
        Ok(())
    }
}

/// One published prefix: its address interval, length and owner (indices into the string pool).
#[derive(Debug, Clone, Copy)]
struct Entry {
    start: u128,
    end: u128,
    len: u8,
    /// How strongly the service claims the range (see [`service_rank`]).
    rank: u8,
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
        let parse_error = |cause| IpRangesError::Parse {
            path: origin.to_string(),
            cause,
        };
        let mut collector = Collector::default();
        let mut de = serde_json::Deserializer::from_str(text);
        serde::Deserializer::deserialize_map(&mut de, &mut collector).map_err(parse_error)?;
        de.end().map_err(parse_error)?;
        let Some(create_date) = collector.create_date else {
            return Err(IpRangesError::MissingField {
                path: origin.to_string(),
                field: "createDate",
            });
        };
        if collector.v4.is_empty() && collector.v6.is_empty() {
            return Err(IpRangesError::MissingField {
                path: origin.to_string(),
                field: "prefixes",
            });
        }
        Ok(IpRanges {
            create_date,
            sync_token: collector.sync_token,
            v4: Family::build(collector.v4),
            v6: Family::build(collector.v6),
            strings: collector.pool.into_strings(),
        })
    }

    /// Number of published prefixes (IPv4 and IPv6, every service entry counted).
    pub fn len(&self) -> usize {
        self.v4.entries.len() + self.v6.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The IPv4 prefixes AWS publishes for `service` in `region` (`"S3"`, `"eu-west-1"`),
    /// in CIDR notation.
    pub fn ipv4_prefixes(&self, service: &str, region: &str) -> Vec<String> {
        self.v4
            .entries
            .iter()
            .filter(|e| {
                self.strings[e.service as usize] == service
                    && self.strings[e.region as usize] == region
            })
            .map(|e| format!("{}/{}", std::net::Ipv4Addr::from(e.start as u32), e.len))
            .collect()
    }

    /// The owner of `ip`, or `None` when AWS does not publish it.
    pub fn lookup(&self, ip: IpAddr) -> Option<IpOwner> {
        self.find(ip).map(RangeMatch::to_owner)
    }

    /// The same answer as [`IpRanges::lookup`] by scanning every entry: the reference for
    /// the tests.
    pub fn lookup_linear(&self, ip: IpAddr) -> Option<IpOwner> {
        self.find_linear(ip).map(RangeMatch::to_owner)
    }

    /// The owner of `ip` without allocating: one binary search over the interval table.
    pub fn find(&self, ip: IpAddr) -> Option<RangeMatch<'_>> {
        let (family, key) = self.family_of(ip);
        let at = family.intervals.partition_point(|i| i.start <= key);
        let owner = family.intervals.get(at.checked_sub(1)?)?.owner?;
        Some(self.match_of(&family.entries[owner as usize], ip))
    }

    /// [`IpRanges::find`] by a straightforward scan of every entry: the benchmark's baseline.
    pub fn find_linear(&self, ip: IpAddr) -> Option<RangeMatch<'_>> {
        let (family, key) = self.family_of(ip);
        let mut best: Option<&Entry> = None;
        for e in &family.entries {
            if e.start <= key && key <= e.end {
                let better = best.is_none_or(|b| (e.len, e.rank) > (b.len, b.rank));
                if better {
                    best = Some(e);
                }
            }
        }
        best.map(|e| self.match_of(e, ip))
    }

    fn family_of(&self, ip: IpAddr) -> (&Family, u128) {
        match ip {
            IpAddr::V4(v4) => (&self.v4, u32::from(v4) as u128),
            IpAddr::V6(v6) => (&self.v6, u128::from(v6)),
        }
    }

    fn match_of(&self, e: &Entry, ip: IpAddr) -> RangeMatch<'_> {
        RangeMatch {
            service: &self.strings[e.service as usize],
            region: &self.strings[e.region as usize],
            prefix_start: e.start,
            prefix_len: e.len,
            ipv4: ip.is_ipv4(),
        }
    }
}

/// A lookup's answer, borrowed from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeMatch<'a> {
    pub service: &'a str,
    pub region: &'a str,
    prefix_start: u128,
    prefix_len: u8,
    ipv4: bool,
}

impl RangeMatch<'_> {
    /// The matching prefix in CIDR notation.
    pub fn prefix(&self) -> String {
        if self.ipv4 {
            format!(
                "{}/{}",
                std::net::Ipv4Addr::from(self.prefix_start as u32),
                self.prefix_len
            )
        } else {
            format!(
                "{}/{}",
                std::net::Ipv6Addr::from(self.prefix_start),
                self.prefix_len
            )
        }
    }

    pub fn to_owner(self) -> IpOwner {
        IpOwner {
            service: self.service.to_string(),
            region: self.region.to_string(),
            prefix: self.prefix(),
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

/// `a.b.c.d/n` or `x::/n` → (first address, last address, length, is IPv4). Hand-rolled
/// on std's address parsers: a generic CIDR parser was a sixth of the load time.
fn parse_prefix(text: &str) -> Option<(u128, u128, u8, bool)> {
    let slash = text.bytes().position(|b| b == b'/')?;
    let (addr, len) = (&text[..slash], &text[slash + 1..]);
    let len: u8 = len.parse().ok()?;
    let parsed = match parse_ipv4(addr) {
        Some(v4) => IpAddr::V4(v4),
        None => addr.parse::<IpAddr>().ok()?,
    };
    match parsed {
        IpAddr::V4(a) if len <= 32 => {
            let host_bits = u32::MAX.checked_shr(len as u32).unwrap_or(0);
            let start = u32::from(a) & !host_bits;
            Some((start as u128, (start | host_bits) as u128, len, true))
        }
        IpAddr::V6(a) if len <= 128 => {
            let host_bits = u128::MAX.checked_shr(len as u32).unwrap_or(0);
            let start = u128::from(a) & !host_bits;
            Some((start, start | host_bits, len, false))
        }
        _ => None,
    }
}

impl Family {
    fn build(mut entries: Vec<Entry>) -> Family {
        // Widest first among equal starts; among identical prefixes the strongest claim first,
        // so that de-duplication keeps it.
        entries.sort_unstable_by_key(|e| (e.start, e.len, u8::MAX - e.rank));
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

/// Dotted-quad IPv4 without std's general parser (two thirds of the file's prefixes are IPv4).
fn parse_ipv4(text: &str) -> Option<std::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut index = 0;
    let mut value: u16 = 0;
    let mut digits = 0;
    for b in text.bytes() {
        match b {
            b'0'..=b'9' if digits < 3 => {
                value = value * 10 + u16::from(b - b'0');
                digits += 1;
            }
            b'.' if digits > 0 && index < 3 => {
                octets[index] = u8::try_from(value).ok()?;
                index += 1;
                value = 0;
                digits = 0;
            }
            _ => return None,
        }
    }
    if index != 3 || digits == 0 {
        return None;
    }
    octets[3] = u8::try_from(value).ok()?;
    Some(std::net::Ipv4Addr::from(octets))
}

/// Services and regions repeat thousands of times over a few dozen values; the file lists
/// them in runs, so the last hit answers most look-ups before the map does.
/// FNV-1a: the pool's keys are a few dozen short trusted strings, where SipHash's
/// flood resistance buys nothing and costs a noticeable part of the load.
#[derive(Default)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

#[derive(Default)]
struct StringPool {
    index: HashMap<String, u16, std::hash::BuildHasherDefault<Fnv>>,
    strings: Vec<String>,
    recent: [Option<u16>; 2],
}

impl StringPool {
    fn intern(&mut self, s: &str) -> u16 {
        for i in self.recent.into_iter().flatten() {
            if self.strings[i as usize] == s {
                return i;
            }
        }
        let i = self.lookup_or_insert(s);
        self.recent = [Some(i), self.recent[0]];
        i
    }

    fn lookup_or_insert(&mut self, s: &str) -> u16 {
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
    let text = crate::files::read(path, crate::files::Kind::IpRanges)?;
    IpRanges::from_json(&text, &path.display().to_string())
}

/// AWS's published ranges, which `ecs-pull-doctor ip-ranges update` and `make ip-ranges`
/// download.
pub const PUBLISHED_URL: &str = "https://ip-ranges.amazonaws.com/ip-ranges.json";

/// The largest ip-ranges file read or downloaded (today's is about 2.6 MB).
pub const MAX_BYTES: usize = 64 << 20;

/// Where `ip-ranges update` keeps the user's copy: `$XDG_DATA_HOME/ecs-pull-doctor/
/// ip-ranges.json`, else `~/.local/share/ecs-pull-doctor/ip-ranges.json`.
pub fn user_location() -> Option<std::path::PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let data = non_empty("XDG_DATA_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| non_empty("HOME").map(|home| Path::new(&home).join(".local/share")))?;
    Some(data.join("ecs-pull-doctor").join("ip-ranges.json"))
}

/// Where an ip-ranges file comes from, in order: an explicit path (the `--ip-ranges` flag or
/// the `IP_RANGES_FILE` variable, decided by the caller), else `ip-ranges.json` next to the
/// executable (how the Lambda package carries it), else the user's copy ([`user_location`],
/// what `ip-ranges update` writes). `None` means classification is unavailable.
pub fn default_location(explicit: Option<&Path>) -> Option<std::path::PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("ip-ranges.json")))
        .filter(|p| p.is_file());
    beside.or_else(|| user_location().filter(|p| p.is_file()))
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
    fn ipv4_parser_is_strict() {
        assert_eq!(parse_ipv4("52.219.204.0"), Some([52, 219, 204, 0].into()));
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1..2.3",
            "1.2.3.-4",
            "01234.1.1.1",
            "a.b.c.d",
        ] {
            assert_eq!(parse_ipv4(bad), None, "{bad}");
        }
        assert_eq!(parse_prefix("52.219.204.7/22").map(|p| p.2), Some(22));
        assert_eq!(parse_prefix("2600:1f18::/33").map(|p| p.3), Some(false));
        assert_eq!(parse_prefix("1.2.3.4/33"), None);
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
