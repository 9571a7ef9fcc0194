"""The reference deployment's files (deploy/, docs/deploying.md) name what the app really has:
systemd units run real management commands in the right order, the environment example lists
every variable of README's configuration table, and nginx lets the largest photo upload through.
"""

import re
import shlex
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"


def read_unit(path):
    """A systemd unit as {section: [(key, value), ...]}: INI with repeatable keys (ExecStart
    of a oneshot may repeat), which configparser refuses. Any other line is an error."""
    sections, current = {}, None
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if match := re.fullmatch(r"\[(\w+)\]", line):
            current = sections.setdefault(match[1], [])
        elif (match := re.fullmatch(r"([A-Za-z]+)=(.*)", line)) and current is not None:
            current.append((match[1], match[2]))
        else:
            raise AssertionError(f"{path.name}:{number}: not INI: {raw!r}")
    return sections


def values(unit, section, key):
    return [value for name, value in unit.get(section, []) if name == key]


def manage_commands(unit):
    """The manage.py commands a unit's ExecStart lines run."""
    commands = []
    for line in values(unit, "Service", "ExecStart"):
        words = shlex.split(line)
        if "manage.py" in words:
            commands.append(words[words.index("manage.py") + 1])
    return commands


def test_every_unit_parses_and_runs_real_management_commands():
    units = {path.name: read_unit(path) for path in sorted(SYSTEMD.glob("*.service"))}
    assert set(units) == {
        "threshold-recover.service",
        "threshold-web.service",
        "threshold-worker.service",
        "threshold-verify.service",
    }
    known = set(get_commands())
    run = {name: manage_commands(unit) for name, unit in units.items()}
    assert run == {
        "threshold-recover.service": ["recover_documents", "recover_deliveries"],
        "threshold-web.service": [],
        "threshold-worker.service": ["db_worker"],
        "threshold-verify.service": [
            "recover_documents",
            "recover_deliveries",
            "verify_records",
            "prune_job_results",  # after the proof: its failure must not skip it
        ],
    }
    for commands in run.values():
        assert set(commands) <= known
    worker = shlex.split(values(units["threshold-worker.service"], "Service", "ExecStart")[0])
    assert worker[worker.index("--queue-name") + 1] == "*"


def test_web_runs_gunicorn_on_the_projects_wsgi_after_recovery():
    web = read_unit(SYSTEMD / "threshold-web.service")
    (command,) = values(web, "Service", "ExecStart")
    words = shlex.split(command)
    assert words[1:4] == ["-m", "gunicorn", "config.wsgi"]
    assert (ROOT / "config" / "wsgi.py").exists()
    for name in ("threshold-web.service", "threshold-worker.service"):
        unit = read_unit(SYSTEMD / name)
        assert "threshold-recover.service" in " ".join(values(unit, "Unit", "Requires"))
        assert "threshold-recover.service" in " ".join(values(unit, "Unit", "After"))
    recover = read_unit(SYSTEMD / "threshold-recover.service")
    assert values(recover, "Service", "Type") == ["oneshot"]


def test_verify_timer_starts_the_verify_service_nightly():
    timer = read_unit(SYSTEMD / "threshold-verify.timer")
    assert values(timer, "Timer", "OnCalendar") == ["*-*-* 03:15:00"]
    # A timer without Unit= starts the service of its own name.
    assert values(timer, "Timer", "Unit") in ([], ["threshold-verify.service"])
    assert (SYSTEMD / "threshold-verify.service").exists()


def readme_variables():
    """The variable names of README.md's configuration table (first column, in backticks)."""
    names = set()
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names |= set(re.findall(r"`([A-Z0-9_]+)`", first_cell))
    return names


def test_environment_example_lists_every_variable_of_the_readme():
    names = readme_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "PHOTO_REQUEST_MAX_BYTES", "STORAGE_URL"} <= names
    example = (DEPLOY / "threshold.env.example").read_text()
    listed = set(re.findall(r"^#?([A-Z0-9_]+)=", example, flags=re.MULTILINE))
    missing = {name for name in names if name not in listed and f"{name}_FILE" not in listed}
    assert not missing, f"deploy/threshold.env.example lacks {sorted(missing)}"


def test_environment_example_takes_secrets_from_files():
    example = (DEPLOY / "threshold.env.example").read_text()
    for secret in ("SECRET_KEY", "DATABASE_URL", "EMAIL_URL", "SIGNING_KEY"):
        assert re.search(rf"^{secret}_FILE=/", example, flags=re.MULTILINE)
        assert not re.search(rf"^#?{secret}=", example, flags=re.MULTILINE)


def nginx_size(value):
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


def nginx_directive(config, name):
    (value,) = re.findall(rf"^\s*{name}\s+([^;]+);", config, flags=re.MULTILINE)
    return value.strip()


def test_nginx_lets_the_largest_photo_upload_through_and_waits_for_gunicorn():
    config = (DEPLOY / "nginx" / "threshold.conf").read_text()
    limit = nginx_size(nginx_directive(config, "client_max_body_size"))
    assert limit >= settings.PHOTO_REQUEST_MAX_BYTES
    assert limit >= settings.IMPORT_MAX_BYTES
    web_unit = read_unit(SYSTEMD / "threshold-web.service")
    web = shlex.split(values(web_unit, "Service", "ExecStart")[0])
    gunicorn_timeout = int(words_after(web, "--timeout"))
    assert nginx_size(nginx_directive(config, "proxy_read_timeout").rstrip("s")) > gunicorn_timeout


def words_after(words, flag):
    return words[words.index(flag) + 1]


@pytest.mark.parametrize("header", ["Strict-Transport-Security", "Permissions-Policy"])
def test_nginx_leaves_the_apps_security_headers_alone(header):
    """The app sends them; nginx adding its own would send the header twice."""
    config = (DEPLOY / "nginx" / "threshold.conf").read_text()
    assert not re.search(rf"^\s*add_header\s+{header}", config, flags=re.MULTILINE | re.IGNORECASE)


def test_nginx_sets_the_headers_behind_tls_proxy_reads():
    config = (DEPLOY / "nginx" / "threshold.conf").read_text()
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in config
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in config
    assert re.search(r"^BEHIND_TLS_PROXY=1$", (DEPLOY / "threshold.env.example").read_text(), re.M)
