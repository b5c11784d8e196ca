//! IP classification: the addresses of real reports over the committed excerpt, and the
//! interval table against a linear scan over AWS's full published snapshot.
//!
//! The full-snapshot tests are named `full_snapshot_*` and ignored by a plain `cargo test`;
//! `make test` runs them when the file is there (IP_RANGES_FILE or data/) and says so when it
//! is not; CI always has it.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

fn owner(ip: &str) -> Option<(String, String, String)> {
    common::ip_ranges()
        .lookup(ip.parse().unwrap())
        .map(|o| (o.service, o.region, o.prefix))
}

#[test]
fn the_reference_address_is_s3_in_seoul() {
    assert_eq!(
        owner("52.219.204.42"),
        Some((
            "S3".into(),
            "ap-northeast-2".into(),
            "52.219.204.0/22".into()
        ))
    );
}

#[test]
fn addresses_from_real_reports() {
    let cases = [
        ("16.15.180.104", "S3", "us-east-1"),
        ("16.15.178.247", "S3", "us-east-1"),
        ("35.180.244.40", "AMAZON", "eu-west-3"),
        ("52.46.128.2", "AMAZON", "us-east-1"),
        ("44.205.64.79", "EC2", "us-east-1"),
        (
            "2600:1f18:2148:bc00:e947:5a7f:a49f:9126",
            "EC2",
            "us-east-1",
        ),
    ];
    for (ip, service, region) in cases {
        let (s, r, _) = owner(ip).unwrap_or_else(|| panic!("{ip} should be AWS's"));
        assert_eq!((s.as_str(), r.as_str()), (service, region), "{ip}");
    }
    assert_eq!(
        owner("199.59.149.230"),
        None,
        "Docker's address is not AWS's"
    );
    assert_eq!(owner("10.0.0.1"), None);
}

#[test]
fn snapshot_metadata_is_reported() {
    assert!(!common::ip_ranges().create_date.is_empty());
}

#[test]
#[ignore = "needs AWS's full ip-ranges.json (IP_RANGES_FILE, or data/ from make ip-ranges)"]
fn full_snapshot_metadata_is_reported() {
    let ranges = common::full_ip_ranges();
    assert!(!ranges.create_date.is_empty());
    assert!(ranges.len() > 10_000, "{} prefixes", ranges.len());
}

#[test]
#[ignore = "needs AWS's full ip-ranges.json (IP_RANGES_FILE, or data/ from make ip-ranges)"]
fn full_snapshot_and_the_excerpt_agree_on_every_address_the_tests_name() {
    let text = common::read("tests/fixtures/ip-ranges-excerpt.json");
    let excerpt: serde_json::Value = serde_json::from_str(&text).unwrap();
    let addresses = excerpt["excerptOf"]["addresses"].as_array().unwrap();
    assert!(addresses.len() > 20, "{} addresses", addresses.len());
    let (full, small) = (common::full_ip_ranges(), common::ip_ranges());
    assert_eq!(
        full.create_date, small.create_date,
        "regenerate the excerpt from this snapshot"
    );
    for address in addresses {
        let ip: IpAddr = address.as_str().unwrap().parse().unwrap();
        assert_eq!(
            small.lookup(ip),
            full.lookup(ip),
            "{ip}: run scripts/ip_ranges_excerpt.py --full <ip-ranges.json> > tests/fixtures/ip-ranges-excerpt.json"
        );
    }
}

#[test]
#[ignore = "needs AWS's full ip-ranges.json (IP_RANGES_FILE, or data/ from make ip-ranges)"]
fn full_snapshot_the_committed_excerpt_is_what_its_generator_makes_today() {
    // An address added to a test or sample without regenerating the excerpt would be
    // classified as not AWS's: the generator's fresh scan must give the committed file.
    let out = std::process::Command::new("python3")
        .arg(common::repo("scripts/ip_ranges_excerpt.py"))
        .arg("--full")
        .arg(common::full_ip_ranges_path())
        .output()
        .expect("python3 runs the generator");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout) == common::read("tests/fixtures/ip-ranges-excerpt.json"),
        "tests/fixtures/ip-ranges-excerpt.json is stale: run scripts/ip_ranges_excerpt.py --full <ip-ranges.json> > tests/fixtures/ip-ranges-excerpt.json"
    );
}

#[test]
#[ignore = "needs AWS's full ip-ranges.json (IP_RANGES_FILE, or data/ from make ip-ranges)"]
fn full_snapshot_interval_lookup_agrees_with_the_linear_scan_at_every_prefix_edge() {
    let text = std::fs::read_to_string(common::full_ip_ranges_path()).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ranges = common::full_ip_ranges();
    let mut checked = 0;
    for p in doc["prefixes"].as_array().unwrap() {
        let net: ipnet::Ipv4Net = p["ip_prefix"].as_str().unwrap().parse().unwrap();
        let start = u32::from(net.network());
        let end = u32::from(net.broadcast());
        for edge in [
            start.wrapping_sub(1),
            start,
            start.wrapping_add(1),
            end,
            end.wrapping_add(1),
        ] {
            let ip = IpAddr::V4(Ipv4Addr::from(edge));
            assert_eq!(ranges.lookup(ip), ranges.lookup_linear(ip), "{ip}");
            checked += 1;
        }
    }
    for p in doc["ipv6_prefixes"].as_array().unwrap().iter().step_by(7) {
        let net: ipnet::Ipv6Net = p["ipv6_prefix"].as_str().unwrap().parse().unwrap();
        for edge in [
            u128::from(net.network()).wrapping_sub(1),
            u128::from(net.network()),
            u128::from(net.broadcast()),
            u128::from(net.broadcast()).wrapping_add(1),
        ] {
            let ip = IpAddr::V6(Ipv6Addr::from(edge));
            assert_eq!(ranges.lookup(ip), ranges.lookup_linear(ip), "{ip}");
            checked += 1;
        }
    }
    assert!(checked > 50_000);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    #[ignore = "needs AWS's full ip-ranges.json (IP_RANGES_FILE, or data/ from make ip-ranges)"]
    fn full_snapshot_random_ipv4_lookups_agree_with_the_linear_scan(raw in any::<u32>()) {
        let ranges = common::full_ip_ranges();
        let ip = IpAddr::V4(Ipv4Addr::from(raw));
        prop_assert_eq!(ranges.lookup(ip), ranges.lookup_linear(ip));
    }
}
