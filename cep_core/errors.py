"""Errors the kit raises across layers (each carries a French message for people)."""

from __future__ import annotations


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
