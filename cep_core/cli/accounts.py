"""``cep users`` and ``cep tokens``: staff accounts and personal access tokens from a shell.

Passwords are read from the terminal without echo, or from standard input with
``--password-stdin`` (for scripts) — never from an option, which would leave them in the shell
history and the process list. A token's secret is printed once, on standard output alone, so
it can be piped into a secret store.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import TYPE_CHECKING, Any

from cep_core.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from cep_core.cli.french_argparse import FrenchArgumentParser

if TYPE_CHECKING:
    from cep_core.kit import Kit

ROLES = ("counsellor", "manager", "admin")


def add_parsers(commands: Any) -> None:
    users = commands.add_parser(
        "users",
        help="gérer les comptes des professionnels",
        description="Comptes des professionnels : conseillers (counsellor), responsables "
        "d'opérateur (manager), administrateurs de la plateforme (admin).",
    )
    actions = users.add_subparsers(
        dest="users_command", metavar="ACTION", title="actions", parser_class=FrenchArgumentParser
    )
    actions.required = True
    create = actions.add_parser(
        "create",
        help="créer un compte",
        description="Crée un compte. Le mot de passe est demandé sans écho, ou lu sur l'entrée "
        "standard avec --password-stdin. Exemple :\n"
        "  cep users create --email claire.martin@apec.example --name 'Claire Martin' "
        "--role counsellor --operator apec",
    )
    create.add_argument("--email", required=True, help="adresse électronique (identifiant)")
    create.add_argument("--name", required=True, help="nom affiché")
    create.add_argument("--role", required=True, choices=ROLES, help="rôle")
    create.add_argument("--operator", help="opérateur (obligatoire sauf pour admin)")
    create.add_argument(
        "--password-stdin", action="store_true", help="lire le mot de passe sur l'entrée standard"
    )
    listing = actions.add_parser(
        "list", help="lister les comptes", description="Liste les comptes."
    )
    listing.add_argument("--operator", help="seulement cet opérateur")
    listing.add_argument("--json", action="store_true", help="sortie JSON")
    for name, text in (("disable", "désactiver"), ("enable", "réactiver")):
        action = actions.add_parser(
            name,
            help=f"{text} un compte",
            description=f"{text.capitalize()} un compte"
            + (" (ses sessions sont fermées immédiatement)." if name == "disable" else "."),
        )
        action.add_argument("email", metavar="ADRESSE", help="adresse du compte")
    password = actions.add_parser(
        "password",
        help="changer le mot de passe d'un compte",
        description="Change le mot de passe d'un compte et ferme toutes ses sessions.",
    )
    password.add_argument("email", metavar="ADRESSE", help="adresse du compte")
    password.add_argument(
        "--password-stdin", action="store_true", help="lire le mot de passe sur l'entrée standard"
    )

    tokens = commands.add_parser(
        "tokens",
        help="gérer les jetons d'accès à l'API",
        description="Jetons d'accès personnels à l'API (Authorization: Bearer).",
    )
    token_actions = tokens.add_subparsers(
        dest="tokens_command", metavar="ACTION", title="actions", parser_class=FrenchArgumentParser
    )
    token_actions.required = True
    new = token_actions.add_parser(
        "create",
        help="créer un jeton pour un compte",
        description="Crée un jeton et l'affiche une seule fois sur la sortie standard.",
    )
    new.add_argument("email", metavar="ADRESSE", help="adresse du compte titulaire")
    new.add_argument("--name", required=True, help="nom du jeton (pour le reconnaître)")
    validity = new.add_mutually_exclusive_group()
    validity.add_argument(
        "--days", type=_days, default=90, help="durée de validité en jours (défaut : 90)"
    )
    validity.add_argument("--no-expiry", action="store_true", help="sans date d'expiration")
    token_list = token_actions.add_parser(
        "list", help="lister les jetons", description="Liste les jetons (jamais leur secret)."
    )
    token_list.add_argument("--operator", help="seulement cet opérateur")
    token_list.add_argument("--email", help="seulement ce titulaire")
    token_list.add_argument("--json", action="store_true", help="sortie JSON")
    revoke = token_actions.add_parser(
        "revoke", help="révoquer un jeton", description="Révoque un jeton (définitivement)."
    )
    revoke.add_argument(
        "token_id", metavar="IDENTIFIANT", help="identifiant du jeton (cep tokens list)"
    )


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre de jours attendu : « {value} »") from None
    if not 1 <= days <= 366:
        raise argparse.ArgumentTypeError(f"entre 1 et 366 jours : {days}")
    return days


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        _err(
            "cep : mot de passe attendu : lancez la commande dans un terminal, ou --password-stdin"
        )
        return None
    first = getpass.getpass("Mot de passe : ")
    if getpass.getpass("Confirmez le mot de passe : ") != first:
        _err("cep : les deux saisies ne sont pas identiques")
        return None
    return first


def _open_kit() -> Kit | None:
    from cep_core.cli.commands import _kit, _upgrade

    kit = _kit()
    if kit is None:
        return None
    if not _upgrade(kit):
        kit.close()
        return None
    return kit


def users(args: argparse.Namespace) -> int:
    from cep_core.services.accounts import AccountError

    kit = _open_kit()
    if kit is None:
        return EXIT_FAILURE
    try:
        action = args.users_command
        if action == "list":
            found = kit.accounts.list_users(args.operator)
            if args.json:
                print(json.dumps([_user_json(u) for u in found], ensure_ascii=False, indent=2))
            else:
                for user in found:
                    state = "actif" if user.active else "désactivé"
                    fields = (user.email, user.display_name, user.role, user.operator or "-", state)
                    print("\t".join(fields))
                _err(f"{len(found)} compte(s).")
            return EXIT_OK
        if action == "create":
            if args.role != "admin" and not args.operator:
                _err("cep : --operator est obligatoire pour un conseiller ou un responsable")
                return EXIT_USAGE
            if args.operator and args.operator not in {i.id for i in kit.hooks.operators()}:
                _err(f"cep : opérateur inconnu : « {args.operator} »")
                return EXIT_USAGE
            password = _read_password(args.password_stdin)
            if password is None:
                return EXIT_USAGE
            user = kit.accounts.create_user(
                email=args.email,
                display_name=args.name,
                role=args.role,
                operator=args.operator,
                password=password,
            )
            print(f"Compte créé : {user.email} ({user.role}, {user.operator or 'plateforme'}).")
            return EXIT_OK
        existing = kit.accounts.find_user(args.email)
        if existing is None:
            _err(f"cep : aucun compte pour « {args.email} »")
            return EXIT_FAILURE
        if action in ("disable", "enable"):
            kit.accounts.set_active(existing.id, action == "enable")
            state = "réactivé" if action == "enable" else "désactivé"
            print(f"Compte {state} : {existing.email}.")
            return EXIT_OK
        password = _read_password(args.password_stdin)
        if password is None:
            return EXIT_USAGE
        kit.accounts.set_password(existing.id, password)
        print(f"Mot de passe changé pour {existing.email} ; ses sessions sont fermées.")
        return EXIT_OK
    except AccountError as exc:
        _err(f"cep : {exc}")
        return EXIT_USAGE
    finally:
        kit.close()


def tokens(args: argparse.Namespace) -> int:
    from cep_core.services.accounts import TOKEN_CACHE_SECONDS, AccountError

    kit = _open_kit()
    if kit is None:
        return EXIT_FAILURE
    try:
        action = args.tokens_command
        if action == "create":
            user = kit.accounts.find_user(args.email)
            if user is None or not user.active:
                _err(f"cep : aucun compte actif pour « {args.email} »")
                return EXIT_FAILURE
            if user.operator is None:
                _err("cep : un compte d'administration n'a pas accès à l'API des dossiers")
                return EXIT_USAGE
            secret, token = kit.accounts.create_token(
                user, name=args.name, valid_days=None if args.no_expiry else args.days
            )
            expiry = token.expires_at.date().isoformat() if token.expires_at else "jamais"
            _err(f"Jeton « {token.name} » ({token.id}) créé pour {user.email}, expire : {expiry}.")
            _err("Copiez-le maintenant : il ne sera plus affiché.")
            print(secret)
            return EXIT_OK
        if action == "list":
            owner = None
            if args.email:
                found_user = kit.accounts.find_user(args.email)
                if found_user is None:
                    _err(f"cep : aucun compte pour « {args.email} »")
                    return EXIT_FAILURE
                owner = found_user.id
            found = kit.accounts.list_tokens(operator=args.operator, user_id=owner)
            emails = {u.id: u.email for u in kit.accounts.list_users(None)}
            now = kit.clock()
            if args.json:
                print(
                    json.dumps(
                        [_token_json(t, emails, now) for t in found], ensure_ascii=False, indent=2
                    )
                )
            else:
                for token in found:
                    row = _token_json(token, emails, now)
                    print(
                        "\t".join(
                            str(row[k]) for k in ("id", "owner", "name", "state", "expires_at")
                        )
                    )
                _err(f"{len(found)} jeton(s).")
            return EXIT_OK
        revoked = kit.accounts.revoke_token(args.token_id, operator=None)
        if revoked is None:
            _err(f"cep : aucun jeton « {args.token_id} »")
            return EXIT_FAILURE
        print(f"Jeton révoqué : {revoked.name} ({revoked.id}).")
        _err(
            f"Les serveurs en service le refusent au plus tard dans {TOKEN_CACHE_SECONDS} "
            "secondes (ils gardent en mémoire les jetons vus à l'instant)."
        )
        return EXIT_OK
    except AccountError as exc:
        _err(f"cep : {exc}")
        return EXIT_USAGE
    finally:
        kit.close()


def _user_json(user: Any) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": str(user.role),
        "operator": user.operator,
        "active": user.active,
    }


def _token_json(token: Any, emails: dict[str, str], now: Any) -> dict[str, Any]:
    state = "révoqué" if token.revoked_at else ("actif" if token.usable(now) else "expiré")
    return {
        "id": token.id,
        "owner": emails.get(token.user_id, token.user_id),
        "operator": token.operator,
        "name": token.name,
        "hint": token.hint,
        "state": state,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
    }
