"""`pubcredit apikey issue|list|revoke`: API keys for department systems and banks.

Output is JSON on stdout; `issue` prints the clear key exactly once (it cannot be recovered).
Bad input exits 2 with one line on stderr. The command acts as the platform itself
(Principal.system): whoever can run it already holds the server.
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from pubcredit.accounts import services
from pubcredit.accounts.models import ApiKey, Role
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Department, Region


def _bad(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def _role(value: str) -> str:
    """A role by its code (bank_user) or its Chinese name (金融机构用户)."""
    for role in Role:
        if value in (role.value, str(role.label)):
            return role.value
    known = ", ".join(f"{r.value}({r.label})" for r in Role)
    raise _bad(f"未知角色:{value}。可用角色:{known}")


def _expiry(value: str | None):
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _bad(f"过期时间格式应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM:{value}") from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _local(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _key_json(key: ApiKey) -> dict:
    return {
        "prefix": key.prefix,
        "name": key.name,
        "role": key.role,
        "role_name": str(key.get_role_display()),
        "department": key.department.code if key.department_id else None,
        "district": key.district_id,
        "active": key.active,
        "expired": key.is_expired,
        "expires_at": _local(key.expires_at),
        "created_at": _local(key.created_at),
        "last_used_at": _local(key.last_used_at),
    }


class Command(BaseCommand):
    help = "接口密钥:签发(密钥只显示一次)、列出、吊销。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        issue = sub.add_parser("issue", help="签发密钥,明文只在此输出一次")
        issue.add_argument("--name", required=True, help="使用密钥的系统名称")
        issue.add_argument("--role", required=True, help="角色代码或中文名称")
        issue.add_argument("--department", help="部门编码(部门报送员必填)")
        issue.add_argument("--district", help="区县区划代码(区县管理员必填)")
        issue.add_argument("--expires", help="过期时间,YYYY-MM-DD[THH:MM],北京时间")
        lst = sub.add_parser("list", help="列出密钥(不含明文)")
        lst.add_argument("--active", action="store_true", help="只列出可用的密钥")
        revoke = sub.add_parser("revoke", help="吊销密钥")
        revoke.add_argument("prefix", help="密钥前缀(pc_ 之后的 8 位)")
        revoke.add_argument("--reason", default="", help="吊销原因")

    def handle(self, *args, verb, **options):
        result = getattr(self, f"_{verb}")(**options)
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))

    def _issue(self, *, name, role, department, district, expires, **_options):

        role = _role(role)
        dept = None
        if department:
            dept = Department.objects.filter(code=department).first()
            if dept is None:
                raise _bad(f"部门编码不存在:{department}")
        region = None
        if district:
            region = Region.objects.filter(code=district).first()
            if region is None:
                raise _bad(f"区划代码不存在:{district}")
        try:
            key, clear = services.issue_api_key(
                Principal.system("cli:apikey"),
                name=name,
                role=role,
                department=dept,
                district=region,
                expires_at=_expiry(expires),
            )
        except ValidationError as exc:
            raise _bad(";".join(exc.messages)) from None
        return {**_key_json(key), "key": clear, "notice": "密钥只显示这一次,请立即保存。"}

    def _list(self, *, active, **_options):
        keys = ApiKey.objects.select_related("department").order_by("created_at", "id")
        if active:
            keys = keys.filter(active=True)
        rows = [_key_json(k) for k in keys]
        return [r for r in rows if not r["expired"]] if active else rows

    def _revoke(self, *, prefix, reason, **_options):
        prefix = prefix.removeprefix("pc_").split("_", 1)[0]
        key = ApiKey.objects.select_related("department").filter(prefix=prefix).first()
        if key is None:
            raise _bad(f"没有前缀为 {prefix} 的密钥")
        was_active = key.active
        key = services.revoke_api_key(Principal.system("cli:apikey"), key, reason=reason)
        return {**_key_json(key), "revoked_now": was_active}
