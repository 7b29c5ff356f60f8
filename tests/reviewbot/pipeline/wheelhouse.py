"""A hermetic package index for install tests: wheels built here, served as PEP 503 over real HTTP.

    with Wheelhouse.serve(host) as index:          # host: an address the install container reaches
        index.add("rbdep", "1.0", {"rbdep/__init__.py": "VALUE = 41\n"})
        index.url                                   # http://172.17.0.1:PORT/simple
        index.requests                              # every path asked for, in order

`TINYBUILD` is a tiny PEP 517/660 build backend (editable installs only: a .pth and metadata),
so a test project installs offline with `--no-build-isolation` from the wheels served here alone.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TINYBUILD = '''\
"""A minimal PEP 660 backend: the project's source root on sys.path, plus its metadata."""
import base64, hashlib, os, tomllib, zipfile

def _project():
    with open("pyproject.toml", "rb") as fh:
        project = tomllib.load(fh).get("project")
    if project is None:  # a "setup.py project": metadata computed by code, here read from a file
        with open("setup_meta.toml", "rb") as fh:
            project = tomllib.load(fh)
    return project

WHEEL = "Wheel-Version: 1.0\\nGenerator: tinybuild\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"

def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"

def get_requires_for_build_editable(config_settings=None):
    return []

def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    project = _project()
    name = project["name"].replace("-", "_")
    version = project.get("version") or os.environ.get("SETUPTOOLS_SCM_PRETEND_VERSION", "0")
    root = os.path.abspath("src" if os.path.isdir("src") else ".")
    dist = f"{name}-{version}.dist-info"
    scripts = "".join(f"{k} = {v}\\n" for k, v in project.get("scripts", {}).items())
    files = {
        f"_{name}_editable.pth": root + "\\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\\nName: {project['name']}\\nVersion: {version}\\n"
        + "".join(f"Requires-Dist: {r}\\n" for r in project.get("dependencies", [])),
        f"{dist}/WHEEL": WHEEL,
        f"{dist}/entry_points.txt": "[console_scripts]\\n" + scripts,
    }
    filename = f"{name}-{version}-py3-none-any.whl"
    lines = []
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
            lines.append(_record_line(path, text.encode()))
        zf.writestr(f"{dist}/RECORD", "\\n".join(lines + [f"{dist}/RECORD,,"]) + "\\n")
    return filename
'''


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(
    dest: Path, name: str, version: str, files: Mapping[str, str], requires: tuple[str, ...] = ()
) -> Path:
    """A pure-Python wheel of `files` (path -> text) with proper metadata and RECORD."""
    dist_name = name.replace("-", "_")
    dist = f"{dist_name}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    contents = {
        **{p: t.encode() for p, t in files.items()},
        f"{dist}/METADATA": meta.encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    path = dest / f"{dist_name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        lines = []
        for member, data in contents.items():
            zf.writestr(member, data)
            lines.append(_record_line(member, data))
        zf.writestr(f"{dist}/RECORD", "\n".join([*lines, f"{dist}/RECORD,,"]) + "\n")
    return path


@dataclass
class Wheelhouse:
    root: Path
    url: str = ""
    requests: list[str] = field(default_factory=list)

    def add(self, name: str, version: str, files: Mapping[str, str], requires: tuple[str, ...] = ()) -> None:
        files_dir = self.root / "files"
        files_dir.mkdir(parents=True, exist_ok=True)
        build_wheel(files_dir, name, version, files, requires)
        self._index()

    def _index(self) -> None:
        projects: dict[str, list[str]] = {}
        for wheel in sorted((self.root / "files").glob("*.whl")):
            project = wheel.name.split("-", 1)[0].replace("_", "-").lower()
            projects.setdefault(project, []).append(wheel.name)
        for project, wheels in projects.items():
            page = self.root / "simple" / project
            page.mkdir(parents=True, exist_ok=True)
            links = "".join(f'<a href="../../files/{w}">{w}</a>\n' for w in wheels)
            (page / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")

    def with_tinybuild(self) -> Wheelhouse:
        self.add("tinybuild", "1.0", {"tinybuild.py": TINYBUILD})
        return self

    @classmethod
    @contextmanager
    def serve(cls, root: Path, host: str) -> Iterator[Wheelhouse]:
        house = cls(root)
        (root / "simple").mkdir(parents=True, exist_ok=True)

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self) -> None:
                house.requests.append(self.path)
                super().do_GET()

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer((host, 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        house.url = f"http://{host}:{server.server_address[1]}/simple"
        try:
            yield house
        finally:
            server.shutdown()
            server.server_close()
