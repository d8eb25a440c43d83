"""From a case to the HTML of its document de synthèse (no I/O but reading templates).

`synthesis_header` picks what the header shows (the person, the counsellor, the dates and
channels of the level's sessions — never their confidential notes); the sections come from
the ``cep_synthesis_sections`` hooks; `SynthesisBuilder.build` renders them with the page
template (the operator's, chosen by ``cep_synthesis_template``, or the core's) and returns
the HTML, the `RenderRequest` for the renderer and the content hash that decides whether a
new version must be stored.

The hash covers the HTML and the bytes of every asset it loads, and nothing else: the HTML
holds no generation time (the header shows the date of the case's last change), so the same
case gives the same hash, and downloading or regenerating an unchanged synthesis never
renders again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import jinja2
import msgspec
from markupsafe import Markup

from cep_core.documents.assets import BlockedURL
from cep_core.documents.errors import DocumentError
from cep_core.documents.render import (
    KIT_PACKAGE,
    AssetCollector,
    Environments,
    TemplateSource,
    css_color,
    package_has_folder,
    render_template,
)
from cep_core.domain.case import Beneficiary, Case, Level
from cep_core.domain.forms import SessionChannel
from cep_core.domain.orientation import Contact
from cep_core.domain.plugin_info import PluginInfo, Theme
from cep_core.domain.synthesis import RenderRequest, SynthesisSection, TemplateRef

PAGE_TEMPLATE = "synthesis/page.html"
DEFAULT_TEMPLATES_FOLDER = "templates"
DEFAULT_THEME = Theme()

LEVEL_SUBTITLES = {
    Level.ONE: "Niveau 1 : accueil individualisé",
    Level.TWO: "Niveau 2 : accompagnement personnalisé",
}
CHANNEL_LABELS = {
    SessionChannel.IN_PERSON: "En présentiel",
    SessionChannel.PHONE: "Par téléphone",
    SessionChannel.VIDEO: "En visioconférence",
}


class TemplateProblem(DocumentError):
    """A template is missing or wrong: a bug of the kit or of the operator's plugin."""

    code = "template_problem"

    def __init__(self, name: str, detail: str) -> None:
        self.name = name
        super().__init__(
            f"Le modèle de document « {name} » est inutilisable ({detail}) : le document n'a "
            "pas été produit. Signalez-le à l'administrateur."
        )


class SessionLine(msgspec.Struct, frozen=True, kw_only=True):
    start: datetime
    channel: str
    duration_minutes: int


class SynthesisHeader(msgspec.Struct, frozen=True, kw_only=True):
    title: str
    subtitle: str
    level: Level
    beneficiary: str
    counsellor: str | None
    reference: str
    opened_on: datetime
    as_of: datetime
    sessions: tuple[SessionLine, ...] = ()


class Branding(msgspec.Struct, frozen=True, kw_only=True):
    """The operator's identity on the page; `package` is where its templates and logo live."""

    operator_id: str
    operator_name: str
    description: str = ""
    primary_color: str = DEFAULT_THEME.primary_color
    accent_color: str = DEFAULT_THEME.accent_color
    logo: str | None = None  # path inside `package`
    package: str | None = None
    templates: str = DEFAULT_TEMPLATES_FOLDER
    contact: Contact | None = None


@dataclass(frozen=True)
class RenderedSection:
    """A section's HTML, already escaped by its autoescaped template (hence `Markup`)."""

    id: str
    title: str
    html: Markup


class BuiltSynthesis(msgspec.Struct, frozen=True, kw_only=True):
    html: str
    content_hash: str
    request: RenderRequest


def synthesis_header(case: Case, beneficiary: Beneficiary | None, level: Level) -> SynthesisHeader:
    """The header of `case`'s synthesis of `level` (sessions of that level, or unlabelled)."""
    sessions = sorted(
        (s for s in case.sessions if s.level is None or s.level == level),
        key=lambda s: s.start,
    )
    name = (
        f"{beneficiary.first_name} {beneficiary.last_name}"
        if beneficiary is not None
        else "Personne non identifiée"
    )
    return SynthesisHeader(
        title=f"Document de synthèse (niveau {int(level)}) — {name}",
        subtitle=LEVEL_SUBTITLES[level],
        level=level,
        beneficiary=name,
        counsellor=case.counsellor_id,
        reference=case.id,
        opened_on=case.created_at,
        as_of=case.updated_at,
        sessions=tuple(
            SessionLine(
                start=s.start,
                channel=CHANNEL_LABELS.get(s.channel, str(s.channel)),
                duration_minutes=s.duration_minutes,
            )
            for s in sessions
        ),
    )


