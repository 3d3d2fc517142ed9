"""`make run` on a fresh clone picks its interpreter with scripts/find-python: on machines
like ours `python3` is 3.11 and pyenv's shims for its 3.12+ versions refuse to run."""

import shutil
import subprocess
import sys

from django.conf import settings

FIND_PYTHON = settings.BASE_DIR / "scripts" / "find-python"
# What a pyenv shim for a version that is installed but not selected does.
REFUSING_SHIM = '#!/bin/sh\necho "pyenv: $(basename "$0"): command not found" >&2\nexit 127\n'
# A Python 3.11: it runs, and fails the script's version check.
TOO_OLD = "#!/bin/sh\nexit 1\n"


def find_python(tmp_path, programs):
    """scripts/find-python with nothing on the PATH but `programs` (name: script) and sort."""
    path = tmp_path / "bin"
    path.mkdir()
    (path / "sort").symlink_to(shutil.which("sort"))
    for name, script in programs.items():
        (path / name).write_text(script)
        (path / name).chmod(0o755)
    return subprocess.run(  # noqa: S603 - our own script
        ["/bin/sh", FIND_PYTHON],
        env={"PATH": str(path)},
        capture_output=True,
        text=True,
        check=False,
    )


def fake_pyenv(root, versions):
    return f'#!/bin/sh\ncase "$1" in root) echo {root};; versions) printf "{versions}";; esac\n'


def test_the_first_python_on_the_path_that_runs_and_is_new_enough_is_taken(tmp_path):
    found = find_python(
        tmp_path,
        {
            "python3.13": REFUSING_SHIM,
            "python3.12": f'#!/bin/sh\nexec {sys.executable} "$@"\n',
            "python3": TOO_OLD,
        },
    )

    assert found.stdout.strip() == str(tmp_path / "bin" / "python3.12")


def test_pyenvs_installed_version_is_used_when_its_shims_refuse_to_run(tmp_path):
    root = tmp_path / "pyenv"
    (root / "versions" / "3.13.0" / "bin").mkdir(parents=True)
    (root / "versions" / "3.13.0" / "bin" / "python3").symlink_to(sys.executable)
    (root / "versions" / "3.11.7" / "bin").mkdir(parents=True)

    found = find_python(
        tmp_path,
        {
            "python3.13": REFUSING_SHIM,
            "python3.12": REFUSING_SHIM,
            "python3": TOO_OLD,
            "pyenv": fake_pyenv(root, r"3.11.7\n3.13.0\n"),
        },
    )

    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == str(root / "versions" / "3.13.0" / "bin" / "python3")


def test_without_any_python_3_12_it_says_what_to_install(tmp_path):
    found = find_python(tmp_path, {"python3": TOO_OLD, "pyenv": fake_pyenv(tmp_path, "")})

    assert found.returncode == 1
    assert found.stdout == ""
    assert "No Python 3.12 or newer found" in found.stderr
