"""Forms generated from input Structs: each operator's steps and intake appear without page
code per operator.

A step's (or an intake's) input is a msgspec Struct with French titles, help, bounds and
closed choices: `form_spec` reads them once (cached) into `FieldSpec` values, `layout` places
the answers saved so far (or just typed) into `FieldView` values a template renders, `parse`
turns a submitted form back into plain JSON answers — kept as typed, so a draft stores even
what is not valid yet — and `form_errors` points each service `Issue` at its field.

Widgets, from the type: short text, long text (more than 200 characters), date, whole number,
number, an amount of money (a field named ``*_cents`` or ``*_eur``, or marked
``Meta(extra={"kind": "money"})``: typed in euros the French way, « 55 000 » or « 55000,50 »,
stored in the field's own unit), one choice (radios up to five options, else a list),
several choices (checkboxes), yes/no (radios) for a required or optional boolean, a checkbox
for a boolean with a default, one item per line for a list of texts, a fieldset for a nested
Struct (an optional one's required fields say « obligatoire si cette partie est remplie »)
and repeated fieldsets for a list of Structs. Fields marked
``Meta(extra={"sensitive": True})`` (health data) are left out for the roles that may not
see them; their stored values are kept on save.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Protocol, get_args

import msgspec
from msgspec import inspect as mi

from cep_core.documents.formatting import NBSP, format_date, format_number
from cep_core.domain.case import (
    CLOSE_REASON_LABELS,
    REFERRAL_REASON_LABELS,
    CloseReason,
    ReferralReason,
)
from cep_core.domain.forms import FieldKind, SessionChannel
from cep_core.domain.health_data import SENSITIVE
from cep_core.domain.issues import Issue
from cep_core.domain.requests import CHANNEL_LABELS
from cep_core.domain.situation import STATUS_LABELS, Status
from cep_core.domain.steps import (
    INFORMATION_KIND_LABELS,
    PROJECT_OBJECTIVE_LABELS,
    SERVICE_KIND_LABELS,
    InformationKind,
    ProjectObjective,
    ServiceKind,
)
from cep_core.flows import LabelledChoice
from cep_core.services.funding import Euros
from cep_core.web.pages.common import FormError

# A text longer than this gets a multi-line box.
SHORT_TEXT = 200
# Radios up to this many options, a drop-down list beyond.
MAX_RADIOS = 5
YES, NO = "oui", "non"
KEY_PREFIX = "f-"
ROWS_SUFFIX = ".lignes"

# One wording of the channels for people, the requests' own (« Sur place »...).
SESSION_CHANNEL_LABELS: Mapping[SessionChannel, str] = CHANNEL_LABELS
# Amounts: a field named like this holds cents (100 per euro) or euros (1 per euro).
MONEY_SUFFIXES: dict[str, int] = {"_cents": 100, "_eur": 1}
MONEY_EXAMPLE = f"par exemple 55{NBSP}000 ou 55000,50"


def _type_description(alias: Any) -> str | None:
    for arg in get_args(alias):
        if isinstance(arg, msgspec.Meta) and arg.description:
            return arg.description
    return None


# Descriptions of shared types that only restate bounds the widget's own hint already gives
# (in plain French): left out of the form, never said twice.
GENERIC_DESCRIPTIONS: frozenset[str] = frozenset(
    d for d in (_type_description(Euros),) if d is not None
)

CHOICE_LABELS: dict[type[enum.Enum], Mapping[Any, str]] = {
    InformationKind: INFORMATION_KIND_LABELS,
    ProjectObjective: PROJECT_OBJECTIVE_LABELS,
    ServiceKind: SERVICE_KIND_LABELS,
    ReferralReason: REFERRAL_REASON_LABELS,
    CloseReason: CLOSE_REASON_LABELS,
    SessionChannel: SESSION_CHANNEL_LABELS,
    Status: STATUS_LABELS,
}


class Widget(enum.StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    LINES = "lines"  # a list of short texts, one per line
    DATE = "date"
    INTEGER = "integer"
    NUMBER = "number"
    MONEY = "money"  # typed in euros, stored in the field's unit (`FieldSpec.money_scale`)
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    YES_NO = "yes_no"
    CHECKBOX = "checkbox"
    GROUP = "group"  # a nested Struct
    REPEAT = "repeat"  # a list of Structs


class FieldSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One field of an input Struct, as a form shows it (derived from the type only)."""

    name: str
    label: str
    help: str | None = None
    widget: Widget
    required: bool = False
    nullable: bool = False
    min_length: int | None = None
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    choices: tuple[tuple[str, str], ...] = ()
    sensitive: bool = False
    numeric: bool = False  # a choice among whole numbers (its values are sent as text)
    money_scale: int = 0  # a money field: stored units per euro (100 for cents, 1 for euros)
    default: Any = None  # the answer before anything is saved, as plain JSON
    children: tuple[FieldSpec, ...] = ()


