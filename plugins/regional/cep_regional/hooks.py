"""Regional operators: the CEP of private-sector employees and self-employed people in work.

France compétences chooses one operator per region for each four-year market (2020–2023,
2024–2027). Public agents are never their public, whatever else is true. The organisation is
named only when the parameter file knows it for the date; otherwise the person gets the
network's generic name and the public locator, because a guessed name would send them to the
wrong door.

The module-level hooks use the packaged parameters. A deployment that knows better (for
instance the 2024–2027 holder of its region) registers a `RegionalOperator` instead: see
`from_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path

from cep_core import (
    Competence,
    Contact,
    ParameterError,
    ParameterSet,
    PluginInfo,
    PluginKind,
    Situation,
    Status,
    Theme,
    dated_labels,
    hookimpl,
    region,
    regions,
)

# The operator's other hooks live in their own modules; importing them here registers them
# with this entry-point module (and `RegionalOperator` carries them too).
from cep_regional.flow import (
    cep_intake_form,
    cep_session_steps,
    cep_validate_intake,
    cep_validate_step,
)
from cep_regional.funding import cep_funding_options
from cep_regional.reporting import cep_indicators
from cep_regional.synthesis import cep_synthesis_sections, cep_synthesis_template

PLUGIN_ID = "regional"
OVERRIDE_ENV = "CEP_REGIONAL_OPERATORS_FILE"
REQUIRED = ("label", "market.period", "locator.url", "overseas_note")

# How the person's activity is named in the reason; any other status works only with `working`.
ACTIVITY = {
    Status.EMPLOYEE: "Vous êtes salarié(e) du secteur privé",
    Status.APPRENTICE: "Vous êtes apprenti(e)",
    Status.SELF_EMPLOYED: "Vous êtes travailleur(se) indépendant(e)",
}


@cache
def packaged_parameters() -> ParameterSet:
    return ParameterSet.from_package("cep_regional", "data/parameters.toml")


class RegionalOperator:
    """The regional operator plugin, bound to one parameter set.

    A deployment registers an instance (and disables the ``regional`` entry point, whose id
    would clash) when it has better data than the package, e.g. with
    ``CEP_DISABLED_PLUGINS=regional`` and ``CEP_REGIONAL_OPERATORS_FILE=/etc/cep/regional.toml``::

        kit = Kit(plugins=[cep_regional.hooks.from_env()])

    Hooks get no settings and do no I/O, so the file is read here, once, at start-up; a
    missing parameter or region fails then, not in the middle of a request.
    """

    # The flow, funding and synthesis hooks do not depend on the organisation data: the instance
    # carries the module's own, so a deployment that registers it loses none of them.
    cep_intake_form = staticmethod(cep_intake_form)
    cep_validate_intake = staticmethod(cep_validate_intake)
    cep_session_steps = staticmethod(cep_session_steps)
    cep_validate_step = staticmethod(cep_validate_step)
    cep_funding_options = staticmethod(cep_funding_options)
    cep_synthesis_sections = staticmethod(cep_synthesis_sections)
    cep_synthesis_template = staticmethod(cep_synthesis_template)
    cep_indicators = staticmethod(cep_indicators)

    def __init__(self, parameters: ParameterSet) -> None:
        wanted = [*REQUIRED, *(f"operators.{code}" for code in regions())]
        missing = [name for name in wanted if name not in parameters]
        if missing:
            raise ParameterError("paramètres manquants : " + ", ".join(missing))
        self._parameters = parameters

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> RegionalOperator:
        """The packaged parameters, with each table of the file at `path` replacing its own."""
        override = ParameterSet.from_toml(
            Path(path).read_text(encoding="utf-8"), origin=os.fspath(path)
        )
        return cls(ParameterSet({**packaged_parameters(), **override}))

    def _label(self, when: date) -> str:
        labels = self._parameters["label"]
        entry = labels.entry_at(when)
        return str((entry or labels.values[0]).value)

    @hookimpl
    def cep_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            id=PLUGIN_ID,
            kind=PluginKind.OPERATOR,
            labels=dated_labels(self._parameters["label"]),
            core_range=">=0.1,<0.2",
            description=(
                "Conseil en évolution professionnelle des salariés du secteur privé et des "
                "travailleurs indépendants, par l'opérateur régional choisi par France "
                "compétences."
            ),
            contact=Contact.from_parameters(self._parameters, prefix="locator"),
            theme=Theme(primary_color="#00558c", accent_color="#8dc63f"),
        )

    @hookimpl
    def cep_assess_competence(self, situation: Situation) -> Competence:
        params, when = self._parameters, situation.as_of
        label = self._label(when)
        locator = params.get_at("locator.url", when) or params["locator.url"].values[-1].value
        contact = Contact(url=locator)

        def answer(competent: bool, reason: str, name: str = label) -> Competence:
            return Competence(
                operator=PLUGIN_ID, competent=competent, name=name, reason=reason, contact=contact
            )

        if situation.is_public_agent:
            return answer(
                False,
                "En tant qu'agent(e) public(que), vous ne relevez pas de l'opérateur régional du "
                "CEP, qui accompagne les salariés du secteur privé et les travailleurs "
                "indépendants.",
            )
        if not situation.in_work:
            return answer(
                False,
                "Vous n'avez pas indiqué exercer d'activité professionnelle : l'opérateur "
                "régional du CEP accompagne les salariés du secteur privé et les travailleurs "
                "indépendants en activité.",
            )
        if params["label"].entry_at(when) is None:
            start = params["label"].values[0].valid_from
            return answer(
                False,
                "À la date indiquée, les opérateurs régionaux du CEP n'étaient pas encore en "
                f"place : ils accompagnent les salariés et les indépendants depuis {start.year}.",
            )
        activity = ACTIVITY.get(situation.status, "Vous exercez une activité professionnelle")
        reason = (
            f"{activity} : l'opérateur régional du CEP accompagne les salariés du secteur privé "
            "et les travailleurs indépendants de votre région."
        )
        place = region(situation.region) if situation.region else None
        if place is None:
            missing = "indiqué votre région" if not situation.region else "indiqué de région connue"
            return answer(
                True,
                f"{reason} Vous n'avez pas {missing} : retrouvez l'opérateur de votre région "
                f"et ses coordonnées sur {locator}.",
            )
        organisation = params.get_at(f"operators.{place.code}", when)
        if organisation:
            period = params.get_at("market.period", when)
            market = f" (marché France compétences {period})" if period else ""
            return answer(
                True,
                f"{reason} Dans votre région ({place.name}), il s'agit de {organisation}{market}.",
                name=str(organisation),
            )
        note = params.get_at("overseas_note", when) if place.overseas else None
        return answer(
            True,
            f"{reason}{f' {note}' if note else ''} Retrouvez les coordonnées de l'opérateur de "
            f"votre région ({place.name}) sur {locator}.",
            name=f"{label} – {place.name}",
        )


@cache
def _packaged_operator() -> RegionalOperator:
    return RegionalOperator(packaged_parameters())


def from_env(env: Mapping[str, str] | None = None) -> RegionalOperator:
    """The operator a deployment should register: ``CEP_REGIONAL_OPERATORS_FILE`` if set."""
    path = (os.environ if env is None else env).get(OVERRIDE_ENV)
    return RegionalOperator.from_file(path) if path else _packaged_operator()


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return _packaged_operator().cep_plugin_info()


@hookimpl
def cep_assess_competence(situation: Situation) -> Competence:
    return _packaged_operator().cep_assess_competence(situation)
