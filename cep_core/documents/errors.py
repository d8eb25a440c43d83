"""Why a document was not produced, in French, for the person who asked for it."""

from __future__ import annotations

from cep_core.errors import CepError


class DocumentError(CepError):
    """A document could not be produced; ``str(error)`` is the French message to show."""

    code = "document_error"


class RenderTimeout(DocumentError):
    """The render took longer than the time limit; its worker was killed and replaced."""

    code = "render_timeout"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(
            f"La mise en page du document a dépassé le temps limite ({seconds:g} s) : elle a "
            "été interrompue et le document n'a pas été produit. Un contenu anormalement long "
            "en est souvent la cause."
        )


class RenderCrashed(DocumentError):
    """The worker died while rendering (out of memory, killed by the system)."""

    code = "render_crashed"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(
            "Le moteur de mise en page s'est arrêté pendant la production du document "
            f"({detail}) ; le document n'a pas été produit. Réessayez ; si l'erreur persiste, "
            "le contenu est probablement trop volumineux."
        )


class RenderFailed(DocumentError):
    """WeasyPrint raised; the message says what kind of problem it was, never the content."""

    code = "render_failed"

    def __init__(self, kind: str, detail: str = "") -> None:
        self.kind = kind
        self.detail = detail
        reasons = {
            "memory": "le document demande plus de mémoire que la limite autorisée",
            "recursion": "le document est imbriqué trop profondément",
            "fetch": "une ressource du document a été refusée",
        }
        reason = reasons.get(kind, "erreur du moteur de mise en page")
        super().__init__(f"Le document n'a pas pu être produit : {reason}.")


class RenderBusy(DocumentError):
    """Every worker stayed busy for longer than the wait allowed."""

    code = "render_busy"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(
            "Trop de documents sont en cours de production : aucun n'a pu démarrer en "
            f"{seconds:g} s. Réessayez dans un instant."
        )


class RenderPoolClosed(DocumentError):
    code = "render_pool_closed"

    def __init__(self) -> None:
        super().__init__("Le service de production des documents est arrêté.")


class DocumentTooLarge(DocumentError):
    """The HTML exceeds the size limit: refused before any worker is used."""

    code = "document_too_large"

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            f"Le document est trop volumineux ({size // 1024} Kio pour {limit // 1024} Kio au "
            "plus) : raccourcissez les textes les plus longs du dossier, puis réessayez."
        )


class NoRenderer(DocumentError):
    code = "no_renderer"

    def __init__(self) -> None:
        super().__init__("Aucun moteur de production des PDF n'est installé.")
