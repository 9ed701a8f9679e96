from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepairConfig(AppConfig):
    name = "pubcredit.repair"
    verbose_name = _("信用修复与异议")

    def ready(self) -> None:
        # Imported here, not at module level: the services import models, which the app
        # registry must have loaded first. The hook is declared by commitments (a lower layer
        # that must not import repair) and subscribed to from here; see
        # commitments.assessment.repair_commitment_broken.
        from pubcredit.commitments.assessment import repair_commitment_broken
        from pubcredit.repair.services import revoke_repair_of_broken_commitment

        repair_commitment_broken.connect(
            revoke_repair_of_broken_commitment,
            dispatch_uid="repair_revoke_on_broken_commitment",
        )
