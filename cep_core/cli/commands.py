"""The sub-commands; each builds what it needs from the environment and returns an exit code."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

import msgspec

from cep_core.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from cep_core.domain.issues import InvalidInput, Issue

if TYPE_CHECKING:
    from cep_core.kit import Kit


def err(message: str) -> None:
    print(message, file=sys.stderr)


def _kit(*, strict: bool = True) -> Kit | None:
    """The kit from the environment; with `strict`, refused plugins stop the command."""
    from cep_core.errors import PluginLoadError
    from cep_core.kit import Kit

    kit = Kit()
    if strict:
        try:
            kit.check()
        except PluginLoadError as exc:
            err(f"cep : {exc}")
            kit.close()
            return None
    return kit


def _upgrade(kit: Kit) -> bool:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        kit.database.upgrade()
    except (SQLAlchemyError, OSError) as exc:
        err(
            "cep : impossible de préparer la base de données "
            f"({kit.settings.effective_database_url.split('@')[-1]}) : {exc}"
        )
        return False
    return True


def _seed(kit: Kit, per_operator: int, counsellors: dict[str, list[str]] | None = None) -> int:
    from cep_core.services.demo import seed_demo

    interactive = sys.stderr.isatty()
    shown: set[int] = set()

    def progress(done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if interactive:
            filled = 30 * percent // 100
            bar = "█" * filled + "·" * (30 - filled)
            end = "\n" if done >= total else ""
            print(f"\rDonnées de démonstration [{bar}] {done}/{total}", end=end, file=sys.stderr)
        elif percent // 25 not in shown:  # logs get a line per quarter, not a line per case
            shown.add(percent // 25)
            print(f"Données de démonstration : {done}/{total} ({percent} %)", file=sys.stderr)

    made = seed_demo(kit, per_operator=per_operator, progress=progress, counsellors=counsellors)
    kit.surveys.seed_demo()  # a few questionnaire answers for the activity dashboard
    return made


def serve(args: argparse.Namespace) -> int:
    kit = _kit()
    if kit is None:
        return EXIT_FAILURE
    refusals = kit.settings.startup_problems()
    if args.demo and kit.settings.production:
        refusals.append("--demo est interdit avec CEP_PROFILE=production")
    if refusals:
        for refusal in refusals:
            err(f"cep : {refusal}")
        kit.close()
        return EXIT_FAILURE
    if not _durable(kit) or not _upgrade(kit):  # a database we refuse is not migrated
        return EXIT_FAILURE
    if args.demo:
        counsellors = _demo_accounts(kit)
        created = _seed(kit, 12, counsellors)
        print(f"{created} dossier(s) de démonstration créé(s).", file=sys.stderr)

    import uvicorn

    from cep_core.web.app import create_app

    app = create_app(kit)
    operators = ", ".join(info.id for info in kit.hooks.operators()) or "aucun"
    print(
        f"cep-kit — http://{args.host}:{args.port}/ — base : "
        f"{_safe_url(kit.settings.effective_database_url)} — opérateurs : {operators}",
        file=sys.stderr,
    )
    try:
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level="warning",
            access_log=False,
            server_header=False,
        )
    except OSError as exc:
        err(f"cep : impossible d'écouter sur {args.host}:{args.port} : {exc}")
        return EXIT_FAILURE
    finally:
        kit.close()
    return EXIT_OK


def _durable(kit: Kit) -> bool:
    """REL-08: refuse (message, exit 1) a database that may lose acknowledged writes.

    Warnings are logged by `Database.ensure_durable` (on stderr when logging is not set up),
    once: ``create_app`` checks again without repeating them.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from cep_core.errors import DatabaseNotDurable

    try:
        kit.database.ensure_durable(allow_non_durable=kit.settings.allow_non_durable_database)
    except DatabaseNotDurable as exc:
        err(f"cep : {exc}")
    except (SQLAlchemyError, OSError) as exc:
        err(
            "cep : impossible de joindre la base de données "
            f"({kit.settings.effective_database_url.split('@')[-1]}) : {exc}"
        )
    else:
        return True
    kit.close()
    return False


def _demo_accounts(kit: Kit) -> dict[str, list[str]]:
    """One counsellor and one manager per operator, and an admin, with a shared password;
    returns each operator's demo counsellors, who get the demo cases."""
    from cep_core.domain.context import Role
    from cep_core.services.demo import DEMO_DOMAIN, DEMO_PASSWORD, seed_demo_accounts

    created = seed_demo_accounts(kit)
    if created:
        print(f"{len(created)} compte(s) de démonstration créé(s).", file=sys.stderr)
    print(
        f"Comptes de démonstration : conseiller.<opérateur>@{DEMO_DOMAIN}, "
        f"responsable.<opérateur>@{DEMO_DOMAIN}, admin@{DEMO_DOMAIN} — mot de passe "
        f"« {DEMO_PASSWORD} ».",
        file=sys.stderr,
    )
    counsellors: dict[str, list[str]] = {}
    for user in kit.accounts.list_users(None):
        if user.role is Role.COUNSELLOR and user.operator and user.email.endswith(DEMO_DOMAIN):
            counsellors.setdefault(user.operator, []).append(user.id)
    return counsellors


