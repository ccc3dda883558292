"""Not validated: resolved (not rejected) with the Validated By field empty.

The process's Urgent Response, step 4: "The service and business owners validate the
service for the problem to be closed." Evidence names the closing transaction. When no
ticket carries the Validated By field the rule is not observable, and the reports and the
checklist say so. The action owner is the service owner with the business owner, from RT's
fields or the registry.
"""

from __future__ import annotations

import pandas as pd

from review.closeout.audit import Audit
from review.closeout.rule import rule


@rule(
    __doc__,
    "not-validated",
    order=50,
    severity="medium",
    action="Service and business owners validate the service; record who in the Validated By field "
    "before the problem is closed.",
    action_owner="the service owner with the business owner",
    reads=("validated_by",),
)
def not_validated(audit: Audit) -> pd.DataFrame:
    field = audit.config.fields.validated_by
    inc = audit.inc
    flagged = audit.closed & ~audit.rejected & (inc["validated_by"] == "")
    text = (audit.close_text + f"; custom field '{field}' is empty")[flagged]
    owners = inc["owner_name"].where(inc["owner_name"] != "", "service owner")
    business = inc["cf_business"].where(
        inc["cf_business"] != "", inc["reg_business_owner"].fillna("")
    )
    who = (owners + " with " + business.where(business != "", "the business owner"))[flagged]
    return pd.DataFrame(
        {"ticket_id": text.index, "evidence": text.to_numpy(), "action_owner": who.to_numpy()}
    )
