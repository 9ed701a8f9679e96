"""Admin for accounts: users and API keys (平台管理员 only, through the services so every change is
audited), and the two trails, read-only for everybody.

Who may open which page comes from the role (User.has_perm → permissions.ADMIN_PERMISSIONS), so
nothing here tests role names.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pubcredit.accounts import services
from pubcredit.accounts.models import ApiKey, AuditEvent, User
from pubcredit.accounts.permissions import API_KEY_ROLES, Principal

SCOPE_FIELDS = ("role", "department", "district")


def _principal(request) -> Principal:
    return Principal.of(request.user)


def _add_scope_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


# --- users ----------------------------------------------------------------------------------


class UserCreateForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email", "organisation", *SCOPE_FIELDS)

    def clean(self):
        cleaned = super().clean()
        try:
            services.validate_scope(
                cleaned.get("role"), cleaned.get("department"), cleaned.get("district")
            )
        except ValidationError as exc:
            _add_scope_errors(self, exc)
        return cleaned


class UserEditForm(DjangoUserChangeForm):
    reason = forms.CharField(
        label=gettext_lazy("变更原因"),
        required=False,
        max_length=512,
        help_text=gettext_lazy("修改角色、所属部门或所属区县时必须填写,记入审计日志。"),
    )

    class Meta(DjangoUserChangeForm.Meta):
        model = User
        fields = ("first_name", "last_name", "email", "organisation", *SCOPE_FIELDS)

    def clean(self):
        cleaned = super().clean()
        if set(SCOPE_FIELDS) & set(self.changed_data):
            if not (cleaned.get("reason") or "").strip():
                self.add_error("reason", _("修改角色或范围时必须填写变更原因。"))
            try:
                services.validate_scope(
                    cleaned.get("role"), cleaned.get("department"), cleaned.get("district")
                )
            except ValidationError as exc:
                _add_scope_errors(self, exc)
        return cleaned


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    list_display = (
        "username",
        "get_full_name",
        "role",
        "department",
        "district",
        "organisation",
        "is_active",
        "last_login",
    )
    list_filter = ("role", "is_active", "department", "district")
    search_fields = ("username", "first_name", "last_name", "email", "organisation")
    list_select_related = ("department", "district")
    ordering = ("username",)
    readonly_fields = (
        "username",
        "is_active",
        "is_staff",
        "is_superuser",
        "last_login",
        "date_joined",
    )
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            gettext_lazy("个人信息"),
            {"fields": ("last_name", "first_name", "email", "organisation")},
        ),
        (gettext_lazy("角色与范围"), {"fields": (*SCOPE_FIELDS, "reason")}),
        (
            gettext_lazy("状态"),
            {"fields": ("is_active", "is_staff", "is_superuser", "last_login", "date_joined")},
        ),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "usable_password", "password1", "password2")}),
        (
            gettext_lazy("个人信息"),
            {"fields": ("last_name", "first_name", "email", "organisation")},
        ),
        (gettext_lazy("角色与范围"), {"fields": SCOPE_FIELDS}),
    )
    filter_horizontal = ()
    actions = ("deactivate_users", "reactivate_users")

    def has_delete_permission(self, request, obj=None):
        return False  # the trails refer to accounts: deactivate instead

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        principal = _principal(request)
        data = form.cleaned_data
        if not change:
            user = services.create_user(
                principal,
                username=data["username"],
                role=data["role"],
                department=data.get("department"),
                district=data.get("district"),
                password=data.get("password1") if data.get("set_usable_password") else None,
                email=data.get("email", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                organisation=data.get("organisation", ""),
            )
        else:
            user = User.objects.get(pk=obj.pk)
            profile = {
                f: data.get(f, "") for f in services.PROFILE_FIELDS if f in form.changed_data
            }
            if profile:
                user = services.update_user(principal, user, **profile)
            if set(SCOPE_FIELDS) & set(form.changed_data):
                user = services.change_role(
                    principal,
                    user,
                    data["role"],
                    data.get("department"),
                    data.get("district"),
                    reason=data["reason"],
                )
        # The admin goes on with `obj` (log entry, redirect): make it the saved row.
        obj.pk = user.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        pass  # no groups or per-user permissions: the role says it all

    def user_change_password(self, request, id, form_url=""):
        """Django's password page, writing through services.set_user_password."""
        user = self.get_object(request, unquote(id))
        if user is None:
            raise Http404
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        form = AdminPasswordChangeForm(user, request.POST or None)
        if request.method == "POST" and form.is_valid():
            usable = form.cleaned_data.get("set_usable_password", True)
            with transaction.atomic():
                services.set_user_password(
                    _principal(request), user, form.cleaned_data["password1"] if usable else None
                )
            user.refresh_from_db()
            if user.pk == request.user.pk:
                update_session_auth_hash(request, user)
            messages.success(
                request, _("密码已更新。") if usable else _("已停用该账号的密码登录。")
            )
            return HttpResponseRedirect(
                reverse(f"{self.admin_site.name}:accounts_user_change", args=(user.pk,))
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("设置密码:%(name)s") % {"name": user.get_username()},
            "adminForm": admin.helpers.AdminForm(
                form, [(None, {"fields": list(form.base_fields)})], {}
            ),
            "form_url": form_url,
            "form": form,
            "is_popup": False,
            "add": True,
            "change": False,
            "has_delete_permission": False,
            "has_change_permission": True,
            "has_absolute_url": False,
            "opts": self.opts,
            "original": user,
            "save_as": False,
            "show_save": True,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            self.change_user_password_template or "admin/auth/user/change_password.html",
            context,
        )

    @admin.action(description=gettext_lazy("停用所选用户"), permissions=["change"])
    def deactivate_users(self, request, queryset):
        self._set_active(request, queryset, services.deactivate_user, _("已停用 %(n)d 个用户。"))

    @admin.action(description=gettext_lazy("恢复所选用户"), permissions=["change"])
    def reactivate_users(self, request, queryset):
        self._set_active(request, queryset, services.reactivate_user, _("已恢复 %(n)d 个用户。"))

    def _set_active(self, request, queryset, service, done_message):
        principal = _principal(request)
        count = 0
        for user in queryset:
            try:
                service(principal, user, reason=_("管理后台批量操作"))
                count += 1
            except ValidationError as exc:
                messages.error(request, f"{user}: {'; '.join(exc.messages)}")
        messages.success(request, done_message % {"n": count})


