"""Audit requirements.lock for known vulnerabilities: `make audit`, part of `make lint`.

pip-audit comes first: it asks PyPI for the advisories of each pinned version
(https://pypi.org/pypi/<name>/<version>/json). Where only part of pypi.org is reachable (on
this project's machines that per-version endpoint answers 404), each package pip-audit could
not audit falls back to the project JSON (https://pypi.org/pypi/<name>/json). Its
`vulnerabilities` are PyPI's advisories for the project's latest release only, with no range
of affected versions, so:

- a pin at the latest release is audited against them;
- an older pin is not audited: an advisory that a newer release fixed is not listed at all.
  What is listed (a flaw the latest release still has) is reported against the older pin too:
  nothing says which releases it spans, so the audit assumes the worst. `make lock` moves the
  pin to the latest release.

A known vulnerability always fails. What could not be audited is listed; with
AUDIT_INCOMPLETE=fail (CI) it fails too, except an older pin whose first newer release is
younger than GRACE: an upstream release must not break every build the day it appears, nor
leave a pin unaudited for long.
"""

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

LOCK_FILE = Path(__file__).resolve().parent.parent / "requirements.lock"
PROJECT_JSON_URL = "https://pypi.org/pypi/{name}/json"
GRACE = timedelta(days=14)
PIP_AUDIT = "pip-audit"
LATEST_RELEASE_ADVISORIES = "PyPI's latest-release advisories"


@dataclass(frozen=True)
class Advisory:
    id: str
    fixed_in: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Finding:
    """What the audit learned about one pinned package: its advisories, or why it has none."""

    name: str
    version: Version
    source: str = ""
    advisories: tuple[Advisory, ...] = ()
    not_audited: str = ""
    # From then on an unaudited pin fails AUDIT_INCOMPLETE=fail builds (None: at once).
    grace_until: datetime | None = None

    @property
    def pin(self):
        return f"{self.name} {self.version}"


def read_lock(text):
    """The pins of a `pip freeze` file, by canonical name: {name: (name as written, version)}."""
    pins = {}
    for line in text.splitlines():
        name, separator, version = line.partition("==")
        if separator:
            pins[canonicalize_name(name)] = (name.strip(), Version(version.strip()))
    return pins


