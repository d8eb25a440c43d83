"""The one join of a case-linked table to ``cases`` that reporting and surveys need.

Each such table carries both ``case_id`` and ``operator``: joining on both keeps a row from
ever meeting another operator's case (SEC-01), and lets the database use the cases' primary
key with the operator index.
"""

from __future__ import annotations

from sqlalchemy import Join, Table, and_

from cep_core.storage.tables import cases


def with_case(table: Table) -> Join:
    """`table` inner-joined to its case, on the case id and the operator."""
    return table.join(
        cases, and_(cases.c.id == table.c.case_id, cases.c.operator == table.c.operator)
    )
