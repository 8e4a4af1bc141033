"""`batch-scheduler sandbox`: serve the stand-in API in the foreground until Ctrl-C/SIGTERM."""

from __future__ import annotations

from typing import Any

import click

from batch_scheduler.i18n import _
from batch_scheduler.sandbox.config import SandboxConfig
from batch_scheduler.sandbox.server import build_server


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port (0: any free).")
@click.option("--seed", type=int, help="Seed for the injected faults and generated ids.")
@click.option("--latency", type=float, help="Seconds added to every API call.")
@click.option("--latency-jitter", type=float, help="Up to this many more seconds, seeded.")
@click.option("--rate-limit", type=float, help="Requests per second per token; then 429.")
@click.option("--error-rate", type=float, help="Fraction of API calls answered 5xx (no change).")
@click.option(
    "--drop-rate",
    type=float,
    help="Fraction of creates and cancels stored and then left without an answer.",
)
@click.option(
    "--duplicate-references",
    type=click.Choice(["reject", "allow"]),
    help="A reference used twice: 422 (reject) or a second appointment (allow).",
)
@click.option(
    "--throttle-rate", type=float, help="Fraction of API calls answered 429, Retry-After 0."
)
@click.option(
    "--spike-rate", type=float, help="Fraction of API calls answered late, after the work."
)
@click.option("--spike-delay", type=float, help="Seconds those late answers wait.")
@click.option("--burst-start", type=int, help="API call number where a 5xx burst begins (1-based).")
@click.option("--burst-length", type=int, help="How many calls the burst lasts.")
@click.option("--revoke-tokens-at", type=int, help="At this API call every token issued gets 401.")
@click.option("--token-lifetime", type=float, help="Seconds a token from /oauth2/token lasts.")
@click.option("--client-id", help="OAuth2 client id the token endpoint accepts.")
@click.option("--client-secret", help="OAuth2 client secret (a sandbox value, not a real one).")
@click.option("--static-token", help="A bearer token that is always accepted.")
def sandbox_command(host: str, port: int, **knobs: Any) -> None:
    """Serve a stand-in for the SQOD Appointments API, with seeded faults, for tests and demos."""
    try:
        config = SandboxConfig(**{k: v for k, v in knobs.items() if v is not None})
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        server, sock, _state, base_url = build_server(config, host, port)
    except OSError as exc:
        cannot = _("Cannot listen on {address}: {why}")
        address = f"{host}:{port}"
        raise click.ClickException(cannot.format(address=address, why=exc.strerror)) from None
    click.echo(_("Sandbox API:  {url}").format(url=base_url))
    click.echo(_("Token URL:    {url}").format(url=f"{base_url}/oauth2/token"))
    click.echo(_("Static token: {token}").format(token=config.static_token))
    click.echo(_("Press Ctrl-C to stop."))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    click.echo(_("Sandbox stopped."))
