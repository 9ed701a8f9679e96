"""The reporting reminders' API (mounted at /api/v1/reminders): a department's system (an API key
of a 部门报送员) registers the URL at which it receives its reminders (报送提醒), POSTed as JSON
signed like every platform webhook (`X-Pubcredit-Event: duty.reminder`,
`X-Pubcredit-Signature: sha256=HMAC(secret, body)`, see `core.outbox`). Thin: call `reminders`."""

from __future__ import annotations

from ninja import Router, Schema, Status
from pydantic import Field

from pubcredit.bulletins import reminders
from pubcredit.core.apitypes import ErrorOut

router = Router(tags=["报送提醒"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class ReminderWebhookIn(Schema):
    url: str = Field(..., max_length=500, description="接收报送提醒的 http(s) 地址")


class ReminderWebhookOut(Schema):
    url: str
    active: bool
    secret: str = Field(description="签名密钥:X-Pubcredit-Signature = sha256=HMAC(密钥, 请求体)")


@router.get(
    "/webhook", response={200: ReminderWebhookOut, **ERRORS}, summary="查看本系统的报送提醒地址"
)
def get_webhook(request):
    hook = reminders.webhook_of(request.principal)
    return Status(200, {"url": hook.url, "active": hook.active, "secret": hook.secret})


@router.put(
    "/webhook", response={200: ReminderWebhookOut, **ERRORS}, summary="登记本系统的报送提醒地址"
)
def put_webhook(request, body: ReminderWebhookIn):
    """部门报送系统登记或更换接收报送提醒的地址(与核查通知共用同一登记:一个系统一个地址)。每月最后
    一个工作日前 5 个工作日,本部门有报送责任但当月尚无报送的类别各推送一条提醒
    (事件 duty.reminder)。地址须为公网地址(政务内网部署可由管理员设置
    PUBCREDIT_WEBHOOK_ALLOW_PRIVATE 允许内网地址);每次推送时再次检查,不跟随重定向。"""
    hook = reminders.register_webhook(request.principal, body.url)
    return Status(200, {"url": hook.url, "active": hook.active, "secret": hook.secret})
