"""Funding rules: pure functions over the funding Structs and dated parameters.

Every amount, ceiling, threshold and date comes from `FundingParameters` (the TOML file
``cep_core/data/funding.toml``); each rule returns its verdict with French reasons that cite
the article it applies. No rule reads the clock: dates are arguments.
"""

from __future__ import annotations

from cep_core.domain.rules.calendar import (
    add_months,
    easter_sunday,
    is_working_day,
    months_spanned,
    public_holidays,
    working_days_after,
    working_days_before,
)
from cep_core.domain.rules.cpf import (
    CpfUse,
    CreditBasis,
    cpf_annual_credit,
    cpf_use,
    credit_bases,
    dif_hours_to_cents,
    is_certification_code,
    normalise_code,
    participation,
    participation_exemptions,
)
from cep_core.domain.rules.params import REQUIRED, FundingParameters, funding_parameters
from cep_core.domain.rules.plan import build_plan, check_plan
from cep_core.domain.rules.ptp import ptp_eligibility, ptp_leave_deadline, ptp_pay_estimate
from cep_core.domain.rules.schemes import (
    abondement_correctif,
    bilan_verdict,
    demission_reconversion,
    vae_verdict,
)

__all__ = [
    "REQUIRED",
    "CpfUse",
    "CreditBasis",
    "FundingParameters",
    "abondement_correctif",
    "add_months",
    "bilan_verdict",
    "build_plan",
    "check_plan",
    "cpf_annual_credit",
    "cpf_use",
    "credit_bases",
    "demission_reconversion",
    "dif_hours_to_cents",
    "easter_sunday",
    "funding_parameters",
    "is_certification_code",
    "is_working_day",
    "months_spanned",
    "normalise_code",
    "participation",
    "participation_exemptions",
    "ptp_eligibility",
    "ptp_leave_deadline",
    "ptp_pay_estimate",
    "public_holidays",
    "vae_verdict",
    "working_days_after",
    "working_days_before",
]
