"""SCORM 1.2 packages of a built session, for a learning management system.

Trainers put recordings where their learners already are: Moodle, Canvas,
Blackboard, TalentLMS, Cornerstone... Every one of them imports a SCORM 1.2 zip
and records who finished it. The package is the session folder as `recast run`
left it, the shared CSS/JS, a one-card library page, `imsmanifest.xml`, and a
launch page `scorm.html` that talks to the LMS.

Why a launch page around the session: a SCORM 1.2 content object may call
LMSInitialize and LMSFinish once per launch, but the learner moves between the
session page and the chapter pages, and every move loads a new document. The
launch page holds the LMS connection for the whole visit and the pages run in a
frame inside it; they reach it through `window.parent.recastLMS` (same origin on
the LMS's server). The pages keep their own progress in localStorage as always
and mirror it to the LMS: `cmi.suspend_data` carries which chapters are done and
how much of each was watched, so progress follows the learner to another device,
and `cmi.core.lesson_status` becomes "completed" when every chapter is done.
Opened from disk, or in an LMS without the API, the pages work as they do on
their own.
"""

from __future__ import annotations

import os
import re
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .errors import ConfigError, OutputError
from .site import MANIFEST_NAME, STATIC_DIR_NAME, library_card, library_html, load_manifest, render, static_files

LAUNCH_PAGE = "scorm.html"
PACKAGE_MANIFEST = "imsmanifest.xml"
# Already compressed: stored as they are, which saves minutes on an hour of video
# and nothing in size.
_STORED = {".mp4", ".m4a", ".webm", ".mp3", ".webp", ".jpg", ".jpeg", ".png", ".zip"}
_IMSCP = "http://www.imsproject.org/xsd/imscp_rootv1p1p2"
_ADLCP = "http://www.adlnet.org/xsd/adlcp_rootv1p2"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMA_LOCATION = f"{_IMSCP} imscp_rootv1p1p2.xsd {_ADLCP} adlcp_rootv1p2.xsd"
MAX_TITLE = 200  # characters of an item title in SCORM 1.2 (longer ones are cut by some LMSs, refused by others)


@dataclass(frozen=True)
class Package:
    """A written SCORM package."""

    path: Path
    title: str
    files: int
    size: int  # bytes of the zip


def session_files(folder: Path) -> list[Path]:
    """Every file of a published session folder, relative to it, in a stable order
    (hidden files, such as a half-written temporary, are left out)."""
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        found.append(rel)
    return found


def manifest_xml(identifier: str, title: str, files: list[str]) -> bytes:
    """imsmanifest.xml for one shareable content object launched at LAUNCH_PAGE."""
    ET.register_namespace("", _IMSCP)
    ET.register_namespace("adlcp", _ADLCP)
    ET.register_namespace("xsi", _XSI)
    root = ET.Element(f"{{{_IMSCP}}}manifest", {"identifier": identifier, "version": "1.0",
                                                f"{{{_XSI}}}schemaLocation": _SCHEMA_LOCATION})
    meta = ET.SubElement(root, f"{{{_IMSCP}}}metadata")
    ET.SubElement(meta, f"{{{_IMSCP}}}schema").text = "ADL SCORM"
    ET.SubElement(meta, f"{{{_IMSCP}}}schemaversion").text = "1.2"
    orgs = ET.SubElement(root, f"{{{_IMSCP}}}organizations", {"default": "org_1"})
    org = ET.SubElement(orgs, f"{{{_IMSCP}}}organization", {"identifier": "org_1"})
    ET.SubElement(org, f"{{{_IMSCP}}}title").text = title
    item = ET.SubElement(org, f"{{{_IMSCP}}}item", {"identifier": "item_1", "identifierref": "resource_1",
                                                    "isvisible": "true"})
    ET.SubElement(item, f"{{{_IMSCP}}}title").text = title
    resources = ET.SubElement(root, f"{{{_IMSCP}}}resources")
    resource = ET.SubElement(resources, f"{{{_IMSCP}}}resource", {
        "identifier": "resource_1", "type": "webcontent", f"{{{_ADLCP}}}scormtype": "sco", "href": LAUNCH_PAGE})
    for name in files:
        ET.SubElement(resource, f"{{{_IMSCP}}}file", {"href": quote(name)})
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _session_folder(folder: Path) -> tuple[Path, dict]:
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError("no such session folder", folder)
    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        inside = sorted(p.parent.name for p in folder.glob(f"*/{MANIFEST_NAME}"))
        if inside:
            raise ConfigError(f"is a site folder of {len(inside)} session(s); package one of them: "
                              + ", ".join(str(folder / name) for name in inside[:5]), folder)
        raise ConfigError(f"not a recast session folder (no {MANIFEST_NAME})", folder)
    return folder, load_manifest(manifest)


def package_session(folder: Path, dest: Path) -> Package:
    """Write the session in `folder` (OUTDIR/<slug>) as a SCORM 1.2 zip at `dest`.

    The zip is written beside `dest` under a hidden name and renamed into place:
    a failed or interrupted run leaves any earlier package as it was."""
    folder, data = _session_folder(folder)
    dest = Path(dest)
    if dest.is_dir():
        raise ConfigError("is a folder; give the name of the .zip to write", dest)
    if not dest.parent.is_dir():
        raise ConfigError("the folder to write the package in does not exist", dest.parent)
    if dest.resolve().is_relative_to(folder.resolve()):
        raise ConfigError("the package cannot be written inside the session it packages", dest)
    slug = folder.name
    title = str(data.get("title") or slug)
    # One card: the pages' "Session library" link then lands on this session.
    library = library_html([library_card(folder, data)])
    launch = render("scorm.html", title=title, session=quote(slug) + "/index.html", static=STATIC_DIR_NAME + "/")
    entries: list[tuple[str, Path | bytes]] = [("index.html", library.encode("utf-8")), (LAUNCH_PAGE, launch.encode("utf-8"))]
    entries += [(f"{STATIC_DIR_NAME}/{p.name}", p) for p in static_files()]
    entries += [(f"{slug}/{rel.as_posix()}", folder / rel) for rel in session_files(folder)]
    names = [name for name, _ in entries]
    # An xs:ID: letters, digits, "_", "-", "." (a renamed folder may hold anything else)
    identifier = "recast_" + re.sub(r"[^A-Za-z0-9_.-]", "_", str((data.get("source") or {}).get("sha256") or "")[:16] or slug)
    entries.insert(0, (PACKAGE_MANIFEST, manifest_xml(identifier, title[:MAX_TITLE], names)))

    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for name, content in entries:
                if isinstance(content, bytes):
                    zf.writestr(name, content)
                else:
                    method = zipfile.ZIP_STORED if content.suffix.lower() in _STORED else zipfile.ZIP_DEFLATED
                    zf.write(content, name, compress_type=method)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except OSError as e:
        raise OutputError(f"cannot write the package: {e.strerror or e}", getattr(e, "filename", None) or dest) from e
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return Package(path=dest, title=title, files=len(entries), size=dest.stat().st_size)
