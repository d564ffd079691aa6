"""`flask users create` and `flask users token`."""

from click.testing import CliRunner


def test_users_create_and_token_last_line_is_the_token(app, client):
    runner = CliRunner()
    created = runner.invoke(app.cli, ["users", "create", "--email", "cli@example.com", "--role", "manager",
                                      "--password", "long-password-1"])
    assert created.exit_code == 0, created.output
    issued = runner.invoke(app.cli, ["users", "token", "cli@example.com"])
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip().splitlines()[-1]
    assert token.startswith("od_")
    response = client.get("/api/v1/channels", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_users_create_refuses_bad_input(app):
    runner = CliRunner()
    short = runner.invoke(app.cli, ["users", "create", "--email", "x@example.com", "--role", "ops",
                                    "--password", "short"])
    assert short.exit_code != 0 and "at least" in short.output
    bad_role = runner.invoke(app.cli, ["users", "create", "--email", "x@example.com", "--role", "boss",
                                       "--password", "long-password-1"])
    assert bad_role.exit_code != 0
    unknown = runner.invoke(app.cli, ["users", "token", "nobody@example.com"])
    assert unknown.exit_code != 0 and "No user" in unknown.output
