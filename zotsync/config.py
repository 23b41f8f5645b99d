"""``zotsync.yaml`` → a typed, validated :class:`Config`.

Every problem in the file is collected and reported at once (key, what is wrong, the fix), so a
user fixes their config in one round instead of one error per run. Unknown keys are errors with a
"did you mean" hint: a typo silently ignored is a setting that silently does nothing.

Secrets never live here: the Zotero API key comes from ``ZOTERO_API_KEY`` or the OS keyring.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from zotsync.errors import ConfigError

CONFIG_NAME = "zotsync.yaml"
SOURCES = ("sqlite", "local", "web", "bbt-json", "bibtex", "csl-json", "demo")
#: sources without Zotero item keys: an item is known by its citekey (frontmatter ``citekey``)
CITEKEY_SOURCES = ("bibtex", "csl-json")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY_NAMES = {d.lower(): d for d in WEEKDAYS} | {
    full.lower(): d
    for full, d in zip(
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        WEEKDAYS,
        strict=True,
    )
}


@dataclass
class RefsConfig:
    """Reference lists from Semantic Scholar."""

    enabled: bool = True
    budget_seconds: float = 30.0
    max_age_days: int = 30
    frontmatter_links: bool = False


@dataclass
class SlotsConfig:
    """Weekly reading slots."""

    days: list[str] = field(default_factory=lambda: ["Mon", "Wed", "Thu"])
    time: str = "19:00"
    minutes: int = 60


@dataclass
class PlanConfig:
    """Reading plans (``zotsync plan`` and the daemon's weekly run)."""

    folder: str = "Reading Plans"
    count: int = 3
    day: str = "Sun"
    hour: int = 18
    timezone: str | None = None
    slots: SlotsConfig = field(default_factory=SlotsConfig)
    reading_when_started: bool = False


@dataclass
class IndexConfig:
    """Tag and collection index notes and the master list."""

    enabled: bool = True
    tags_folder: str = "Tags"
    collections_folder: str = "Collections"
    master: str = "Papers.md"
    group_by: str = "collection"


@dataclass
class DiscoverConfig:
    """``zotsync discover``: which new arXiv papers to rank."""

    categories: list[str] = field(default_factory=lambda: ["cs.LG"])
    queries: list[str] = field(default_factory=list)
    days: int = 7
    top: int = 20
    folder: str = "Inbox"
    delay_seconds: float = 3.0


@dataclass
class WatchConfig:
    """The daemon."""

    debounce_seconds: float = 0.1
    poll_seconds: float = 0.0
    web_poll_seconds: float = 60.0
    weekly_plan: bool = True
    weekly_discover: bool = False


@dataclass
class Config:
    """The whole configuration, with defaults for everything."""

    source: str = "sqlite"
    zotero_db: str | None = None
    bbt_json: str | None = None
    bibtex: str | None = None
    csl_json: str | None = None
    library: str = "user"
    collections: list[str] = field(default_factory=list)
    papers_folder: str = "Papers"
    filename: str = "{title}"
    rename: bool = True
    attachments_folder: str = "Attachments"
    archive_folder: str | None = None
    base_attachment_path: str | None = None
    writeback: bool = False
    standalone: bool = True
    automatic_tags: bool = False
    refs: RefsConfig = field(default_factory=RefsConfig)
    plan: PlanConfig = field(default_factory=PlanConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    discover: DiscoverConfig = field(default_factory=DiscoverConfig)
    watch: WatchConfig = field(default_factory=WatchConfig)
    callouts: dict[str, str] = field(default_factory=dict)


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _check_type(value: Any, hint: Any) -> bool:
    text = str(hint)
    if hint is bool or text == "bool":
        return isinstance(value, bool)
    if hint is int or text == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float or text == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if text in ("str", "<class 'str'>"):
        return isinstance(value, str)
    if text.startswith("str | None"):
        return value is None or isinstance(value, str)
    if text.startswith("list[str]"):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if text.startswith("dict[str, str]"):
        return isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        )
    return True


def _type_name(hint: Any) -> str:
    text = getattr(hint, "__name__", None) or str(hint)
    return {
        "bool": "true or false",
        "int": "a whole number",
        "float": "a number",
        "str": "text",
        "list[str]": "a list of text values",
        "dict[str, str]": "a mapping of text to text",
    }.get(str(text).replace(" | None", ""), str(text))


def _build(cls: type, data: Any, prefix: str, problems: list[str]) -> Any:
    """Fill dataclass ``cls`` from a mapping, recording problems instead of raising."""
    obj = cls()
    if data is None:
        return obj
    if not isinstance(data, dict):
        problems.append(f"{prefix or 'the file'}: expected a mapping of settings")
        return obj
    hints = get_type_hints(cls)
    names = {_kebab(f.name): f.name for f in fields(cls)} | {f.name: f.name for f in fields(cls)}
    for raw_key, value in data.items():
        key = str(raw_key)
        where = f"{prefix}{key}"
        if key not in names:
            close = difflib.get_close_matches(key, list(names), n=1)
            hint = f" (did you mean '{prefix}{close[0]}'?)" if close else ""
            problems.append(f"{where}: unknown setting{hint}; remove it")
            continue
        attr = names[key]
        hint_t = hints[attr]
        current = getattr(obj, attr)
        if is_dataclass(current):
            setattr(obj, attr, _build(type(current), value, f"{where}.", problems))
            continue
        if isinstance(hint_t, type) and hint_t is float and isinstance(value, int):
            value = float(value)
        if not _check_type(value, hint_t):
            problems.append(f"{where}: expected {_type_name(hint_t)}, got {value!r}")
            continue
        setattr(obj, attr, value)
    return obj


def _validate(cfg: Config, problems: list[str]) -> None:
    if cfg.source not in SOURCES:
        problems.append(f"source: '{cfg.source}' is not one of {', '.join(SOURCES)}")
    if not re.fullmatch(r"user(:\d+)?|group:\d+", cfg.library):
        problems.append(f"library: '{cfg.library}' must be user, user:ID or group:ID")
    inside = {
        "papers-folder": cfg.papers_folder,
        "attachments-folder": cfg.attachments_folder,
        "plan.folder": cfg.plan.folder,
        "index.tags-folder": cfg.index.tags_folder,
        "index.collections-folder": cfg.index.collections_folder,
        "index.master": cfg.index.master,
        "discover.folder": cfg.discover.folder,
    }
    if cfg.archive_folder is not None:
        inside["archive-folder"] = cfg.archive_folder
    for name, value in inside.items():
        if value.startswith(("/", "\\")) or ".." in Path(value).parts or not value.strip():
            problems.append(f"{name}: '{value}' must be a path inside the vault")
    _check_managed_paths(cfg, problems)
    if "{" not in cfg.filename:
        problems.append(
            "filename: must use at least one of {title}, {citekey}, {key}, {year}, {author}"
        )
    days = []
    for day in cfg.plan.slots.days:
        norm = DAY_NAMES.get(day.lower())
        if norm is None:
            problems.append(f"plan.slots.days: '{day}' is not a weekday (Mon … Sun)")
        else:
            days.append(norm)
    cfg.plan.slots.days = days
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", cfg.plan.slots.time):
        problems.append(f"plan.slots.time: '{cfg.plan.slots.time}' must be HH:MM (24 h)")
    if not 5 <= cfg.plan.slots.minutes <= 24 * 60:
        problems.append("plan.slots.minutes: must be between 5 and 1440")
    plan_day = DAY_NAMES.get(cfg.plan.day.lower())
    if plan_day is None:
        problems.append(f"plan.day: '{cfg.plan.day}' is not a weekday (Mon … Sun)")
    else:
        cfg.plan.day = plan_day
    if not 0 <= cfg.plan.hour <= 23:
        problems.append("plan.hour: must be between 0 and 23")
    if cfg.plan.count < 1:
        problems.append("plan.count: must be at least 1")
    if cfg.plan.timezone:
        try:
            import zoneinfo

            zoneinfo.ZoneInfo(cfg.plan.timezone)
        except Exception:
            problems.append(
                f"plan.timezone: '{cfg.plan.timezone}' is not an IANA time zone (e.g. Europe/Berlin)"
            )
    if cfg.index.group_by not in ("collection", "tag"):
        problems.append("index.group-by: must be 'collection' or 'tag'")
    if cfg.refs.budget_seconds < 0:
        problems.append("refs.budget-seconds: must be 0 or more")
    if cfg.watch.debounce_seconds < 0 or cfg.watch.poll_seconds < 0:
        problems.append("watch: debounce-seconds and poll-seconds must be 0 or more")


# folders that belong to Obsidian, zotsync's state, git, or the templates: no managed note there
RESERVED_FOLDERS = (".zotsync", ".obsidian", ".git", ".trash", "Templates")


def _parts(value: str) -> tuple[str, ...]:
    return tuple(p for p in value.replace("\\", "/").split("/") if p not in ("", "."))


def _within(inner: tuple[str, ...], outer: tuple[str, ...]) -> bool:
    """Whether vault path ``inner`` is ``outer`` or lies inside it (case-insensitively, as on
    macOS and Windows)."""
    fold = tuple(p.casefold() for p in inner)
    return fold[: len(outer)] == tuple(p.casefold() for p in outer)


def _check_managed_paths(cfg: Config, problems: list[str]) -> None:
    """PRODUCT: the master list, the index, plan and inbox folders name notes zotsync owns.

    So none may point at the config, Obsidian's or zotsync's own folders, or into the paper
    notes' folder (where each note belongs to an item), and the master list is a ``.md`` note.
    """
    master = _parts(cfg.index.master)
    if master and not master[-1].lower().endswith(".md"):
        problems.append(
            f"index.master: '{cfg.index.master}' must be a Markdown note ending in .md "
            "(e.g. Papers.md)"
        )
    papers = _parts(cfg.papers_folder)
    managed = {
        "index.master": master,
        "index.tags-folder": _parts(cfg.index.tags_folder),
        "index.collections-folder": _parts(cfg.index.collections_folder),
        "plan.folder": _parts(cfg.plan.folder),
        "discover.folder": _parts(cfg.discover.folder),
    }
    for name, parts in managed.items():
        if not parts or ".." in parts:
            continue  # empty or outside the vault: reported above
        shown = "/".join(parts)
        reserved = next((r for r in RESERVED_FOLDERS if parts[0].casefold() == r.casefold()), None)
        if reserved is not None:
            problems.append(
                f"{name}: '{shown}' lies in {reserved}/, which is not zotsync's to write notes "
                "in; choose a folder of its own"
            )
        elif parts[0].startswith("."):
            problems.append(f"{name}: '{shown}' is a hidden folder; choose a visible folder")
        elif papers and _within(parts, papers):
            problems.append(
                f"{name}: '{shown}' lies in the paper notes' folder '{cfg.papers_folder}'; "
                "choose a folder of its own"
            )
        elif len(parts) == 1 and parts[0].casefold() == CONFIG_NAME:
            problems.append(f"{name}: '{shown}' is the configuration file; choose another name")
    for name in ("papers-folder", "attachments-folder", "archive-folder"):
        value = getattr(cfg, name.replace("-", "_"))
        parts = _parts(value) if value else ()
        if parts and parts[0].casefold() in (".zotsync", ".obsidian", ".git"):
            problems.append(f"{name}: '{value}' lies in {parts[0]}/; choose a folder of its own")


def check_vault_targets(vault: Path, cfg: Config) -> list[str]:
    """Problems only the vault can show: the master list already is a paper note."""
    problems = []
    master = vault / cfg.index.master
    if master.is_file():
        try:
            with open(master, "rb") as handle:
                head = handle.read(4096).decode("utf-8", "replace")
        except OSError:
            head = ""
        if head.startswith("---") and re.search(r"^zotero-key\s*:", head, re.MULTILINE):
            problems.append(
                f"index.master: '{cfg.index.master}' is a paper note (it has a zotero-key); "
                "choose a new name such as Papers.md"
            )
    return problems


def parse_config(text: str, *, path: str | None = None) -> Config:
    """Parse YAML text into a :class:`Config`; raise :class:`ConfigError` listing all problems."""
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError([f"invalid YAML{where}: {exc}"], path=path) from exc
    problems: list[str] = []
    cfg = _build(Config, data or {}, "", problems)
    _validate(cfg, problems)
    if problems:
        raise ConfigError(problems, path=path)
    return cfg


def load_config(vault: Path, override: Path | None = None) -> Config:
    """Read ``zotsync.yaml`` of ``vault`` (or ``override``); defaults when absent."""
    path = override or vault / CONFIG_NAME
    if not path.exists():
        if override is not None:
            raise ConfigError([f"{path} does not exist"], path=str(path))
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read it: {exc}"], path=str(path)) from None
    config = parse_config(text, path=str(path))
    problems = check_vault_targets(vault, config)
    if problems:
        raise ConfigError(problems, path=str(path))
    return config
