"""People, system keys, and the two trails: audit events (every write) and access logs (every
staff look at a natural person's data)."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pubcredit.core.citus import ShardedBySubject


class Role(models.TextChoices):
    PLATFORM_ADMIN = "platform_admin", _("平台管理员")
    CENTRE_STAFF = "centre_staff", _("信用中心工作人员")
    DEPARTMENT_CLERK = "department_clerk", _("部门报送员")
    DISTRICT_ADMIN = "district_admin", _("区县管理员")
    WINDOW_CLERK = "window_clerk", _("窗口核查员")
    BANK_USER = "bank_user", _("金融机构用户")
    ENTERPRISE = "enterprise", _("企业用户")  # 信易贷 (issue 19): bound to its subject by USCC
    PUBLIC = "public", _("社会公众")


class ScopedPrincipalMixin(models.Model):
    """Role and scope shared by people and system keys: a 部门报送员 belongs to one department,
    a 区县管理员 to one district."""

    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, default=Role.PUBLIC)
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("所属部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    district = models.ForeignKey(
        "catalog.Region",
        verbose_name=_("所属区县"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        abstract = True


class User(ScopedPrincipalMixin, AbstractUser):
    organisation = models.CharField(_("所在单位"), max_length=128, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="department_clerk") | models.Q(department__isnull=False),
                name="user_clerk_has_department",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="district_admin") | models.Q(district__isnull=False),
                name="user_district_admin_has_district",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.get_username()

    def save(self, *args, **kwargs):
        # Admin entry follows the role (ROLE_ACTIONS is the single source of truth), so is_staff
        # is derived here rather than ticked by hand.
        from pubcredit.accounts.permissions import role_has_admin_access

        self.is_staff = self.is_superuser or role_has_admin_access(self.role)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"role", "is_superuser"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "is_staff"}
        super().save(*args, **kwargs)

    # Django's model permissions (used by the admin) come from the role, not from groups or
    # per-user grants: one place says who may do what.
    def has_perm(self, perm, obj=None) -> bool:
        # Imported here: permissions imports these models: a cycle inside the app.
        from pubcredit.accounts.permissions import role_has_django_perm

        if not self.is_active:
            return False
        return self.is_superuser or role_has_django_perm(self.role, perm)

    def has_module_perms(self, app_label) -> bool:
        # Imported here: permissions imports these models: a cycle inside the app.
        from pubcredit.accounts.permissions import role_has_module_perms

        if not self.is_active:
            return False
        return self.is_superuser or role_has_module_perms(self.role, app_label)


class ApiKey(ScopedPrincipalMixin):
    """A key for a department system or a bank. Only the SHA-256 of the secret is stored; the
    clear key is shown once when it is issued."""

    name = models.CharField(_("系统名称"), max_length=128)
    prefix = models.CharField(_("密钥前缀"), max_length=12, unique=True, editable=False)
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("有效"), default=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签发人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口密钥")
        verbose_name_plural = _("接口密钥")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="department_clerk") | models.Q(department__isnull=False),
                name="apikey_clerk_has_department",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="district_admin") | models.Q(district__isnull=False),
                name="apikey_district_admin_has_district",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:

        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.active and not self.is_expired


class AuditEvent(models.Model):
    """One write, by whom, with the object's state before and after. Written in the same
    transaction as the change it describes; never updated or deleted."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    api_key = models.ForeignKey(
        ApiKey,
        verbose_name=_("接口密钥"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("操作者"), max_length=150)
    action = models.CharField(_("动作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象标识"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=255, blank=True)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=512, blank=True)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"


class AccessLog(ShardedBySubject):
    """A staff look at a natural person's data, with the purpose given (查询事由)."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("查看人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    api_key = models.ForeignKey(
        ApiKey,
        verbose_name=_("接口密钥"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("查看者"), max_length=150)
    subject = models.ForeignKey(
        "subjects.Subject", verbose_name=_("自然人"), on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(_("查询事由"), max_length=255)
    what = models.CharField(_("查看内容"), max_length=255, blank=True)
    client_address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)

    class Meta:
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = _("个人信息查看记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} → {self.subject_id}"