def branding_for(info: PluginInfo, when: date, package: str | None) -> Branding:
    theme = info.theme or DEFAULT_THEME
    return Branding(
        operator_id=info.id,
        operator_name=info.label(when),
        description=info.description,
        primary_color=css_color(theme.primary_color, DEFAULT_THEME.primary_color),
        accent_color=css_color(theme.accent_color, DEFAULT_THEME.accent_color),
        logo=theme.logo,
        package=package,
        templates=info.templates or DEFAULT_TEMPLATES_FOLDER,
        contact=info.contact,
    )


def contact_lines(contact: Contact | None) -> tuple[str, ...]:
    if contact is None:
        return ()
    lines = []
    if contact.phone:
        lines.append(f"Tél. {contact.phone}")
    if contact.email:
        lines.append(contact.email)
    if contact.url:
        lines.append(contact.url.removeprefix("https://").removeprefix("http://").rstrip("/"))
    return tuple(lines)


class _BrandView(msgspec.Struct, frozen=True, kw_only=True):
    operator_name: str
    description: str
    primary_color: str
    accent_color: str
    logo_url: str | None
    contact_lines: tuple[str, ...]


class SynthesisBuilder:
    """Renders sections and page to HTML; keeps one compiled environment per template set."""

    def __init__(self, environments: Environments | None = None) -> None:
        self._environments = environments or Environments()

    def build(
        self,
        header: SynthesisHeader,
        branding: Branding,
        sections: Sequence[SynthesisSection],
        template: TemplateRef | None = None,
        operator_names: Mapping[str, str] | None = None,
    ) -> BuiltSynthesis:
        """The page's HTML, its render request and its content hash.

        `operator_names` maps operator ids to the names shown (``operator_name(id)`` in
        templates, e.g. for a referral); an unknown id is shown as it is.
        """
        names = dict(operator_names or {})

        def operator_name(operator_id: str) -> str:
            return names.get(operator_id, operator_id)

        sources: list[TemplateSource] = []
        if branding.package and package_has_folder(branding.package, branding.templates):
            sources.append(TemplateSource(branding.package, branding.templates))
        environment = self._environments.get(sources)
        collector = AssetCollector([branding.package] if branding.package else [])
        name = PAGE_TEMPLATE
        if template is not None:
            if template.package not in (KIT_PACKAGE, branding.package):
                raise TemplateProblem(template.name, "paquet d'un autre opérateur")
            name = template.name
        try:
            logo_url = (
                collector(branding.package, branding.logo)
                if branding.logo and branding.package
                else None
            )
            brand = _BrandView(
                operator_name=branding.operator_name,
                description=branding.description,
                primary_color=branding.primary_color,
                accent_color=branding.accent_color,
                logo_url=logo_url,
                contact_lines=contact_lines(branding.contact),
            )
            rendered = [
                RenderedSection(
                    id=section.id,
                    title=section.title,
                    html=self._section(environment, section, collector, operator_name),
                )
                for section in sections
            ]
            html = str(
                render_template(
                    environment,
                    name,
                    {
                        "doc": header,
                        "brand": brand,
                        "sections": rendered,
                        "asset": collector,
                        "operator_name": operator_name,
                    },
                )
            )
        except jinja2.TemplateNotFound as exc:
            raise TemplateProblem(str(exc.name), "introuvable") from exc
        except (jinja2.TemplateError, BlockedURL) as exc:
            raise TemplateProblem(name, type(exc).__name__) from exc
        digest = hashlib.sha256(html.encode())
        digest.update(collector.fingerprint().encode())
        return BuiltSynthesis(
            html=html,
            content_hash=digest.hexdigest(),
            request=RenderRequest(
                html=html,
                title=header.title,
                assets=dict(collector.assets),
                packages=(branding.package,) if branding.package else (),
                lang="fr",
            ),
        )

    @staticmethod
    def _section(
        environment: jinja2.Environment,
        section: SynthesisSection,
        collector: AssetCollector,
        operator_name: Callable[[str], str],
    ) -> Markup:
        try:
            return render_template(
                environment,
                section.template,
                {
                    "section": section,
                    "data": section.context,
                    "asset": collector,
                    "operator_name": operator_name,
                },
            )
        except jinja2.TemplateNotFound as exc:
            raise TemplateProblem(str(exc.name), "introuvable") from exc
        except jinja2.TemplateError as exc:
            raise TemplateProblem(section.template, type(exc).__name__) from exc
