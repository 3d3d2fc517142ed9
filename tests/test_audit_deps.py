"""scripts/audit_deps.py, run by `make lint`: what the dependency audit reports, and when it fails.

The network is the boundary: pip-audit's report and PyPI's answers are stand-ins here, the
project JSON recorded from https://pypi.org/pypi/<name>/json (tests/pypi/, trimmed to the
fields and releases the audit reads). `make lint` runs the real thing.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from scripts import audit_deps

RECORDED = Path(__file__).parent / "pypi"
# whitenoise 6.12.0, the release after 6.11.0, was uploaded at 2026-02-27T00:05:40Z.
WHITENOISE_6_12_OUT = datetime(2026, 2, 27, 0, 5, 40, tzinfo=UTC)
LATER = datetime(2026, 11, 28, tzinfo=UTC)


def recorded_project_json(name):
    return json.loads((RECORDED / f"{name}.json").read_text())


def run_audit(capsys, lock, *, pip_audit_report=None, fetch=recorded_project_json, **options):
    """The audit's exit status and output for `lock`, strict (as in CI) unless told otherwise."""
    options = {"strict": True, "now": LATER} | options
    findings = audit_deps.audit(audit_deps.read_lock(lock), pip_audit_report, fetch)
    status = audit_deps.report(findings, **options)
    return status, capsys.readouterr().out


def test_pins_at_latest_releases_without_advisories_pass(capsys):
    status, out = run_audit(capsys, "whitenoise==6.12.0\n")

    assert status == 0
    assert "1 of 1 locked packages audited, 1 by PyPI's latest-release advisories" in out
    assert "No known vulnerabilities in requirements.lock." in out


def test_pin_at_a_latest_release_with_an_advisory_fails_once_per_flaw(capsys):
    status, out = run_audit(capsys, "ecdsa==0.19.2\n")

    assert status == 1
    # PyPI lists the flaw twice, as PYSEC-2026-1325 and as its alias GHSA-wj6h-64fc-37mp.
    assert out.count("VULNERABLE") == 1
    assert "VULNERABLE ecdsa 0.19.2: PYSEC-2026-1325 (no fix)" in out


def test_older_pin_gets_the_unfixed_advisories_of_the_latest_release(capsys):
    status, out = run_audit(capsys, "ecdsa==0.19.1\n")

    assert status == 1
    assert "VULNERABLE ecdsa 0.19.1: PYSEC-2026-1325 (no fix; listed for the latest release" in out


def test_withdrawn_advisories_do_not_count(capsys):
    project = recorded_project_json("ecdsa")
    for vulnerability in project["vulnerabilities"]:
        vulnerability["withdrawn"] = "2026-11-01T00:00:00Z"

    status, out = run_audit(capsys, "ecdsa==0.19.2\n", fetch=lambda name: project)

    assert status == 0
    assert "VULNERABLE" not in out


@pytest.mark.parametrize(
    ("days_after_the_new_release", "status", "says"),
    [
        (13, 0, "fails AUDIT_INCOMPLETE=fail builds from 2026-03-13"),
        (15, 1, "fails the build"),
    ],
)
def test_older_pin_is_not_audited_and_fails_strict_builds_after_a_grace_period(
    capsys, days_after_the_new_release, status, says
):
    now = WHITENOISE_6_12_OUT + timedelta(days=days_after_the_new_release)

    exit_status, out = run_audit(capsys, "whitenoise==6.11.0\n", now=now)

    assert exit_status == status
    assert "NOT AUDITED whitenoise 6.11.0: superseded since 2026-02-27 (latest: 6.12.0)" in out
    assert "`make lock` moves to it" in out
    assert says in out
    assert "DEPENDENCY AUDIT INCOMPLETE: 1 packages not audited" in out


def test_unaudited_pins_only_warn_outside_strict_builds(capsys):
    status, out = run_audit(capsys, "whitenoise==6.11.0\n", strict=False)

    assert status == 0
    assert "NOT AUDITED whitenoise 6.11.0" in out


def test_pip_audit_comes_first_and_its_skipped_packages_fall_back_to_project_json(capsys):
    asked_pypi_about = []

    def fetch(name):
        asked_pypi_about.append(name)
        return recorded_project_json(name)

    pip_audit_report = {
        "dependencies": [
            {"name": "ecdsa", "version": "0.19.1", "vulns": []},
            {
                "name": "whitenoise",
                "skip_reason": "Dependency not found on PyPI and could not be audited: "
                "whitenoise (6.12.0)",
            },
        ],
        "fixes": [],
    }

    status, out = run_audit(
        capsys,
        "ecdsa==0.19.1\nwhitenoise==6.12.0\n",
        pip_audit_report=pip_audit_report,
        fetch=fetch,
    )

    assert status == 0
    assert asked_pypi_about == ["whitenoise"]
    assert "2 of 2 locked packages audited, 1 by pip-audit, 1 by PyPI's" in out


def test_a_vulnerability_found_by_pip_audit_fails(capsys):
    pip_audit_report = {
        "dependencies": [
            {
                "name": "django",
                "version": "6.1.3",
                "vulns": [{"id": "PYSEC-2026-101", "fix_versions": ["6.1.4"], "aliases": []}],
            }
        ],
        "fixes": [],
    }

    status, out = run_audit(capsys, "Django==6.1.3\n", pip_audit_report=pip_audit_report)

    assert status == 1
    assert "VULNERABLE Django 6.1.3: PYSEC-2026-101 (fixed in 6.1.4)" in out


def test_unreachable_pypi_is_reported_at_once_and_fails_strict_builds(capsys):
    attempts = []

    def offline(name):
        attempts.append(name)
        raise requests.ConnectionError("Name or service not known")

    status, out = run_audit(capsys, "ecdsa==0.19.2\nwhitenoise==6.12.0\n", fetch=offline)

    assert status == 1
    assert attempts == ["ecdsa"]
    assert "NOT AUDITED every pin: pypi.org unreachable (ConnectionError)" in out
    assert "No known vulnerabilities" not in out


def test_a_package_missing_from_pypi_is_not_audited(capsys):
    def not_found(name):
        response = requests.Response()
        response.status_code = 404
        raise requests.HTTPError("404 Client Error: Not Found", response=response)

    status, out = run_audit(capsys, "in-house-lib==1.0\n", fetch=not_found)

    assert status == 1
    assert "NOT AUDITED in-house-lib 1.0: no advisory data (404 Client Error: Not Found)" in out
