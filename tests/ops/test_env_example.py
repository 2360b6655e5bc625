"""`.env.example` is the whole list of settings: every variable the settings read, every one in
README's configuration table, and nothing that no part of the deployment reads."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_SOURCES = [*sorted((ROOT / "config" / "settings").glob("*.py")), ROOT / "config" / "mail.py"]
NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")


def names_read_by(path: Path) -> set[str]:
    """Variable names passed to env.<cast>(…), to <…>environ.get(…), or to a helper beside `environ`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        reads_env = (
            isinstance(func, ast.Attribute)
            and (
                (isinstance(func.value, ast.Name) and func.value.id == "env")
                or (func.attr == "get" and "environ" in ast.unparse(func.value))
            )
        ) or any(isinstance(arg, ast.Name) and arg.id == "environ" for arg in node.args)
        if reads_env:
            found |= {
                arg.value
                for arg in node.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and NAME.match(arg.value)
            }
    return found


def listed_in_env_example() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {m.group(1) for line in lines if (m := re.match(r"^#?\s?([A-Z][A-Z0-9_]+)=", line))}


def readme_configuration_table() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_the_scanner_finds_the_variables_of_each_kind_of_read():
    # env.str in base, os.environ.get in the module picker, a helper given `environ` in config/mail.py
    everything = set().union(*map(names_read_by, SETTINGS_SOURCES))
    assert {"SECRET_KEY", "DJANGO_ENV", "EMAIL_USE_SSL", "EMAIL_HOST", "TRUSTED_PROXY_COUNT"} <= everything


def test_every_variable_the_settings_read_is_listed_in_env_example():
    read = set().union(*map(names_read_by, SETTINGS_SOURCES))
    assert read - listed_in_env_example() == set()


def test_every_variable_of_readmes_configuration_table_is_listed_in_env_example():
    table = readme_configuration_table()
    assert len(table) > 20
    assert table - listed_in_env_example() == set()


def test_every_variable_in_env_example_is_read_by_the_settings_compose_or_the_backup_service():
    read = set().union(*map(names_read_by, SETTINGS_SOURCES))
    compose = (ROOT / "docker-compose.yml").read_text()
    backup = (ROOT / "deploy" / "backup" / "backup.sh").read_text()
    unread = {name for name in listed_in_env_example() - read if name not in compose and name not in backup}
    assert unread == set()
