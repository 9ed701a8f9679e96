"""The subject register (主体库): organisations, 个体工商户 and natural persons.

A natural person's 身份证号 is never stored in clear: `id_cipher` holds it encrypted (AES-GCM),
`id_index` a keyed hash (HMAC-SHA256 blind index) to find it, `id_masked` the public rendering.
Every large table that refers to a subject carries `subject_id` (see architecture.md, scale path).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from pubcredit.catalog.models import SubjectKind
from pubcredit.core.citus import ShardedBySubject


class Subject(models.Model):
    # The register is shared: a department clerk or district admin sees every subject
    # (their scope narrows the records, not the register). See accounts.permissions.restrict.
    scope_lookups = {"department": "*", "district": "region"}

    kind = models.CharField(_("主体类别"), max_length=8, choices=SubjectKind.choices)
    org_category = models.CharField(
        _("机构类别代码"),
        max_length=2,
        blank=True,
        help_text=_("统一社会信用代码第 1–2 位,例如 91 企业、92 个体工商户、N2 村级集体经济组织。"),
    )
    name = models.CharField(_("名称"), max_length=200)
    name_norm = models.CharField(_("规范化名称"), max_length=200, db_index=True)
    # The distinctive part of the name (names.name_key): what fuzzy search probes by prefix.
    # db_default so that bulk loaders that do not know the column still insert rows.
    name_key = models.CharField(
        _("名称检索键"), max_length=200, blank=True, default="", db_default="", db_index=True
    )
    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, null=True, blank=True, unique=True
    )
    id_cipher = models.BinaryField(_("证件号码密文"), null=True, blank=True, editable=False)
    id_index = models.CharField(
        _("证件号码索引"), max_length=64, null=True, blank=True, unique=True, editable=False
    )
    id_masked = models.CharField(_("证件号码(脱敏)"), max_length=32, blank=True, editable=False)
    id_type = models.CharField(_("证件类型"), max_length=32, blank=True)
    region = models.CharField(_("行政区划代码"), max_length=6, blank=True, db_index=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=100, blank=True)
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("主体")
        verbose_name_plural = _("主体")
        indexes = [models.Index(fields=["kind", "region"], name="subject_kind_region")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="person") | models.Q(uscc__isnull=True),
                name="subject_person_has_no_uscc",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_person(self) -> bool:
        return self.kind == SubjectKind.PERSON


class SubjectTally(models.Model):
    """Subjects registered per kind × district (`region` as the register holds it, empty when
    unknown): what the big screen shows, kept by the register's writers (`tally`: registration,
    intake's bulk registration, a district corrected in the admin, the demo city) and rebuilt
    from the register by `tally.rebuild_subject_tally`."""

    kind = models.CharField(_("主体类别"), max_length=8, choices=SubjectKind.choices)
    region = models.CharField(_("行政区划代码"), max_length=6, blank=True)
    n = models.IntegerField(_("主体数"), default=0)

    class Meta:
        verbose_name = _("主体计数")
        verbose_name_plural = _("主体计数")
        constraints = [
            models.UniqueConstraint(fields=["kind", "region"], name="subjecttally_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.region or '-'}: {self.n}"


class FormerName(ShardedBySubject):
    """A name the subject used before (曾用名); matching by name also looks here."""

    subject = models.ForeignKey(
        Subject, verbose_name=_("主体"), on_delete=models.CASCADE, related_name="former_names"
    )
    name = models.CharField(_("曾用名"), max_length=200)
    name_norm = models.CharField(_("规范化名称"), max_length=200, db_index=True)
    used_until = models.DateField(_("使用至"), null=True, blank=True)

    class Meta:
        verbose_name = _("曾用名")
        verbose_name_plural = _("曾用名")
        constraints = [
            models.UniqueConstraint(fields=["subject", "name"], name="formername_unique")
        ]

    def __str__(self) -> str:
        return self.name


class SubjectKey(models.Model):
    """The key table: a subject's identifier → its id, kept ONLY on Citus (docs/scale.md, "The
    key table").

    On Citus the register is distributed by id, so a look-up by 统一社会信用代码 or by a person's
    blind index would probe every shard, and the register's unique constraints (rebuilt with the
    id appended) no longer decide that an identifier names one subject. This table is
    distributed by `key` (`ops.scaleout.DISTRIBUTED`, a co-location group of its own): the
    check's look-up `SELECT subject_id … WHERE key = %s` is a router query to one shard, and its
    primary key, which is the distribution column, makes the database itself hold one subject per
    identifier across shards (a writer inserts with ON CONFLICT (key) DO NOTHING; the loser of a
    race uses the winner's subject).

    `key` is `subjects.keys.subject_key(field, value)`, the one encoding every writer and reader
    uses: "U:" + the USCC as the register holds it, "I:" + the person's blind index (`id_index`).

    Maintained only when `core.citus.is_citus()`: by `subjects.services.register_subject`,
    intake's bulk registration (`intake.linking`), the demo city, and backfilled from the
    register by `pubcredit scaleout distribute`. On SQLite and a single PostgreSQL the table
    exists and stays EMPTY: the register's own unique indexes on `uscc` and `id_index` serve the
    look-up and decide conflicts, and intake pays nothing for it."""

    key = models.TextField(_("标识键"), primary_key=True)
    # A foreign key for the ORM (a subject's deletion removes its keys), without a database
    # constraint: on Citus the key table and the register are distributed by different columns
    # in different co-location groups, where Citus cannot enforce a foreign key (distribute drops
    # every key not between local tables anyway); elsewhere the table is empty.
    subject = models.ForeignKey(
        Subject,
        verbose_name=_("主体"),
        on_delete=models.CASCADE,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("主体标识键")
        verbose_name_plural = _("主体标识键")

    def __str__(self) -> str:
        return self.key