def _safe_url(url: str) -> str:
    """Hide the password of a database URL before printing it."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<URL invalide>"


def db(args: argparse.Namespace) -> int:
    kit = _kit(strict=False)
    if kit is None:  # pragma: no cover - non-strict always builds
        return EXIT_FAILURE
    try:
        if not _upgrade(kit):
            return EXIT_FAILURE
        print(
            f"Base à jour (révision {kit.database.current_revision()}) : "
            f"{_safe_url(kit.settings.effective_database_url)}"
        )
        return EXIT_OK
    finally:
        kit.close()


def plugins(args: argparse.Namespace) -> int:
    from cep_core.plugins import describe

    kit = _kit(strict=False)
    assert kit is not None
    registry = kit.registry
    today = kit.today()
    status = EXIT_FAILURE if registry.refused else EXIT_OK
    if args.json:
        payload: dict[str, Any] = {
            "loaded": [
                {**describe(r), "label": r.info.label(today)}
                for r in sorted(registry.records.values(), key=lambda r: r.info.id)
            ],
            "refused": [
                {
                    "name": r.name,
                    "distribution": r.distribution,
                    "version": r.version,
                    "reason": r.reason,
                }
                for r in registry.refused
            ],
            "disabled": [
                {"name": d.name, "distribution": d.distribution, "why": d.why}
                for d in registry.disabled
            ],
        }
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(payload)).decode() + "\n")
        return status
    kinds = {"operator": "opérateur", "capability": "capacité", "policy": "politique"}
    print(f"Plugins chargés ({len(registry.records)})")
    for record in sorted(registry.records.values(), key=lambda r: r.info.id):
        version = record.version or ("intégré" if record.builtin else "?")
        hooks = ", ".join(h for h in record.hooks if h != "cep_plugin_info")
        print(
            f"  {record.info.id:<18} {version:<8} {kinds[record.info.kind]:<11} "
            f"{record.info.label(today)}"
        )
        print(f"  {'':<18} hooks : {hooks or '—'}")
    if registry.refused:
        print(f"\nPlugins refusés ({len(registry.refused)})")
        for refusal in registry.refused:
            origin = f" ({refusal.distribution} {refusal.version})" if refusal.distribution else ""
            print(f"  {refusal.name}{origin} : {refusal.reason}")
    if registry.disabled:
        print(f"\nPlugins désactivés ({len(registry.disabled)})")
        for disabled in registry.disabled:
            print(f"  {disabled.name} : {disabled.why}")
    kit.close()
    return status


def plugin(args: argparse.Namespace) -> int:
    """``cep plugin new NAME [--dir DIR]``: write a new operator plugin distribution."""
    from pathlib import Path

    from cep_core.scaffold import ScaffoldError, generate, project_folder

    parent = Path(args.dir)
    folder = project_folder(args.name, parent)
    try:
        written = generate(args.name, parent)
    except ScaffoldError as exc:
        err(f"cep : {exc}")
        return EXIT_FAILURE
    except OSError as exc:
        err(f"cep : impossible d'écrire le plugin dans « {folder} » ({exc.strerror})")
        return EXIT_FAILURE
    print(f"Plugin « {args.name} » créé dans {folder} ({len(written)} fichiers) :")
    for path in written:
        print(f"  {path.relative_to(folder)}")
    print("Pour l'essayer :")
    print(f"  cd {folder}")
    print("  pip install -e .          (dans un projet uv : uv pip install -e .)")
    print("  pytest                    (la vérification de conformité du kit, puis vos tests)")
    print(f"  cep plugins               (« {args.name} » figure parmi les plugins chargés)")
    print("Le guide des auteurs de plugins : docs/plugins.md de cep-kit.")
    return EXIT_OK


def _read_query(args: argparse.Namespace) -> Any:
    """The situation from a JSON file, stdin or the options (exactly one of them)."""
    from cep_core.services.orientation import OrientationQuery
    from cep_core.validation import issues_from_msgspec_error

    option_names = ("birth_date", "as_of", "status", "region")
    flag_names = (
        "cadre",
        "registered_jobseeker",
        "disability_recognition",
        "working",
        "seeking_job",
    )
    uses_options = any(getattr(args, n) is not None for n in option_names) or any(
        getattr(args, n) for n in flag_names
    )
    if args.file is not None and uses_options:
        raise InvalidInput(
            [
                Issue(
                    path="",
                    message="Donnez la situation soit par un fichier "
                    "JSON, soit par des options, pas les deux.",
                )
            ]
        )
    if args.file is not None:
        try:
            raw = sys.stdin.buffer.read() if args.file == "-" else open(args.file, "rb").read()  # noqa: SIM115
        except OSError as exc:
            raise InvalidInput(
                [Issue(path="", message=f"Lecture impossible de « {args.file} » : {exc.strerror}.")]
            ) from None
    elif uses_options:
        payload: dict[str, Any] = {
            n: getattr(args, n) for n in option_names if getattr(args, n) is not None
        }
        payload.update({n: True for n in flag_names if getattr(args, n)})
        raw = msgspec.json.encode(payload)
    elif not sys.stdin.isatty():
        raw = sys.stdin.buffer.read()
    else:
        raise InvalidInput(
            [
                Issue(
                    path="",
                    message="Aucune situation : donnez un fichier JSON, "
                    "- pour l'entrée standard, ou les options --birth-date et "
                    "--status.",
                )
            ]
        )
    try:
        return msgspec.json.decode(raw, type=OrientationQuery)
    except msgspec.DecodeError as exc:
        raise InvalidInput(issues_from_msgspec_error(exc, OrientationQuery)) from None


def orient(args: argparse.Namespace) -> int:
    try:
        query = _read_query(args)
    except InvalidInput as exc:
        _print_issues(exc.issues)
        return EXIT_USAGE
    kit = _kit(strict=False)
    assert kit is not None
    for refusal in kit.registry.refused:
        err(f"cep : attention, plugin « {refusal.name} » refusé : {refusal.reason}")
    try:
        orientation = kit.orientation.orient(query.to_situation(kit.today()))
    except InvalidInput as exc:
        _print_issues(exc.issues)
        return EXIT_USAGE
    finally:
        kit.close()
    from cep_core.web.schemas import OrientationResponse

    body = msgspec.json.encode(OrientationResponse.from_domain(orientation))
    sys.stdout.write(msgspec.json.format(body).decode() + "\n")
    return EXIT_OK


def _print_issues(issues: tuple[Issue, ...] | list[Issue]) -> None:
    err("cep orient : situation invalide :")
    for issue in issues:
        where = f"{issue.path} : " if issue.path else ""
        err(f"  - {where}{issue.message}")


def demo(args: argparse.Namespace) -> int:
    kit = _kit()
    if kit is None:
        return EXIT_FAILURE
    try:
        if not _upgrade(kit):
            return EXIT_FAILURE
        created = _seed(kit, args.per_operator)
        print(
            f"{created} dossier(s) de démonstration créé(s) "
            f"({_safe_url(kit.settings.effective_database_url)})."
        )
        return EXIT_OK
    finally:
        kit.close()


def funding(args: argparse.Namespace) -> int:
    """``cep funding simulate FICHIER|-``: the simulator's JSON in, its JSON answer out."""
    from cep_core.errors import PluginFailure
    from cep_core.services.funding import SimulationQuery
    from cep_core.validation import issues_from_msgspec_error

    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else open(args.file, "rb").read()  # noqa: SIM115
    except OSError as exc:
        _print_funding_issues(
            [Issue(path="", message=f"Lecture impossible de « {args.file} » : {exc.strerror}.")]
        )
        return EXIT_USAGE
    if not raw.strip():
        _print_funding_issues([Issue(path="", message="Demande vide : un objet JSON est attendu.")])
        return EXIT_USAGE
    try:
        query = msgspec.json.decode(raw, type=SimulationQuery, strict=True)
    except msgspec.MsgspecError as exc:
        _print_funding_issues(issues_from_msgspec_error(exc, SimulationQuery))
        return EXIT_USAGE
    kit = _kit(strict=False)
    assert kit is not None
    for refusal in kit.registry.refused:
        err(f"cep : attention, plugin « {refusal.name} » refusé : {refusal.reason}")
    try:
        simulation = kit.funding.simulate(query, kit.today())
    except InvalidInput as exc:
        _print_funding_issues(exc.issues)
        return EXIT_USAGE
    except PluginFailure as exc:
        err(f"cep funding simulate : {exc.message}")
        return EXIT_FAILURE
    finally:
        kit.close()
    body = msgspec.json.encode(simulation.answer())
    sys.stdout.write(msgspec.json.format(body).decode() + "\n")
    return EXIT_OK


