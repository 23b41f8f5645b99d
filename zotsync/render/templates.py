"""Jinja2 templates: the vault's own override the packaged defaults, rendered in a sandbox.

Templates live in ``<vault>/Templates/zotsync/*.md.j2`` (copied there by ``zotsync init``); a
template the vault does not have comes from the package (``zotsync/vault_template``), so tests
render exactly what users get. The sandbox plus a loader confined to those two folders means a
template can neither call arbitrary Python nor read files (``..`` is refused by the loader).

A vault template (or ``{% include %}``d file) that is a symlink to a file outside the vault is
refused too (PRODUCT guarantee 4, through :func:`zotsync.vault.confine.confine`): otherwise the
linked file's text would land in every note.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zotsync.errors import TemplateError
from zotsync.vault.confine import OutsideVault, confine
from zotsync.vault.regions import neutralise_markers

if TYPE_CHECKING:
    import jinja2

TEMPLATE_DIR = Path("Templates") / "zotsync"
NOTE_TEMPLATE = "note.md.j2"


def packaged_template_dir() -> Path:
    """Folder of the default templates inside the installed package."""
    return Path(str(resources.files("zotsync") / "vault_template")) / TEMPLATE_DIR


def packaged_vault_template() -> Path:
    """The starter vault shipped with the package (``vault-template/`` in the repository)."""
    return Path(str(resources.files("zotsync") / "vault_template"))


def _confined_loader(searchpath: list[str], vault: Path | None) -> jinja2.BaseLoader:
    """A file loader whose vault files must resolve inside the vault (includes too).

    Built on first use, like the environment: a pass that renders nothing never imports Jinja2.
    """
    import jinja2

    class ConfinedLoader(jinja2.FileSystemLoader):
        def get_source(self, environment: jinja2.Environment, template: str) -> Any:
            source, filename, uptodate = super().get_source(environment, template)
            if vault is not None and filename and _in_vault_dir(vault, filename):
                _confine_template(vault, Path(filename))
            return source, filename, uptodate

    return ConfinedLoader(searchpath)


def _in_vault_dir(vault: Path, filename: str) -> bool:
    """Whether ``filename`` was found in the vault's template folder (not the package's)."""
    folder = vault / TEMPLATE_DIR
    return Path(filename).parent == folder or folder in Path(filename).parents


def _confine_template(vault: Path, path: Path) -> None:
    try:
        confine(vault, path, action="read the template")
    except OutsideVault as exc:
        raise TemplateError(exc.message, fix=exc.fix) from None


class Templates:
    """A sandboxed Jinja2 environment over the vault's templates, then the packaged ones."""

    def __init__(self, vault: Path | None) -> None:
        dirs = []
        if vault is not None and (vault / TEMPLATE_DIR).is_dir():
            dirs.append(str(vault / TEMPLATE_DIR))
        dirs.append(str(packaged_template_dir()))
        self.dirs = dirs
        self.vault = vault
        self._env: jinja2.Environment | None = None
        self._default: dict[str, bool] = {}
        self._cache: dict[str, jinja2.Template] = {}

    @property
    def env(self) -> jinja2.Environment:
        """The sandbox, built on first use: a pass that renders nothing never imports Jinja2."""
        if self._env is None:
            import jinja2
            from jinja2.sandbox import SandboxedEnvironment

            self._env = SandboxedEnvironment(
                loader=_confined_loader(self.dirs, self.vault),
                keep_trailing_newline=True,
                trim_blocks=True,
                lstrip_blocks=True,
                autoescape=False,
                undefined=jinja2.StrictUndefined,
                finalize=_finalize,
            )
        return self._env

    def _confine(self, path: Path) -> None:
        """A vault template is read only if it really lies inside the vault."""
        if self.vault is not None and _in_vault_dir(self.vault, str(path)):
            _confine_template(self.vault, path)

    def _where(self, name: str) -> str:
        for folder in self.dirs:
            candidate = Path(folder) / name
            if candidate.exists():
                return str(candidate)
        return name

    def get(self, name: str) -> jinja2.Template:
        import jinja2

        if name not in self._cache:
            try:
                self._cache[name] = self.env.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(
                    f"template {exc.filename or self._where(name)}, line {exc.lineno}: {exc.message}",
                    fix="correct the template, or delete it to fall back to the default",
                ) from exc
            except jinja2.TemplateNotFound as exc:
                raise TemplateError(
                    f"template {exc.name} not found in {', '.join(self.dirs)}",
                    fix="run `zotsync init` on the vault to restore the default templates",
                ) from exc
        return self._cache[name]

    def render(self, name: str, context: dict[str, Any]) -> str:
        """Render ``name``; any error becomes a :class:`TemplateError` naming file and line."""
        import jinja2

        template = self.get(name)
        try:
            return template.render(context)
        except jinja2.TemplateError as exc:
            line = _error_line(exc)
            raise TemplateError(
                f"template {self._where(name)}{line}: {exc}",
                fix="correct the template, or delete it to fall back to the default",
            ) from exc
        except Exception as exc:
            line = _error_line(exc)
            raise TemplateError(
                f"template {self._where(name)}{line}: {type(exc).__name__}: {exc}",
                fix="correct the template, or delete it to fall back to the default",
            ) from exc

    def is_default(self, name: str) -> bool:
        """True when the vault's copy of ``name`` is missing or equal to the packaged one.

        Asked once per rendered note; answered once per template (a pass renders with one set).
        """
        if name not in self._default:
            self._default[name] = self._compare_default(name)
        return self._default[name]

    def _compare_default(self, name: str) -> bool:
        packaged = packaged_template_dir() / name
        for folder in self.dirs[:-1]:
            own = Path(folder) / name
            if own.exists():
                self._confine(own)
                return packaged.exists() and own.read_bytes() == packaged.read_bytes()
        return True

    def fingerprint(self) -> str:
        """Hash of every template source in use, so a template edit re-renders all notes."""
        digest = hashlib.blake2b(digest_size=16)
        seen = set()
        for folder in self.dirs:
            for path in sorted(Path(folder).glob("*.j2")):
                if path.name in seen:
                    continue
                seen.add(path.name)
                self._confine(path)
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()


def _finalize(value: Any) -> Any:
    """Every ``{{ expression }}`` passes here: no Zotero value can close or open a region."""
    return neutralise_markers(value) if isinstance(value, str) else value


def _error_line(exc: BaseException) -> str:
    """Best effort: the template line number from a runtime error's traceback."""
    tb = exc.__traceback__
    lineno = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2") or "<template>" in (
            tb.tb_frame.f_code.co_filename
        ):
            lineno = tb.tb_lineno
        tb = tb.tb_next
    return f", line {lineno}" if lineno else ""
