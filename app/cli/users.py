"""`flask users create|token|list|deactivate`."""

from __future__ import annotations

import click

from app.domain.errors import DomainError
from app.domain.roles import Role
from app.services import users
from app.services.actors import Actor

group = click.Group("users", help="Manage users and API tokens.")


@group.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(Role.values()))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default="")
def create(email: str, role: str, password: str, name: str) -> None:
    """Create a user."""
    try:
        user = users.create_user(email=email, name=name, role=role, password=password, actor=Actor.cli())
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Created {user.email} ({user.role}).")


@group.command("token")
@click.argument("email")
@click.option("--name", default="CLI token", help="A label to tell tokens apart.")
def token(email: str, name: str) -> None:
    """Issue an API token; the token is printed alone on the last line."""
    user = users.find_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with e-mail {email}.")
    try:
        _, plain = users.issue_token(user.id, name, actor=Actor.cli())
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"API token for {user.email} ({user.role}); it is shown only once:", err=True)
    click.echo(plain)


@group.command("list")
def list_users() -> None:
    """List users."""
    for user in users.list_users():
        click.echo(f"{user.email:40} {user.role:8} {'active' if user.active else 'inactive'}")
