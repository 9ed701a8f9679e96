"""A watched drop folder (issue 19, 下发): lists and records handed down by the provincial or
national platform (e.g. 失信被执行人) arrive as files in a folder and go through the ordinary
intake path, marked with their source.

`scan_folder` submits each new file of the folder once, by content (sha256 under the same
department and category: a file already received and not failed is skipped), then moves it into
DIR/done (processed, with its error report beside it when rows were rejected) or DIR/failed
(with a .txt giving the reason). Hidden files and files still being written (*.part, *.tmp)
are left where they are. `pubcredit intake watch DIR …` runs it once or in a loop; the
scheduled job `scan_configured_folders` runs it for the folders in settings
PUBCREDIT_INTAKE_WATCH_FOLDERS ([{"path", "department", "category", "source"}, …]).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Category, Department
from pubcredit.intake import services
from pubcredit.intake.engine import write_error_report_xlsx
from pubcredit.intake.models import Submission

DONE_DIR = "done"
FAILED_DIR = "failed"
_PARTIAL_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload")


@dataclass
class FolderResult:
    file: str
    outcome: str  # "submitted", "failed" or "skipped"
    submission: int | None = None
    message: str = ""


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return services.sha256_and_size(fh)[0]


def _free_target(folder: Path, name: str) -> Path:
    """folder/name, or folder/name-1, -2 … when a file of that name is already there."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while target.exists():
        target = folder / f"{stem}-{n}{suffix}"
        n += 1
    return target


def _candidates(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith(".")
        and not p.name.lower().endswith(_PARTIAL_SUFFIXES)
    )


def scan_folder(
    folder: Path | str,
    *,
    department: Department,
    category: Category,
    data_source: str = Submission.Source.NATIONAL,
    principal: Principal | None = None,
) -> list[FolderResult]:
    """Submit the folder's new files (see the module's docstring); one result per file seen."""
    folder = Path(folder)
    principal = principal or Principal.system("intake-watch")
    results: list[FolderResult] = []
    for path in _candidates(folder):
        sha = _sha256(path)
        seen = (
            Submission.objects.filter(sha256=sha, department=department, category=category)
            .exclude(status=Submission.Status.FAILED)
            .order_by("pk")
            .first()
        )
        if seen is not None:
            target = _free_target(folder / DONE_DIR, path.name)
            shutil.move(str(path), target)
            results.append(
                FolderResult(
                    path.name,
                    "skipped",
                    seen.pk,
                    _("该文件已于报送批次 %(n)s 接收,未重复报送。") % {"n": seen.pk},
                )
            )
            continue
        try:
            submission = services.submit_file(
                principal,
                department=department,
                category=category,
                source=path,
                filename=path.name,
                channel=Submission.Channel.FOLDER,
                background=False,
                data_source=data_source,
            )
        except (ValidationError, PermissionDenied) as exc:
            messages = getattr(exc, "messages", None) or [str(exc)]
            results.append(_move_failed(folder, path, None, messages[0]))
            continue
        if submission.status != Submission.Status.DONE:
            results.append(
                _move_failed(folder, path, submission.pk, submission.error_message or _("处理失败"))
            )
            continue
        target = _free_target(folder / DONE_DIR, path.name)
        shutil.move(str(path), target)
        if submission.rejected or submission.error_count:
            write_error_report_xlsx(
                services.submission_errors(submission),
                target.with_name(target.name + ".errors.xlsx"),
                totals=submission.error_totals or [],
                note=submission.errors_note,
            )
        results.append(FolderResult(path.name, "submitted", submission.pk))
    return results


def _move_failed(folder: Path, path: Path, submission: int | None, message: str) -> FolderResult:
    target = _free_target(folder / FAILED_DIR, path.name)
    shutil.move(str(path), target)
    target.with_name(target.name + ".error.txt").write_text(message + "\n", encoding="utf-8")
    return FolderResult(path.name, "failed", submission, message)


def configured_folders() -> list[dict]:
    return list(getattr(settings, "PUBCREDIT_INTAKE_WATCH_FOLDERS", None) or [])


def scan_configured_folders() -> list[dict]:
    """The scheduled scan: every folder of PUBCREDIT_INTAKE_WATCH_FOLDERS once. A folder whose
    department or category is unknown, or which does not exist, is logged and skipped."""
    log = logging.getLogger(__name__)
    out = []
    for conf in configured_folders():
        department = Department.objects.filter(code=conf.get("department")).first()
        category = Category.objects.filter(code=conf.get("category")).first()
        folder = Path(str(conf.get("path") or ""))
        if department is None or category is None or not folder.is_dir():
            log.warning("intake watch folder skipped (misconfigured): %s", conf)
            continue
        results = scan_folder(
            folder,
            department=department,
            category=category,
            data_source=conf.get("source") or Submission.Source.NATIONAL,
        )
        out.extend({"folder": str(folder), **asdict(r)} for r in results)
    return out