class FieldView(msgspec.Struct, frozen=True, kw_only=True):
    """A field placed in a page: its id (also its form name), its value and its parts.

    ``path`` is where the service reports problems (``services[0].label``); ``key`` the HTML
    id and name (``f-services.0.label``); ``label`` its own label and ``full_label`` the same
    with its row (for the error summary); ``value`` is a string, a list of strings for several
    choices, a boolean for a checkbox; ``rows`` are the repeated groups of a list of Structs.
    ``condition`` is set for a required field of an optional part (an optional group, a row):
    it is required only when that part is filled in, so it is not marked plainly obligatory.
    """

    spec: FieldSpec
    path: str
    key: str
    label: str
    full_label: str
    value: Any = ""
    hint: str | None = None
    children: tuple[FieldView, ...] = ()
    rows: tuple[FieldView, ...] = ()
    attrs: dict[str, str] = {}
    condition: str | None = None

    @property
    def marked_required(self) -> bool:
        """Shown « (obligatoire) »: required, and not only when an optional part is filled."""
        return self.spec.required and self.condition is None

    @property
    def widget(self) -> str:
        return self.spec.widget.value

    @property
    def rows_key(self) -> str:
        return self.key + ROWS_SUFFIX


class Overrides(msgspec.Struct, frozen=True, kw_only=True):
    """What a page knows better than the type: labels, help (None: none) and choices by
    field path (``a.b``, list items as ``a[].b``)."""

    labels: Mapping[str, str] = {}
    helps: Mapping[str, str | None] = {}
    choices: Mapping[str, tuple[tuple[str, str], ...]] = {}


NO_OVERRIDES = Overrides()


# -- from the type ---------------------------------------------------------------------------


def choice_label(member: enum.Enum) -> str:
    """The French label of a closed choice: the plugin's own, the core's, else its value."""
    if isinstance(member, LabelledChoice):
        try:
            return member.label
        except (KeyError, NotImplementedError):
            return str(member.value)
    labels = CHOICE_LABELS.get(type(member))
    if labels is not None and member in labels:
        return labels[member]
    return str(member.value).replace("_", " ").capitalize()


def _humanize(name: str) -> str:
    return name.replace("_", " ").capitalize()


def form_spec(
    struct: type[msgspec.Struct], overrides: Overrides = NO_OVERRIDES
) -> tuple[FieldSpec, ...]:
    """The fields of `struct`, in declaration order (cached when nothing is overridden:
    inputs are module-level types)."""
    if overrides is NO_OVERRIDES:
        return _plain_spec(struct)
    return _fields(struct, overrides, "")


@lru_cache(maxsize=512)
def _plain_spec(struct: type[msgspec.Struct]) -> tuple[FieldSpec, ...]:
    return _fields(struct, NO_OVERRIDES, "")


def _fields(
    struct: type[msgspec.Struct], overrides: Overrides, prefix: str
) -> tuple[FieldSpec, ...]:
    info = mi.type_info(struct)
    assert isinstance(info, mi.StructType)
    return tuple(_field(field, overrides, prefix) for field in info.fields)