# --- API keys -------------------------------------------------------------------------------


class ApiKeyIssueForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ("name", "role", "department", "district", "expires_at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "role" in self.fields:  # absent on the read-only page of an issued key
            self.fields["role"].choices = [
                (value, label)
                for value, label in self.fields["role"].choices
                if value in API_KEY_ROLES
            ]

    def clean(self):
        cleaned = super().clean()
        try:
            services.validate_scope(
                cleaned.get("role"), cleaned.get("department"), cleaned.get("district")
            )
        except ValidationError as exc:
            _add_scope_errors(self, exc)
        return cleaned


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyIssueForm
    list_display = (
        "name",
        "prefix",
        "role",
        "department",
        "district",
        "status",
        "expires_at",
        "last_used_at",
        "created_at",
    )
    list_filter = ("role", "active", "department", "district")
    search_fields = ("name", "prefix")
    list_select_related = ("department", "district")
    readonly_fields = (
        "name",
        "prefix",
        "role",
        "department",
        "district",
        "active",
        "expires_at",
        "created_by",
        "created_at",
        "last_used_at",
    )
    actions = ("revoke_keys",)

    @admin.display(description=gettext_lazy("状态"))
    def status(self, key):
        if not key.active:
            return _("已吊销")
        if key.is_expired:
            return _("已过期")
        return _("有效")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    # Issued keys never change (a different role or scope is a new key); they are revoked.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return request.user.has_perm("accounts.change_apikey")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        key, clear = services.issue_api_key(
            _principal(request),
            name=data["name"],
            role=data["role"],
            department=data.get("department"),
            district=data.get("district"),
            expires_at=data.get("expires_at"),
        )
        obj.pk = key.pk
        obj._state.adding = False
        obj.refresh_from_db()
        # Kept on the request only, for response_add to show once; never in the session or a
        # message cookie.
        request._issued_api_key = clear

    def response_add(self, request, obj, post_url_continue=None):
        clear = getattr(request, "_issued_api_key", None)
        if clear is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": _("接口密钥已签发"),
            "opts": self.opts,
            "key": obj,
            "clear_key": clear,
        }
        response = TemplateResponse(request, "admin/accounts/apikey/issued.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=gettext_lazy("吊销所选密钥"), permissions=["revoke"])
    def revoke_keys(self, request, queryset):
        principal = _principal(request)
        count = 0
        for key in queryset.filter(active=True):
            services.revoke_api_key(principal, key, reason=_("管理后台吊销"))
            count += 1
        messages.success(request, _("已吊销 %(n)d 个密钥。") % {"n": count})


# --- the trails -----------------------------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """Append-only trails: nobody adds, changes or deletes, superusers included."""

    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _pretty_json(value) -> str:
    if value is None:
        return "—"
    return format_html(
        "<pre style='white-space:pre-wrap;margin:0'>{}</pre>",
        json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True),
    )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_label", "action", "object_type", "object_id", "object_repr")
    list_filter = ("action", "object_type")
    search_fields = (
        "actor_label",
        "actor__username",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "reason",
    )
    date_hierarchy = "at"
    fields = (
        "at",
        "actor_label",
        "actor",
        "api_key",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "reason",
        "before_pretty",
        "after_pretty",
    )
    readonly_fields = fields

    @admin.display(description=gettext_lazy("变更前"))
    def before_pretty(self, event):
        return _pretty_json(event.before)

    @admin.display(description=gettext_lazy("变更后"))
    def after_pretty(self, event):
        return _pretty_json(event.after)
