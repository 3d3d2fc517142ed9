"""scripts/audit-deps, run by `make lint`: what each pip-audit outcome does to the build.

pip-audit itself needs PyPI's advisory data over the network, so a stand-in plays its part.
"""

import os
import subprocess
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent

VULNERABLE = """Found 1 known vulnerability in 1 package
Name   Version ID             Fix Versions
------ ------- -------------- ------------
django 6.1.3   PYSEC-2026-101 6.1.4
"""
CLEAN = "No known vulnerabilities found\n"
UNREACHABLE = """No known vulnerabilities found
Name   Skip Reason
------ ---------------------------------------------------------------------
django Dependency not found on PyPI and could not be audited: django (6.1.3)
"""


def audit(tmp_path, report, exit_code, **variables):
    fake_venv = tmp_path / "venv"
    (fake_venv / "bin").mkdir(parents=True)
    pip_audit = fake_venv / "bin" / "pip-audit"
    (tmp_path / "report").write_text(report)
    pip_audit.write_text(f"#!/bin/sh\ncat {tmp_path / 'report'}\nexit {exit_code}\n")
    pip_audit.chmod(0o755)
    env = {name: value for name, value in os.environ.items() if name != "AUDIT_OFFLINE"}
    env.update(VENV=str(fake_venv), **variables)
    return subprocess.run(
        ["/bin/sh", "scripts/audit-deps"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_known_vulnerability_fails_the_build(tmp_path):
    result = audit(tmp_path, VULNERABLE, 1)

    assert result.returncode == 1
    assert "PYSEC-2026-101" in result.stdout
    assert "known vulnerabilities" in result.stderr


def test_no_known_vulnerability_passes(tmp_path):
    result = audit(tmp_path, CLEAN, 0)

    assert result.returncode == 0
    assert "no known vulnerabilities in requirements.lock" in result.stdout


@pytest.mark.parametrize(("mode", "exit_code"), [("warn", 0), ("fail", 1)])
def test_unreachable_advisories_are_reported_as_not_audited(tmp_path, mode, exit_code):
    result = audit(tmp_path, UNREACHABLE, 0, AUDIT_OFFLINE=mode)

    assert result.returncode == exit_code
    assert "DEPENDENCY AUDIT NOT DONE" in result.stderr
    assert "could not be audited: django" in result.stdout


def test_pip_audit_crashing_offline_is_not_a_pass(tmp_path):
    result = audit(
        tmp_path, "ConnectionError: could not resolve pypi.org\n", 1, AUDIT_OFFLINE="fail"
    )

    assert result.returncode == 1
    assert "DEPENDENCY AUDIT NOT DONE" in result.stderr
