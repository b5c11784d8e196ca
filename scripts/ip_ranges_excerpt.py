#!/usr/bin/env python3
"""Writes the small excerpt of AWS's ip-ranges.json that the pure tests use.

The excerpt keeps every prefix (IPv4 and IPv6, every service) that contains an address the
tests, samples and sources name, so a lookup of any of those addresses answers exactly as the
full file does (longest prefix, service precedence); it also keeps the file's `syncToken` and
`createDate`. The addresses it was made for are listed under `excerptOf`, and a test that runs
where the full file is available checks each of them against it.

    scripts/ip_ranges_excerpt.py --full ../shared/ip-ranges/ip-ranges.json \\
        > tests/fixtures/ip-ranges-excerpt.json

Run it again after adding an address to a test or sample. Only the standard library.
"""

import argparse
import ipaddress
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCANNED = ["tests", "events", "src", "benches"]
SUFFIXES = {".rs", ".json", ".jsonl", ".py"}
EXCERPT = "tests/fixtures/ip-ranges-excerpt.json"
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
# Global unicast (2000::/3, where all of AWS's IPv6 ranges are); the shape keeps Rust paths
# such as `ec2::a` out.
IPV6 = re.compile(r"(?<![0-9a-fA-F:])2[0-9a-fA-F]{3}(?::[0-9a-fA-F]{0,4}){2,7}(?![0-9a-fA-F:])")


def addresses():
    """Every public address literal in the scanned files (private, loopback and the like
    are never in ip-ranges.json)."""
    found = set()
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in SUFFIXES or path.as_posix().endswith(EXCERPT) or "target" in path.parts:
                continue
            text = path.read_text(errors="replace")
            for match in IPV4.findall(text) + IPV6.findall(text):
                try:
                    ip = ipaddress.ip_address(match)
                except ValueError:
                    continue
                if ip.is_global:
                    found.add(ip)
    return sorted(found, key=lambda ip: (ip.version, int(ip)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", required=True, help="AWS's full ip-ranges.json")
    args = parser.parse_args()
    with open(args.full) as f:
        full = json.load(f)
    wanted = addresses()
    v4 = [ip for ip in wanted if ip.version == 4]
    v6 = [ip for ip in wanted if ip.version == 6]

    def keep(entries, field, ips):
        return [e for e in entries if any(ip in ipaddress.ip_network(e[field]) for ip in ips)]

    excerpt = {
        "syncToken": full["syncToken"],
        "createDate": full["createDate"],
        "excerptOf": {
            "generator": "scripts/ip_ranges_excerpt.py",
            "addresses": [str(ip) for ip in wanted],
        },
        "prefixes": keep(full["prefixes"], "ip_prefix", v4),
        "ipv6_prefixes": keep(full["ipv6_prefixes"], "ipv6_prefix", v6),
    }
    json.dump(excerpt, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