def run_pip_audit():
    """pip-audit's JSON report on the lock, or None when it stopped without one (offline)."""
    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "report.json"
        # --no-deps: the lock pins every package already. pip-audit's advice to hash them too
        # goes to stderr with the rest of its chatter, shown only when it wrote no report.
        completed = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
            [
                *(sys.executable, "-m", "pip_audit", "--requirement", LOCK_FILE, "--no-deps"),
                *("--disable-pip", "--progress-spinner", "off", "--aliases", "on"),
                *("--format", "json", "--output", report),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if report.exists():
            return json.loads(report.read_text())
    last_words = completed.stderr.strip().rpartition("\n")[2]
    print(f"pip-audit stopped without a report: {last_words}")
    return None


def pip_audit_findings(report, pins):
    """The packages pip-audit audited, by canonical name (those it skipped are left out)."""
    findings = {}
    for dependency in report["dependencies"] if report else []:
        key = canonicalize_name(dependency["name"])
        if "skip_reason" in dependency or key not in pins:
            continue
        name, version = pins[key]
        findings[key] = Finding(
            name,
            version,
            source=PIP_AUDIT,
            advisories=tuple(
                Advisory(vuln["id"], tuple(vuln["fix_versions"])) for vuln in dependency["vulns"]
            ),
        )
    return findings


def latest_release_advisories(project):
    """The advisories in a project JSON, less withdrawn ones and aliases of one already kept."""
    advisories, seen = [], set()
    for vulnerability in project["vulnerabilities"]:
        if vulnerability["withdrawn"] or vulnerability["id"] in seen:
            continue
        seen.update([vulnerability["id"], *vulnerability["aliases"]])
        advisories.append(Advisory(vulnerability["id"], tuple(vulnerability["fixed_in"])))
    return advisories


def first_newer_release(version, project):
    """When the first release after `version` (up to the latest, yanked ones aside) came out."""
    latest = Version(project["info"]["version"])
    uploads = []
    for release, files in project["releases"].items():
        try:
            newer = version < Version(release) <= latest
        except InvalidVersion:  # Pre-PEP 440 releases, long before any pin of ours.
            continue
        if newer and not all(file["yanked"] for file in files):
            uploads.extend(datetime.fromisoformat(file["upload_time_iso_8601"]) for file in files)
    return min(uploads, default=None)


def project_json_finding(name, version, project):
    """Audit one pin against its project JSON, as far as that can (see the module docstring)."""
    latest = Version(project["info"]["version"])
    advisories = latest_release_advisories(project)
    if version == latest:
        return Finding(
            name, version, source=LATEST_RELEASE_ADVISORIES, advisories=tuple(advisories)
        )
    if advisories:
        return Finding(
            name,
            version,
            source=LATEST_RELEASE_ADVISORIES,
            advisories=tuple(
                Advisory(advisory.id, advisory.fixed_in, f"listed for the latest release {latest}")
                for advisory in advisories
            ),
        )
    newer_since = first_newer_release(version, project)
    if newer_since is None:  # A pin newer than PyPI's latest release, e.g. a pre-release.
        return Finding(name, version, not_audited=f"PyPI's latest release is {latest}")
    return Finding(
        name,
        version,
        not_audited=(
            f"superseded since {newer_since:%Y-%m-%d} (latest: {latest}), and the advisories "
            "reachable here cover the latest release only: `make lock` moves to it, unless "
            f"pyproject.toml caps {name}"
        ),
        grace_until=newer_since + GRACE,
    )


def project_json_fetcher():
    """Fetch project JSON over one connection, riding out a brief outage of pypi.org."""
    session = requests.Session()
    retries = Retry(total=2, backoff_factor=1, status_forcelist=[429, 500, 502, 503, 504])
    session.mount("https://", HTTPAdapter(max_retries=retries))

    def fetch(name):
        response = session.get(PROJECT_JSON_URL.format(name=name), timeout=30)
        response.raise_for_status()
        return response.json()

    return fetch


def audit(pins, pip_audit_report, fetch):
    """One finding per pin: pip-audit's where it audited, the project JSON's elsewhere."""
    findings = pip_audit_findings(pip_audit_report, pins)
    unreachable = ""
    for key, (name, version) in pins.items():
        if key in findings:
            continue
        if unreachable:  # Offline: say so at once rather than time out once per package.
            findings[key] = Finding(name, version, not_audited=unreachable)
            continue
        try:
            project = fetch(name)
        except requests.ConnectionError as error:
            unreachable = f"pypi.org unreachable ({type(error).__name__})"
            findings[key] = Finding(name, version, not_audited=unreachable)
        except requests.RequestException as error:
            findings[key] = Finding(name, version, not_audited=f"no advisory data ({error})")
        else:
            findings[key] = project_json_finding(name, version, project)
    return [findings[key] for key in pins]


def report(findings, *, strict, now):
    """Print what was found and what could not be audited; return the exit status."""
    vulnerable = [finding for finding in findings if finding.advisories]
    unaudited = [finding for finding in findings if finding.not_audited]
    sources = Counter(finding.source for finding in findings if not finding.not_audited)
    by_source = "".join(f", {count} by {source}" for source, count in sources.items())
    audited = len(findings) - len(unaudited)
    print(f"Dependency audit: {audited} of {len(findings)} locked packages audited{by_source}.")

    for finding in vulnerable:
        for advisory in finding.advisories:
            fixed = f"fixed in {', '.join(advisory.fixed_in)}" if advisory.fixed_in else "no fix"
            note = f"; {advisory.note}" if advisory.note else ""
            print(f"  VULNERABLE {finding.pin}: {advisory.id} ({fixed}{note})")

    failing = bool(vulnerable)
    pins_by_reason = defaultdict(list)
    for finding in unaudited:
        pins_by_reason[finding.not_audited, finding.grace_until].append(finding.pin)
    for (reason, grace_until), pins in pins_by_reason.items():
        if strict and (grace_until is None or now >= grace_until):
            failing = True
            consequence = " - fails the build"
        elif grace_until is not None:
            consequence = f" - fails AUDIT_INCOMPLETE=fail builds from {grace_until:%Y-%m-%d}"
        else:
            consequence = ""
        listed = "every pin" if 1 < len(pins) == len(findings) else ", ".join(pins)
        print(f"  NOT AUDITED {listed}: {reason}{consequence}")

    if vulnerable:
        print("Known vulnerabilities: upgrade them in pyproject.toml, then `make lock`.")
    if unaudited:
        print(
            f"DEPENDENCY AUDIT INCOMPLETE: {len(unaudited)} packages not audited (above). "
            "`make audit` where https://pypi.org is fully reachable audits every pin."
        )
    elif not vulnerable:
        print("No known vulnerabilities in requirements.lock.")
    return 1 if failing else 0


def main():
    pins = read_lock(LOCK_FILE.read_text())
    findings = audit(pins, run_pip_audit(), project_json_fetcher())
    strict = os.environ.get("AUDIT_INCOMPLETE", "warn") == "fail"
    return report(findings, strict=strict, now=datetime.now(UTC))


if __name__ == "__main__":
    sys.exit(main())
