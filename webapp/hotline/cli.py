"""``gridmap hotline …``: API clients of the hotline API from the command line.

``add-client`` prints the token once: the database keeps only its hash.
"""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp import clitools
from webapp.auditing import record_event

CLI_USER = "cli"


@click.group("hotline")
def hotline() -> None:
    """API clients of the 12345 hotline API (docs/hotline-api.md)."""


def _session() -> Session:
    return Session(clitools.engine())


@hotline.command("add-client")
@click.argument("name")
@click.option(
    "--community",
    "communities",
    multiple=True,
    help="Community code the client may report into (repeat); default: every community.",
)
def add_client(name: str, communities: tuple[str, ...]) -> None:
    """Create client NAME and print its token (shown this once)."""
    from webapp.models import Community

    from .queries import ClientError, create_client

    with _session() as session:
        ids = None
        if communities:
            found = dict(
                session.execute(
                    select(Community.code, Community.id).where(Community.code.in_(communities))
                ).all()
            )
            unknown = sorted(set(communities) - set(found))
            if unknown:
                raise click.ClickException(f"unknown community code: {', '.join(unknown)}")
            ids = list(found.values())
        try:
            client, token = create_client(session, name, ids, CLI_USER)
        except ClientError as err:
            raise click.ClickException(err.message) from None
        record_event(
            session,
            action="create",
            entity="hotline_client",
            entity_id=client.id,
            username=CLI_USER,
            summary=f"新建接口账号 {client.name}(范围:{client.scope_label})",
        )
        session.commit()
    click.echo(f"created hotline client {name!r}; its token (shown only now):")
    click.echo(token)


@hotline.command("revoke")
@click.argument("name")
def revoke_client(name: str) -> None:
    """Revoke client NAME: its token stops working at once."""
    from .queries import ClientError, by_name, revoke

    with _session() as session:
        try:
            client = by_name(session, name)
            revoke(session, client)
        except ClientError as err:
            raise click.ClickException(err.message) from None
        record_event(
            session,
            action="update",
            entity="hotline_client",
            entity_id=client.id,
            username=CLI_USER,
            summary=f"停用接口账号 {client.name}",
        )
        session.commit()
    click.echo(f"revoked hotline client {name!r}")


@hotline.command("list")
def list_clients() -> None:
    """The clients, their scope and state."""
    from .queries import clients

    with _session() as session:
        for client in clients(session):
            state = "active" if client.active else "revoked"
            used = client.last_used_at.isoformat(timespec="seconds") if client.last_used_at else "-"
            click.echo(
                f"{client.name}\t{state}\t…{client.token_hint}\t{client.scope_label}\t{used}"
            )