def _field(field: mi.Field, overrides: Overrides, prefix: str) -> FieldSpec:
    path = f"{prefix}{field.encode_name}"
    title, description, sensitive, kind = None, None, False, None
    info: Any = field.type
    nullable = False
    while True:
        if isinstance(info, mi.Metadata):
            schema = info.extra_json_schema or {}
            title = title or schema.get("title")
            description = description or schema.get("description")
            sensitive = sensitive or bool((info.extra or {}).get(SENSITIVE))
            kind = kind or (info.extra or {}).get("kind")
            info = info.type
        elif isinstance(info, mi.UnionType):
            others = [t for t in info.types if not isinstance(t, mi.NoneType)]
            nullable = nullable or len(others) < len(info.types)
            info = others[0] if len(others) == 1 else mi.StrType(max_length=SHORT_TEXT)
        else:
            break
    label = overrides.labels.get(path) or title or _humanize(field.encode_name)
    if description in GENERIC_DESCRIPTIONS:
        description = None
    if path in overrides.helps:
        description = overrides.helps[path]
    default: Any = None
    if field.default is not msgspec.NODEFAULT:
        default = msgspec.to_builtins(field.default)
    elif field.default_factory is not msgspec.NODEFAULT:
        default = msgspec.to_builtins(field.default_factory())
    base = {
        "default": default,
        "name": field.encode_name,
        "label": label,
        "help": description,
        "required": field.required,
        "nullable": nullable,
        "sensitive": sensitive,
    }
    choices = overrides.choices.get(path)
    if choices is not None:
        numeric = isinstance(info, mi.IntType)
        return FieldSpec(widget=Widget.CHOICE, choices=choices, numeric=numeric, **base)
    return _typed(info, base, overrides, path, kind)


_CENTS_IN_LABEL = re.compile(r"\s*\((?:en )?centimes d'euros?\)", re.IGNORECASE)


def _money_scale(name: str, kind: str | None) -> int:
    """Units per euro of a money field (0: not money): cents by default when marked."""
    for suffix, scale in MONEY_SUFFIXES.items():
        if name.endswith(suffix):
            return scale
    return 100 if kind == FieldKind.MONEY.value else 0


def _typed(
    info: Any, base: dict[str, Any], overrides: Overrides, path: str, kind: str | None = None
) -> FieldSpec:
    collections = (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType)
    if isinstance(info, mi.BoolType):
        # A boolean with a default is a checkbox; one that must be answered (or may stay
        # unknown) is a yes/no question.
        widget = Widget.YES_NO if base["required"] or base["nullable"] else Widget.CHECKBOX
        return FieldSpec(widget=widget, **base)
    if isinstance(info, mi.StrType):
        long = info.max_length is None or info.max_length > SHORT_TEXT
        return FieldSpec(
            widget=Widget.TEXTAREA if long else Widget.TEXT,
            min_length=info.min_length,
            max_length=info.max_length,
            **base,
        )
    if isinstance(info, mi.DateType):
        return FieldSpec(widget=Widget.DATE, **base)
    if isinstance(info, mi.IntType | mi.FloatType):
        low = info.ge if info.ge is not None else info.gt
        high = info.le if info.le is not None else info.lt
        scale = _money_scale(base["name"], kind)
        if scale:
            # Typed in euros: a label speaking of cents would mislead.
            base = {**base, "label": _CENTS_IN_LABEL.sub("", base["label"])}
            return FieldSpec(
                widget=Widget.MONEY, money_scale=scale, min_value=low, max_value=high, **base
            )
        widget = Widget.INTEGER if isinstance(info, mi.IntType) else Widget.NUMBER
        return FieldSpec(widget=widget, min_value=low, max_value=high, **base)
    if isinstance(info, mi.EnumType | mi.LiteralType):
        return FieldSpec(widget=Widget.CHOICE, choices=_choices(info), **base)
    if isinstance(info, collections):
        item = _unwrap(info.item_type)
        bounds: dict[str, Any] = {"min_length": info.min_length, "max_length": info.max_length}
        if isinstance(item, mi.EnumType | mi.LiteralType):
            return FieldSpec(widget=Widget.MULTI_CHOICE, choices=_choices(item), **bounds, **base)
        if isinstance(item, mi.StructType):
            children = _fields(item.cls, overrides, f"{path}[].")
            return FieldSpec(widget=Widget.REPEAT, children=children, **bounds, **base)
        return FieldSpec(widget=Widget.LINES, **bounds, **base)
    if isinstance(info, mi.StructType):
        children = _fields(info.cls, overrides, f"{path}.")
        return FieldSpec(widget=Widget.GROUP, children=children, **base)
    return FieldSpec(widget=Widget.TEXT, max_length=SHORT_TEXT, **base)


def _unwrap(info: Any) -> Any:
    while True:
        if isinstance(info, mi.Metadata):
            info = info.type
        elif isinstance(info, mi.UnionType):
            others = [t for t in info.types if not isinstance(t, mi.NoneType)]
            if len(others) != 1:
                return info
            info = others[0]
        else:
            return info


