"""Loading the demo city into the database, and the demo staff accounts.

`load_demo` is the one write path for demo data: the management commands `demo` and `setup` are
thin callers. It generates the city with `pubcredit.demo.generate` chunk by chunk and writes each
chunk through `pubcredit.core.bulkload` (PostgreSQL COPY, batched INSERTs on SQLite), so memory stays
bounded by the chunk size whatever the number of subjects.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import polars as pl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.models import Role, User
from pubcredit.accounts.permissions import Principal
from pubcredit.accounts.services import create_user
from pubcredit.bulletins.metrics import rebuild_metrics
from pubcredit.bulletins.tallies import rebuild_tallies
from pubcredit.catalog.models import Department, Region
from pubcredit.catalog.services import catalogue_loaded, import_catalogue
from pubcredit.commitments.demo import remove_demo_commitments
from pubcredit.core.bulkload import (
    bulk_copy,
    deferred_indexes,
    estimated_rows,
    prepare_rows,
    reserve_ids,
)
from pubcredit.demo.generate import (
    CHUNK_SIZE,
    DEFAULT_SEED,
    DISTRICTS,
    GENERATOR_VERSION,
    generate_subjects,
)
from pubcredit.demo.models import DemoLoad
from pubcredit.demo.record_loading import (
    load_demo_records,
    rebuild_demo_search_index,
    remove_demo_records,
)
from pubcredit.financing import services as financing
from pubcredit.financing.models import EnterpriseBinding, FinancialInstitution
from pubcredit.publicity.tally import rebuild_publicity_tally
from pubcredit.subjects import crypto, names
from pubcredit.subjects import keys as subject_keys
from pubcredit.subjects import tally as subject_tally
from pubcredit.subjects.models import FormerName, Subject, SubjectKey

MAX_SUBJECTS = 5_000_000
# From this many subjects, into a table holding fewer rows than that, PostgreSQL secondary
# indexes are rebuilt after the load instead of being maintained row by row.
DEFER_INDEXES_FROM = 50_000

# The password of every demo staff account. Demo data only: `setup` prints it, docs name it;
# which is why the accounts are created only with DEBUG on (a developer's laptop).
DEMO_PASSWORD = "zibo-demo-2026"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    label: str
    department_code: str | None = None
    district_code: str | None = None
    organisation: str = ""


# One account per staff role (平台管理员 is the `admin` account that `setup` creates; 社会公众 are
# anonymous visitors, so they have no account). Two clerks and two district admins show that a
# scope really narrows what one sees.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "demo_centre", Role.CENTRE_STAFF, "信用中心工作人员", organisation="淄博市社会信用中心"
    ),
    DemoAccount(
        "demo_clerk",
        Role.DEPARTMENT_CLERK,
        "部门报送员(市市场监督管理局)",
        department_code="ZB-SCJG",
    ),
    DemoAccount(
        "demo_clerk2", Role.DEPARTMENT_CLERK, "部门报送员(市生态环境局)", department_code="ZB-STHJ"
    ),
    DemoAccount("demo_district", Role.DISTRICT_ADMIN, "区县管理员(张店区)", district_code="370303"),
    DemoAccount(
        "demo_district2", Role.DISTRICT_ADMIN, "区县管理员(沂源县)", district_code="370323"
    ),
    DemoAccount("demo_window", Role.WINDOW_CLERK, "窗口核查员", organisation="张店区政务服务中心"),
    DemoAccount("demo_bank", Role.BANK_USER, "金融机构用户", organisation="演示商业银行淄博分行"),
    DemoAccount("demo_enterprise", Role.ENTERPRISE, "企业用户(信易贷)"),
)
# 信易贷 in the demo: demo_bank works for this institution, which lists one product;
# demo_enterprise stands for the demo city's first organisation, approved.
DEMO_BANK = ("演示商业银行淄博分行", "91370300MA3D7M8B02")

SUBJECT_COLUMNS = [
    "id",
    "kind",
    "org_category",
    "name",
    "name_norm",
    "uscc",
    "id_cipher",
    "id_index",
    "id_masked",
    "id_type",
    "region",
    "legal_representative",
    "established_on",
]
FORMER_NAME_COLUMNS = ["subject_id", "name", "name_norm", "used_until"]


def _has_field(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.concrete_fields)


# --------------------------------------------------------------------------- preparing a chunk


def _person_columns(id_numbers: pl.Series) -> pl.DataFrame:
    """id_cipher / id_index / id_masked for a column holding clear 身份证号 for persons and null
    for everyone else. The generated numbers are already normalised (digits and X)."""
    n = len(id_numbers)
    rows = np.flatnonzero(id_numbers.is_not_null().to_numpy())
    clear = id_numbers.gather(rows).to_list()
    encrypt, mask = crypto.encrypt_id, crypto.mask_id
    cipher = pl.Series([None] * n, dtype=pl.Binary)
    index = pl.Series([None] * n, dtype=pl.String)
    masked = pl.Series([""] * n, dtype=pl.String)
    if len(rows):
        cipher = cipher.scatter(rows, pl.Series([encrypt(c) for c in clear], dtype=pl.Binary))
        index = index.scatter(rows, pl.Series(crypto.blind_indexes(clear), dtype=pl.String))
        masked = masked.scatter(rows, pl.Series([mask(c) for c in clear], dtype=pl.String))
    return pl.DataFrame({"id_cipher": cipher, "id_index": index, "id_masked": masked})


def _name_columns(frame: pl.DataFrame, model) -> tuple[pl.DataFrame, list[str]]:
    norms = names.normalize_names(frame["name"].to_list())
    extra = {"name_norm": pl.Series(norms, dtype=pl.String).str.slice(0, 200)}
    columns = ["name_norm"]
    if _has_field(model, "name_key") and hasattr(names, "name_keys"):
        extra["name_key"] = pl.Series(names.name_keys(norms), dtype=pl.String).str.slice(0, 200)
        columns.append("name_key")
    return frame.with_columns(**extra), columns


@dataclass
class _Timer:
    phases: dict[str, float] = field(default_factory=dict)

    def add(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - since
        return now


# --------------------------------------------------------------------------- accounts


def ensure_demo_accounts(principal: Principal) -> list[dict]:
    """Create the demo staff accounts that do not exist yet (password DEMO_PASSWORD); existing
    accounts are left exactly as they are. Needs the catalogue (departments, regions) and
    settings.DEBUG: accounts with a published password never reach a production site. Returns
    one dict per demo account: username, role label, created (bool)."""

    principal.require("accounts.manage")
    if not settings.DEBUG:
        raise ValidationError(_("演示账号的密码是公开的,只在调试模式(PUBCREDIT_DEBUG=1)下创建。"))
    existing = set(
        User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS]).values_list(
            "username", flat=True
        )
    )
    out = []
    for account in DEMO_ACCOUNTS:
        created = False
        if account.username not in existing:
            department = district = None
            if account.department_code:
                department = Department.objects.filter(code=account.department_code).first()
                if department is None:
                    raise ValidationError(
                        _("信息目录中没有部门 %(code)s,无法创建演示账号 %(user)s。")
                        % {"code": account.department_code, "user": account.username}
                    )
            if account.district_code:
                district = Region.objects.filter(code=account.district_code).first()
                if district is None:
                    raise ValidationError(
                        _("信息目录中没有区划 %(code)s,无法创建演示账号 %(user)s。")
                        % {"code": account.district_code, "user": account.username}
                    )
            create_user(
                principal,
                username=account.username,
                role=account.role,
                department=department,
                district=district,
                password=DEMO_PASSWORD,
                first_name=account.label,
                organisation=account.organisation
                or (department.name if department else "")
                or (district.name if district else ""),
            )
            created = True
        out.append({"username": account.username, "role": account.label, "created": created})
    return out


def ensure_demo_financing(principal: Principal) -> None:
    """信易贷 for the demo accounts, once: demo_bank's institution with one product, and
    demo_enterprise bound (approved) to the first organisation. Leaves what exists alone."""
    bank = User.objects.filter(username="demo_bank").first()
    firm = User.objects.filter(username="demo_enterprise").first()
    if bank is not None and not FinancialInstitution.objects.filter(uscc=DEMO_BANK[1]).exists():
        inst = financing.register_institution(principal, name=DEMO_BANK[0], uscc=DEMO_BANK[1])
        financing.add_member(principal, inst, user=bank)
        financing.publish_product(
            principal,
            inst,
            name="信易贷·普惠快贷",
            amount_min=Decimal("10"),
            amount_max=Decimal("300"),
            rate_min=Decimal("3.45"),
            rate_max=Decimal("4.95"),
            term_months=36,
        )
    org = Subject.objects.filter(kind="org").exclude(uscc="").order_by("pk").first()
    if (
        firm is not None
        and org is not None
        and not EnterpriseBinding.objects.filter(user=firm).exists()
    ):
        binding = financing.request_binding(Principal.of(firm), org.uscc)
        financing.decide_binding(principal, binding.pk, approve=True, note=_("演示数据"))


def demo_accounts_present() -> list[str]:
    """Usernames of the demo accounts that exist."""
    return sorted(
        User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS]).values_list(
            "username", flat=True
        )
    )


# --------------------------------------------------------------------------- removal


def _references_outside_demo(first_id: int, last_id: int) -> list[str]:
    """Labels of tables (other than the subjects' own former names) that refer to subjects in
    [first_id, last_id]: such subjects cannot be removed without losing those facts."""
    found = []
    for rel in Subject._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        model = rel.related_model
        if model is FormerName or model is Subject or model is SubjectKey:
            continue  # their own rows: removed with them
        name = rel.field.attname
        span = {f"{name}__gte": first_id, f"{name}__lte": last_id}
        if model._base_manager.filter(**span).exists():
            found.append(str(model._meta.verbose_name))
    return found


def _remove_load(principal: Principal, load: DemoLoad) -> int:

    # The demo's own commitments (and their watch-list entries) go with the demo subjects;
    # anything else referring to them still blocks the removal below.
    remove_demo_commitments(load.first_id, load.last_id)
    # Likewise the demo's records, list entries and their read models (pubcredit.demo.records).
    remove_demo_records(load.first_id, load.last_id)
    refs = _references_outside_demo(load.first_id, load.last_id)
    if refs:
        raise ValidationError(
            _(
                "演示主体已被其他数据引用(%(tables)s),不能替换;"
                "如需重新生成演示数据,请使用一个新的数据库。"
            )
            % {"tables": "、".join(sorted(set(refs)))}
        )
    before = snapshot(load)
    qn = connection.ops.quote_name
    span = [load.first_id, load.last_id]
    subject_tally.add_range(load.first_id, load.last_id, -1)  # the kept counts, before they go
    # Plain DELETEs: the ORM's collector would load a million objects into memory first.
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {qn(FormerName._meta.db_table)} WHERE subject_id BETWEEN %s AND %s",
            span,
        )
        subject_keys.drop_for_subjects(cursor, *span)  # Citus: their key rows (subjects.keys)
        cursor.execute(f"DELETE FROM {qn(Subject._meta.db_table)} WHERE id BETWEEN %s AND %s", span)
        removed = cursor.rowcount
    record_event(principal, "demo.remove", load, before=before)
    load.delete()
    return removed


# --------------------------------------------------------------------------- loading


def _prepared_chunks(
    subjects: int, seed: int, chunk_size: int, first_id: int, timer: _Timer, using: str
):
    """Generated chunks turned into database-ready frames: ids from `first_id` on, normalised
    names, person identifiers encrypted and indexed, the clear number dropped. Touches no
    database, so it can run in a background thread while the previous chunk is written."""
    offset = 0
    t = time.perf_counter()
    for chunk in generate_subjects(subjects, seed, chunk_size=chunk_size):
        t = timer.add("generate", t)
        frame = chunk.subjects
        first = first_id + offset
        frame = frame.with_columns(pl.Series("id", np.arange(first, first + frame.height)))
        frame, name_cols = _name_columns(frame, Subject)
        frame = pl.concat([frame, _person_columns(frame["id_number"])], how="horizontal")
        frame = frame.drop("id_number")  # the clear number goes no further
        former = chunk.former_names.with_columns(subject_id=pl.col("row") + first)
        former, former_name_cols = _name_columns(former, FormerName)
        subject_columns = SUBJECT_COLUMNS + [c for c in name_cols if c != "name_norm"]
        former_columns = FORMER_NAME_COLUMNS + [c for c in former_name_cols if c != "name_norm"]
        offset += frame.height
        counts = (
            dict(frame.group_by("kind").len().iter_rows()),
            dict(frame.group_by("region").len().iter_rows()),
        )
        # Serialised here, in the worker, so the writer only streams bytes to the database.
        rows = prepare_rows(Subject, subject_columns, frame, using=using)
        former_rows = prepare_rows(FormerName, former_columns, former, using=using)
        t = timer.add("prepare", t)
        yield rows, former_rows, counts
        t = time.perf_counter()


class _Background:
    """Iterate `items` in a worker thread, up to `depth` items ahead of the consumer, from the
    moment it is created: the demo city is generated and serialised (numpy, polars, and the
    hashing and AES calls that release the GIL) while the consumer imports the catalogue,
    hashes account passwords or copies the previous chunk into the database. An exception in
    the worker re-raises in the consumer; `close()` (or leaving the `with`) stops the worker."""

    def __init__(self, items, depth: int = 2) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._items = items
        self._worker = threading.Thread(target=self._work, name="demo-generator", daemon=True)
        self._worker.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _work(self) -> None:
        try:
            for item in self._items:
                if not self._put(("item", item)):
                    return
            self._put(("end", None))
        except BaseException as exc:  # handed to the consumer
            self._put(("error", exc))

    def __iter__(self):
        while True:
            kind, value = self._queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value

    def close(self) -> None:
        self._stop.set()
        self._worker.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _lock_demo() -> None:
    """Serialise demo loads: PostgreSQL advisory lock for this transaction; on SQLite the
    IMMEDIATE write transaction already excludes other writers."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('pubcredit.demo'))")