def _print_funding_issues(issues: tuple[Issue, ...] | list[Issue]) -> None:
    err("cep funding simulate : demande invalide :")
    for issue in issues:
        where = f"{issue.path} : " if issue.path else ""
        err(f"  - {where}{issue.message}")


def mail(args: argparse.Namespace) -> int:
    """``cep mail send``: deliver the due messages of the outbox, then say what happened."""
    kit = _kit(strict=False)
    assert kit is not None
    try:
        if not _upgrade(kit):
            return EXIT_FAILURE
        outbox = kit.notifications.outbox
        if args.retry_failed:
            requeued = outbox.requeue_failed()
            print(f"Messages remis en file : {requeued}.")
        report = kit.notifications.deliver_pending(limit=args.limit)
        counts = outbox.counts()
        print(
            f"Messages envoyés : {report.sent} ; à réessayer plus tard : {report.retried} ; "
            f"en échec définitif : {report.failed}."
        )
        print(f"File d'attente : {counts.pending} en attente, {counts.failed} en échec.")
        if report.failed:
            err(f"cep mail send : {report.failed} message(s) en échec définitif :")
            for failed in outbox.failed_messages(limit=report.failed):
                err(f"  - {failed.id} ({failed.kind}, {failed.operator}) : {failed.last_error}")
            err("Corrigez la cause, puis relancez avec --retry-failed.")
            return EXIT_FAILURE
        return EXIT_OK
    finally:
        kit.close()