def _choices(info: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(info, mi.EnumType):
        return tuple((str(member.value), choice_label(member)) for member in info.cls)
    return tuple((str(value), str(value)) for value in info.values)


def without_sensitive(specs: Sequence[FieldSpec]) -> tuple[FieldSpec, ...]:
    """The fields a role without access to health data may see (at every depth)."""
    return tuple(
        msgspec.structs.replace(spec, children=without_sensitive(spec.children))
        for spec in specs
        if not spec.sensitive
    )


# -- placing values --------------------------------------------------------------------------


def field_key(path: str) -> str:
    """The HTML id and form name of the field at `path` (``a[0].b`` -> ``f-a.0.b``)."""
    return KEY_PREFIX + re.sub(r"\[(\d+)\]", r".\1", path)


# When a required field of an optional part is required (shown instead of « obligatoire »).
IF_GROUP_FILLED = "obligatoire si cette partie est remplie"
IF_ROW_FILLED = "obligatoire si cette ligne est remplie"


def layout(
    specs: Sequence[FieldSpec],
    data: Mapping[str, Any] | None,
    *,
    prefix: str = "",
    condition: str | None = None,
) -> tuple[FieldView, ...]:
    """The fields with `data`'s values (answers as stored, or as just typed); with no data
    at all (nothing saved yet), each field's default. `condition`: these fields belong to
    an optional part (see `FieldView.condition`)."""
    if data is None:
        data = {spec.name: spec.default for spec in specs if spec.default is not None}
    return tuple(_view(spec, data.get(spec.name), prefix, condition=condition) for spec in specs)


def _view(
    spec: FieldSpec,
    value: Any,
    prefix: str,
    row_label: str = "",
    condition: str | None = None,
) -> FieldView:
    path = f"{prefix}{spec.name}"
    key = field_key(path)
    names: dict[str, Any] = {
        "label": spec.label,
        "full_label": f"{row_label} — {spec.label}" if row_label else spec.label,
        "hint": _hint(spec),
        "condition": condition if spec.required else None,
    }
    if spec.widget is Widget.GROUP:
        children = layout(
            spec.children,
            value if isinstance(value, Mapping) else None,
            prefix=f"{path}.",
            condition=condition if spec.required else IF_GROUP_FILLED,
        )
        return FieldView(spec=spec, path=path, key=key, children=children, **names)
    if spec.widget is Widget.REPEAT:
        items = [i for i in value if isinstance(i, Mapping)] if isinstance(value, list) else []
        count = len(items)
        wanted = max(count + 1, spec.min_length or 0, 1)
        if spec.max_length is not None:
            wanted = min(wanted, max(spec.max_length, count))
        rows = []
        for index in range(wanted):
            legend = f"{spec.label} — n° {index + 1}"
            row_path = f"{path}[{index}]"
            item = items[index] if index < count else None
            children = tuple(
                _view(
                    child,
                    None if item is None else item.get(child.name),
                    f"{row_path}.",
                    legend,
                    IF_ROW_FILLED,
                )
                for child in spec.children
            )
            rows.append(
                FieldView(
                    spec=spec,
                    path=row_path,
                    key=field_key(row_path),
                    label=legend,
                    full_label=legend,
                    hint=None,
                    children=children,
                )
            )
        return FieldView(spec=spec, path=path, key=key, rows=tuple(rows), **names)
    return FieldView(
        spec=spec, path=path, key=key, value=_shown(spec, value), attrs=_attrs(spec), **names
    )


def _shown(spec: FieldSpec, value: Any) -> Any:
    """A stored answer as the widget shows it (a draft may hold anything typed)."""
    if value is None:
        return [] if spec.widget is Widget.MULTI_CHOICE else ""
    if spec.widget is Widget.MULTI_CHOICE:
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if spec.widget is Widget.LINES:
        return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)
    if spec.widget is Widget.YES_NO:
        return YES if value is True else NO if value is False else ""
    if spec.widget is Widget.CHECKBOX:
        return value is True
    if isinstance(value, bool):
        return YES if value else NO
    if spec.widget is Widget.MONEY and isinstance(value, int | float):
        return _euros_text(_to_cents(value, spec.money_scale))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | str):
        return str(value)
    return msgspec.json.encode(value).decode()