@transaction.atomic
def load_demo(
    principal: Principal,
    *,
    subjects: int,
    seed: int = DEFAULT_SEED,
    replace: bool = False,
    chunk_size: int = CHUNK_SIZE,
    progress=None,
    records: bool = True,
    as_of: dt.date | None = None,
) -> dict:
    """Load the demo city: `subjects` generated subjects (see pubcredit.demo.generate) with their
    former names, plus the demo staff accounts when settings.DEBUG is on (never on a
    production site: their password is published).

    Guarantees:
    - refuses (ValidationError, Chinese) when demo subjects are already loaded, unless `replace`,
      which first removes the earlier demo subjects — and refuses that too when other data
      (records, access logs…) refers to them;
    - imports the shipped catalogue first when none is loaded;
    - all or nothing: one transaction; the subjects get one contiguous block of ids;
    - natural persons' 身份证号 are stored only encrypted, as blind index and masked;
    - one "demo.load" audit event (and "demo.remove" for a replaced load; account creation
      writes its own events);
    - memory bounded by `chunk_size` rows of generated data, not by `subjects`;
    - credit commitments for every 8th demo subject, a few breached with their watch-list
      entries (pubcredit.commitments.demo; the list types are imported when none are).
    - with `records`: licences, penalties and red/black list entries of the demo subjects,
      their publicity and the check read model, judged on `as_of` (default today), and the
      name-search index rebuilt (pubcredit.demo.records; the publicity rules and list types are
      imported when none are).

    Returns a summary: counts by kind and district, former names, accounts, timings (seconds).
    `progress`, if given, is called with (rows written, total) after each chunk.
    """

    principal.require("subjects.change")
    principal.require("accounts.manage")
    if not isinstance(subjects, int) or subjects < 1 or subjects > MAX_SUBJECTS:
        raise ValidationError(
            _("演示主体数应为 1 到 %(max)s 之间的整数。") % {"max": f"{MAX_SUBJECTS:,}"}
        )
    started = time.perf_counter()
    timer = _Timer()
    t = started
    _lock_demo()
    existing = list(DemoLoad.objects.order_by("id"))
    removed = 0
    if existing and not replace:
        load = existing[-1]
        raise ValidationError(
            _(
                "演示数据已经加载(%(n)s 个主体,随机种子 %(seed)s,%(at)s)。"
                "如需重新生成,请加 --replace 参数。"
            )
            % {
                "n": f"{sum(x.subjects for x in existing):,}",
                "seed": load.seed,
                "at": timezone.localtime(load.loaded_at).strftime("%Y-%m-%d %H:%M"),
            }
        )
    # Ids first (the block lies above every existing row, old demo rows included), so that the
    # worker can generate and serialise chunks while this thread does the rest of the set-up.
    ids = reserve_ids(Subject, subjects)
    by_kind: dict[str, int] = {}
    by_district: dict[str, int] = {}
    former_total = 0
    written = 0
    chunks = _prepared_chunks(subjects, seed, chunk_size, ids.start, timer, connection.alias)
    with _Background(chunks) as produced:
        if not catalogue_loaded():
            import_catalogue(principal)
            t = timer.add("catalogue", t)
        for load in existing:
            removed += _remove_load(principal, load)
        if existing:
            t = timer.add("remove", t)
        accounts = []
        if settings.DEBUG:
            accounts = ensure_demo_accounts(principal)
            t = timer.add("accounts", t)

        defer = subjects >= DEFER_INDEXES_FROM and estimated_rows(Subject) < subjects
        with deferred_indexes(Subject) if defer else nullcontext([]) as dropped:
            for rows, former_rows, (kinds, regions) in produced:
                t = time.perf_counter()
                bulk_copy(Subject, [], rows)
                former_total += bulk_copy(FormerName, [], former_rows)
                t = timer.add("write", t)
                for key, n in kinds.items():
                    by_kind[key] = by_kind.get(key, 0) + n
                for key, n in regions.items():
                    by_district[key] = by_district.get(key, 0) + n
                written += rows.count
                if progress is not None:
                    progress(written, subjects)
            t = time.perf_counter()
        if dropped:
            t = timer.add("indexes", t)
    subject_tally.add_range(ids.start, ids.stop - 1)  # the register's kept counts
    if subject_keys.maintained():  # Citus: the key rows of the block, set-based (subjects.keys)
        with connection.cursor() as cursor:
            subject_keys.fill_from_register(
                cursor, "id BETWEEN %s AND %s", [ids.start, ids.stop - 1]
            )

    # Credit commitments of some demo subjects, a few of them breached (pubcredit.commitments).
    from pubcredit.commitments.demo import load_demo_commitments

    commitments = load_demo_commitments(
        principal,
        first_id=ids.start,
        last_id=ids.stop - 1,
        seed=seed,
        as_of=as_of or timezone.localdate(),
    )
    t = timer.add("commitments", t)

    # Licences, penalties, list entries and their read models (pubcredit.demo.records).
    demo_records = None
    if records:
        demo_records = load_demo_records(
            principal,
            first_id=ids.start,
            last_id=ids.stop - 1,
            seed=seed,
            as_of=as_of,
            timer=timer,
        )
    search_index = rebuild_demo_search_index(timer)
    # The bulletins' kept statistics over every month the demo's records were received in (the
    # records flow counted them as they were written; a rebuild also drops a replaced load's).
    t = time.perf_counter()
    rebuild_metrics()
    if existing:
        # The dashboards' counts of records in force and shown: the flow kept them for the new
        # load, the replaced load's records were deleted around it.
        rebuild_tallies()
        rebuild_publicity_tally()
    timer.add("metrics", t)
    if settings.DEBUG:
        ensure_demo_financing(principal)

    seconds = round(time.perf_counter() - started, 3)
    load = DemoLoad.objects.create(
        seed=seed,
        subjects=subjects,
        first_id=ids.start,
        last_id=ids.stop - 1,
        former_names=former_total,
        generator_version=GENERATOR_VERSION,
        loaded_by=principal.label[:150],
        seconds=seconds,
    )
    district_names = {d.code: d.name for d in DISTRICTS}
    summary = {
        "subjects": written,
        "seed": seed,
        "first_id": ids.start,
        "last_id": ids.stop - 1,
        "replaced_subjects": removed,
        "by_kind": dict(sorted(by_kind.items())),
        "by_district": {
            f"{code} {district_names.get(code, '')}".strip(): n
            for code, n in sorted(by_district.items())
        },
        "former_names": former_total,
        "commitments": commitments,
        "records": demo_records,
        "search_index": search_index,
        "accounts": accounts,
        "database": connection.vendor,
        "seconds": {k: round(v, 3) for k, v in timer.phases.items()} | {"total": seconds},
    }
    record_event(
        principal,
        "demo.load",
        load,
        after={k: v for k, v in summary.items() if k not in ("accounts", "seconds")},
    )
    return summary
