"""Errors the kit raises across layers (each carries a French message for people)."""

from __future__ import annotations

from collections.abc import Sequence

from cep_core.domain.issues import Issue


class CepError(Exception):
    """Base of the kit's own errors."""


class PluginFailure(CepError):
    """A plugin raised (or answered nonsense) inside a hook, for one operator's request.

    Only the request that needed that plugin fails; callers show `message` and keep serving
    the other operators.
    """

    def __init__(self, plugin: str, hook: str, cause: BaseException | str) -> None:
        self.plugin = plugin
        self.hook = hook
        self.cause = cause
        detail = cause if isinstance(cause, str) else f"{type(cause).__name__}: {cause}"
        self.message = (
            f"Le module « {plugin} » a rencontré une erreur ({hook}). "
            "La demande n'a pas pu aboutir pour cet opérateur ; les autres ne sont pas touchés."
        )
        super().__init__(f"plugin {plugin!r} failed in {hook}: {detail}")


class PluginLoadError(CepError):
    """Some plugins were refused at start-up; the message names each with its reason."""

    def __init__(self, refused: list[tuple[str, str]]) -> None:
        self.refused = refused
        lines = [f"- « {name} » : {reason}" for name, reason in refused]
        super().__init__(
            "Des plugins ont été refusés au démarrage :\n"
            + "\n".join(lines)
            + "\nCorrigez-les, ou désactivez-les avec CEP_DISABLED_PLUGINS=nom1,nom2."
        )


class UnknownOperator(CepError):
    def __init__(self, operator: str) -> None:
        self.operator = operator
        super().__init__(f"Opérateur inconnu ou non installé : « {operator} »")


class CaseNotFound(CepError):
    """No such case for this operator (another operator's case is "not found" too: SEC-01)."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__("Dossier introuvable.")


class VersionConflict(CepError):
    """The case changed since it was read: the edit is refused, nothing is lost (REL-11)."""

    def __init__(self, case_id: str, expected: int, actual: int | None = None) -> None:
        self.case_id = case_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            "Ce dossier a été modifié par quelqu'un d'autre depuis que vous l'avez ouvert. "
            "Rechargez-le, vérifiez les changements, puis refaites votre modification."
        )


class DatabaseConfigError(CepError):
    """The database address is unreadable or names an unsupported backend or driver."""


class DatabaseNotDurable(CepError):
    """The database server runs with settings that may lose acknowledged writes (REL-08)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "Démarrage refusé : la base de données n'est pas configurée de façon durable.\n"
            + "\n".join(f"- {problem}" for problem in problems)
        )


class CaseStateConflict(CepError):
    """The case's state forbids this change (a closed case, a step of another level...).

    Carries French `Issue` values; the HTTP layer answers 409. Nothing was written.
    """

    prefix = "Modification refusée : "

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = tuple(issues)
        super().__init__(self.prefix + " ".join(issue.message for issue in self.issues))


class TransitionRefused(CaseStateConflict):
    """A status change the state machine forbids, the flow does not allow yet (required steps
    missing), or a plugin vetoed (``cep_case_transition``); issue paths are ``status``,
    ``reason``, ``target_operator`` or ``steps.<id>``."""

    prefix = "Changement de statut refusé : "


class UnknownStep(CepError):
    """The step is not part of this case's flow at its current level (HTTP 404)."""

    def __init__(self, step_id: str) -> None:
        self.step_id = step_id
        super().__init__(f"Étape inconnue pour ce dossier à son niveau actuel : « {step_id} ».")