def _number(value: float) -> str:
    """A bound in French (``1 000 000``, ``2,5``)."""
    if float(value).is_integer():
        return format_number(int(value))
    return format_number(Decimal(repr(float(value))))


def _to_cents(value: float, scale: int) -> int:
    """A stored amount (in units of 1/`scale` euro) as cents, rounded half up."""
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    cents = exact * 100 / scale
    return int(cents.quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def _euros_text(cents: int) -> str:
    """Cents as a form shows them, French style: ``55 000`` or ``55 000,50`` (no sign: the
    field says « € » beside the box)."""
    euros, rest = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    text = f"{sign}{format_number(euros)}"
    return f"{text},{rest:02d}" if rest else text


def _euros(value: float, scale: int) -> str:
    """A bound or an amount with its sign: ``1 000 000 €``."""
    return f"{_euros_text(_to_cents(value, scale))}{NBSP}€"


def _attrs(spec: FieldSpec) -> dict[str, str]:
    """Input attributes. Numbers are text inputs with a numeric keyboard: a number input would
    drop what a draft kept as typed (GOV.UK design system advice)."""
    attrs: dict[str, str] = {}
    if spec.widget in (Widget.TEXT, Widget.TEXTAREA) and spec.max_length is not None:
        attrs["maxlength"] = str(spec.max_length)
    if spec.widget is Widget.INTEGER:
        attrs["inputmode"] = "numeric"
    if spec.widget in (Widget.NUMBER, Widget.MONEY):
        attrs["inputmode"] = "decimal"
    return attrs


def _hint(spec: FieldSpec) -> str | None:
    """The field's help, and what it accepts when the widget cannot say it."""
    parts = [spec.help] if spec.help else []
    low, high = spec.min_value, spec.max_value
    if spec.widget is Widget.MONEY:
        scale = spec.money_scale
        bounds = (
            f", de {_euros(low, scale)} à {_euros(high, scale)}"
            if low is not None and high is not None
            else ""
        )
        parts.append(f"Montant en euros{bounds} ({MONEY_EXAMPLE}).")
    elif spec.widget in (Widget.INTEGER, Widget.NUMBER) and low is not None and high is not None:
        kind = "Nombre entier" if spec.widget is Widget.INTEGER else "Nombre"
        parts.append(f"{kind} de {_number(low)} à {_number(high)}.")
    if spec.widget is Widget.LINES:
        most = f", {spec.max_length} au plus" if spec.max_length is not None else ""
        parts.append(f"Un élément par ligne{most}.")
    if spec.widget is Widget.MULTI_CHOICE:
        parts.append("Plusieurs réponses possibles.")
    if spec.widget is Widget.REPEAT:
        parts.append(
            "Une ligne laissée vide n'est pas prise en compte ; une ligne de plus apparaît à "
            "chaque enregistrement."
        )
    return " ".join(parts) or None


def flatten(views: Iterable[FieldView]) -> list[FieldView]:
    """Every field, groups and rows included, in page order."""
    found: list[FieldView] = []
    for view in views:
        found.append(view)
        found += flatten(view.children)
        for row in view.rows:
            found.append(row)
            found += flatten(row.children)
    return found


# -- reading a submitted form ----------------------------------------------------------------


class Submitted(Protocol):
    """What `parse` reads (a `FormData`)."""

    def get(self, name: str, default: str = "") -> str: ...

    def get_all(self, name: str) -> list[str]: ...


def parse(
    specs: Sequence[FieldSpec],
    form: Submitted,
    *,
    prefix: str = "",
    kept: Mapping[str, Any] | None = None,
    hidden: Sequence[FieldSpec] = (),
) -> dict[str, Any]:
    """The answers of a submitted form as plain JSON values, as typed.

    Empty fields are left out (a required one is then reported missing); a number that does
    not read as one stays the text typed, so the draft keeps it and the check names it.
    `hidden` fields were not shown (health data for a role that may not see it): their value
    in `kept` (the stored answers) is carried over unchanged.
    """
    answers: dict[str, Any] = {}
    for spec in specs:
        found = _parsed(spec, form, f"{prefix}{spec.name}")
        if found is not _ABSENT:
            answers[spec.name] = found
    stored = kept or {}
    for spec in hidden:
        if spec.name in stored and spec.name not in answers:
            answers[spec.name] = stored[spec.name]
    return answers


_ABSENT: Any = object()
_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def _parsed(spec: FieldSpec, form: Submitted, path: str) -> Any:
    key = field_key(path)
    widget = spec.widget
    if widget is Widget.GROUP:
        sub = parse(spec.children, form, prefix=f"{path}.")
        return sub if spec.required or _meaningful(sub) else _ABSENT
    if widget is Widget.REPEAT:
        try:
            count = int(form.get(key + ROWS_SUFFIX, "0"))
        except ValueError:
            count = 0
        limit = (spec.max_length or 0) + 1 if spec.max_length is not None else 100
        items = []
        for index in range(max(0, min(count, limit, 100))):
            item = parse(spec.children, form, prefix=f"{path}[{index}].")
            if _meaningful(item):
                items.append(item)
        return items if items else _ABSENT
    if widget is Widget.MULTI_CHOICE:
        picked = [value for value in form.get_all(key) if value]
        return picked if picked else _ABSENT
    if widget is Widget.CHECKBOX:
        return form.get(key) == YES
    text = form.get(key)
    if widget is Widget.YES_NO:
        return True if text == YES else False if text == NO else _ABSENT
    if not text:
        return _ABSENT
    if widget is Widget.CHOICE and spec.numeric:
        return int(text) if _INTEGER.match(text) and len(text) < 20 else text
    if widget is Widget.LINES:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines if lines else _ABSENT
    if widget is Widget.INTEGER:
        plain = _SPACES.sub("", text)
        return int(plain) if _INTEGER.match(plain) and len(plain) < 20 else text
    if widget is Widget.NUMBER:
        plain = _SPACES.sub("", text).replace(",", ".")
        if _DECIMAL.match(plain) and len(plain) < 30:
            number = float(plain)
            return int(number) if number.is_integer() else number
        return text
    if widget is Widget.MONEY:
        return _money(text, spec.money_scale)
    return text


_EUROS = re.compile(r"^\d{1,15}(?:\.\d{1,2})?$")


def _money(text: str, scale: int) -> Any:
    """Euros typed the French way (« 55 000 », « 55000,50 », « 1 250,5 € ») in the field's
    unit: whole cents, or euros as a JSON number. Anything else stays as typed."""
    plain = _SPACES.sub("", text).removesuffix("€").replace(",", ".")
    if not _EUROS.match(plain):
        return text
    try:
        amount = Decimal(plain) * scale
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return text
    if scale == 100:
        return int(amount)
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _meaningful(values: Mapping[str, Any]) -> bool:
    """A group or a row holds something when one of its answers is not an unticked box."""
    return any(value is not False for value in values.values())


# -- errors ----------------------------------------------------------------------------------


class FieldError(FormError, frozen=True, kw_only=True):
    """An error of one generated field: the summary's message names the field (« Besoin
    clarifié : ce champ est obligatoire. »); ``near`` is said next to the field, right under
    its label, so without it (« Ce champ est obligatoire. »)."""

    near: str


def near_fields(errors: Iterable[FormError]) -> list[FormError]:
    """The errors as the fields show them (the summary keeps `errors` as they are)."""
    return [
        FormError(message=error.near, field=error.field) if isinstance(error, FieldError) else error
        for error in errors
    ]


def form_errors(
    issues: Iterable[Issue], views: Sequence[FieldView], *, prefix: str = ""
) -> list[FormError]:
    """Each issue as an error of its field (or of the whole form), in French for a form."""
    by_path = {view.path: view for view in flatten(views)}
    errors: list[FormError] = []
    seen: set[tuple[str | None, str]] = set()
    for issue in issues:
        view = _located(issue.path, by_path)
        if view is None:
            error = FormError(message=issue.message)
        else:
            said = _message(issue, view)
            error = FieldError(
                message=f"{view.full_label} : {said}",
                field=view.key,
                near=said[:1].upper() + said[1:],
            )
        marker = (error.field, error.message)
        if marker not in seen:
            seen.add(marker)
            errors.append(error)
    return errors


def _located(path: str, by_path: Mapping[str, FieldView]) -> FieldView | None:
    while path:
        if path in by_path:
            return by_path[path]
        trimmed = re.sub(r"(\[\d+\]|\.[^.\[\]]*)$", "", path)
        if trimmed == path:
            return None
        path = trimmed
    return None


def _message(issue: Issue, view: FieldView) -> str:
    spec, code = view.spec, issue.code
    widget = spec.widget
    if code in ("missing_field",) or (
        code == "invalid_length" and widget in (Widget.TEXT, Widget.TEXTAREA) and not view.value
    ):
        return {
            Widget.MULTI_CHOICE: "cochez au moins une réponse.",
            Widget.CHOICE: "choisissez une réponse.",
            Widget.YES_NO: "répondez par oui ou par non.",
            Widget.REPEAT: "ajoutez au moins une ligne.",
            Widget.LINES: "saisissez au moins un élément (un par ligne).",
        }.get(widget, "ce champ est obligatoire.")
    if code in ("invalid_type", "invalid_date"):
        if widget is Widget.MONEY:
            return f"saisissez un montant en euros, en chiffres ({MONEY_EXAMPLE})."
        if widget is Widget.INTEGER:
            return "saisissez un nombre entier, en chiffres."
        if widget is Widget.NUMBER:
            return "saisissez un nombre, en chiffres (par exemple 1250,50)."
        if widget is Widget.DATE:
            return "saisissez une date qui existe (jour, mois et année)."
    if code == "out_of_range" and widget in (Widget.INTEGER, Widget.NUMBER, Widget.MONEY):
        low, high = spec.min_value, spec.max_value
        if low is not None and high is not None and widget is Widget.MONEY:
            scale = spec.money_scale
            return f"saisissez un montant entre {_euros(low, scale)} et {_euros(high, scale)}."
        if low is not None and high is not None:
            return f"saisissez un nombre entre {_number(low)} et {_number(high)}."
    if code == "invalid_length":
        if widget in (Widget.TEXT, Widget.TEXTAREA) and spec.max_length is not None:
            return f"{spec.max_length} caractères au plus."
        if widget in (Widget.MULTI_CHOICE, Widget.LINES, Widget.REPEAT):
            low, high = spec.min_length, spec.max_length
            if low and "au moins" in issue.message:
                plural = "s" if low > 1 else ""
                return f"au moins {low} élément{plural} attendu{plural}."
            if high is not None:
                return f"{high} élément{'s' if high > 1 else ''} au plus."
    if code == "invalid_format":
        return "le format n'est pas valide." + (f" {spec.help}" if spec.help else "")
    if code == "invalid_choice" and widget in (Widget.CHOICE, Widget.MULTI_CHOICE):
        return "choisissez parmi les réponses proposées."
    return issue.message


# -- reading answers -------------------------------------------------------------------------


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    """One answer as a page shows it read-only: label, text, or its parts; a list of
    records (action-plan services, milestones) has ``rows``, each row its own parts."""

    label: str
    text: str = ""
    parts: tuple[Answer, ...] = ()
    rows: tuple[tuple[Answer, ...], ...] = ()


def describe(specs: Sequence[FieldSpec], data: Mapping[str, Any] | None) -> tuple[Answer, ...]:
    """The answered fields of `data`, in French (unanswered ones are left out)."""
    values = data if isinstance(data, Mapping) else {}
    answers = []
    for spec in specs:
        if spec.name not in values or values[spec.name] in (None, "", []):
            continue
        answers.append(_answer(spec, values[spec.name]))
    return tuple(answers)


def _answer(spec: FieldSpec, value: Any) -> Answer:
    if spec.widget is Widget.GROUP and isinstance(value, Mapping):
        return Answer(label=spec.label, parts=describe(spec.children, value))
    if spec.widget is Widget.REPEAT and isinstance(value, list):
        rows = tuple(describe(spec.children, item) for item in value if isinstance(item, Mapping))
        return Answer(label=spec.label, rows=tuple(row for row in rows if row))
    labels = dict(spec.choices)
    if isinstance(value, list):
        return Answer(label=spec.label, text=", ".join(labels.get(str(v), str(v)) for v in value))
    if isinstance(value, bool):
        return Answer(label=spec.label, text="Oui" if value else "Non")
    if spec.widget is Widget.DATE and isinstance(value, str):
        try:
            return Answer(label=spec.label, text=format_date(date.fromisoformat(value)))
        except ValueError:
            return Answer(label=spec.label, text=value)
    if spec.choices:
        return Answer(label=spec.label, text=labels.get(str(value), str(value)))
    if spec.widget is Widget.MONEY and isinstance(value, int | float):
        return Answer(label=spec.label, text=_euros(value, spec.money_scale))
    return Answer(label=spec.label, text=_shown(spec, value))
