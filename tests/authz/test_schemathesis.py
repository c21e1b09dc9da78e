"""Schemathesis against /openapi.json, in-process: without credentials and with a Bearer token.

Two runs over every operation of the schema, with a fixed derandomised seed and a few examples
each so it fits the suite's time budget:

* without credentials — no 5xx, and every operation that is not public answers 401 (FastAPI's
  schema declares no security scheme, so schemathesis's ``ignored_auth`` cannot see which
  operations need a login; :func:`requires_credentials` is that check, with the public
  routes the matrix derives from the policy);
* with an operator's personal API token (Bearer: no cookie, so no CSRF header) — no 5xx. Half
  of the examples use the authorisation world's real ids, so writes reach real objects.

The app is called in-process through its ASGI interface: no network. The figures are printed
(``pytest -rP``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.checks import not_a_server_error

from tests.authz.test_matrix import PUBLIC, Route, build_cell
from tests.authz.world import World, build, families, offline_dns

SEED = 20261129
EXAMPLES = 2  # per operation, without credentials
TOKEN_EXAMPLES = 2  # per operation, with the token: generated ids …
FIXED_EXAMPLES = 2  # … and the world's ids in the path
HEALTHZ = ("GET", "/healthz")


@dataclass
class Run:
    name: str
    operations: int = 0
    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    # protected operations that answered another 4xx than 401 without credentials
    before_login: defaultdict[tuple[str, str], set[int]] = field(
        default_factory=lambda: defaultdict(set))

    def line(self) -> str:
        return (f"schemathesis [{self.name}]: {self.operations} operations, {self.calls} calls, "
                f"{len(self.failures)} failures, statuses "
                f"{dict(sorted(self.statuses.items()))}")


def _key(case: Any) -> tuple[str, str]:
    return case.operation.method.upper(), case.operation.path


def requires_credentials(ctx: Any, response: Any, case: Any) -> bool | None:
    """A protected operation must not answer 2xx without credentials (it ignored them)."""
    key = _key(case)
    if key in PUBLIC or key == HEALTHZ or not 200 <= response.status_code < 300:
        return None
    raise AssertionError(f"{key[0]} {key[1]} answered {response.status_code} without "
                         "credentials")


def _exercise(run: Run, strategy: Any, examples: int, headers: dict[str, str],
              checks: list[Any]) -> None:
    @seed(SEED)
    @settings(max_examples=examples, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def one(case: Any) -> None:
        response = case.call(headers=headers)
        run.calls += 1
        run.statuses[response.status_code] += 1
        if not headers and response.status_code not in (401,) and 400 <= response.status_code < 500 \
                and _key(case) not in PUBLIC:
            run.before_login[_key(case)].add(response.status_code)
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # a FailureGroup: keep going, report all
            run.failures.append(f"{case.method} {case.formatted_path} → "
                                f"{response.status_code}: {_summary(exc)}")

    one()


def _summary(exc: BaseException) -> str:
    """The check's title and the curl line that reproduces it (a FailureGroup's text)."""
    lines = [line.strip() for line in str(exc).splitlines()]
    titles = [line for line in lines if line.startswith("- ")]
    curl = [line for line in lines if line.startswith("curl ")]
    body = [line for line in lines if line.startswith("`{")]
    return " | ".join((titles or [repr(exc)])[:1] + body[:1] + curl[:1])


def _operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", _answering(app))
    return [result.ok() for result in schema.get_all_operations()]


def _answering(app: Any) -> Any:
    """The app, minus the re-raise: Starlette sends the 500 and then raises the error again,
    which would end the run at the first one instead of counting it like any response."""
    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        try:
            await app(scope, receive, send)
        except Exception:  # the 500 response has been sent; not_a_server_error reports it
            if scope.get("type") != "http":
                raise

    return asgi


def _fixed_path(operation: Any, w: World) -> dict[str, Any] | None:
    """The world's own-side ids for the operation's path parameters (None: cannot fill)."""
    params = tuple(p.name for p in operation.path_parameters)
    if not params:
        return None
    route = Route(operation.method.upper(), operation.path, params, {}, (), None)
    fam = families(w, "operator")
    try:
        cell = build_cell(route, "operator", "own", w, fam)
    except (KeyError, TypeError):
        return None
    values = dict(zip(params, _split(route.path, cell.url), strict=False))
    return values or None


def _split(template: str, url: str) -> list[str]:
    """The values of a path template's parameters in a filled URL."""
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{[a-z_]+\\\}", "([^/]+?)", pattern)
    match = re.fullmatch(pattern, url)
    return list(match.groups()) if match else []


@pytest.fixture
def world(session, settings, monkeypatch) -> World:  # type: ignore[no-untyped-def]
    offline_dns(monkeypatch)
    return build(session, settings)


def test_without_credentials(app, world: World) -> None:  # type: ignore[no-untyped-def]
    run = Run("no credentials")
    for operation in _operations(app):
        run.operations += 1
        _exercise(run, operation.as_strategy(), EXAMPLES, {},
                  [not_a_server_error, requires_credentials])
    print(f"\n{run.line()}")
    unexplained = []
    for (method, path), codes in sorted(run.before_login.items()):
        print(f"  without credentials, {sorted(codes)} not 401: {method} {path}")
        unexplained.append(f"{method} {path} → {sorted(codes)}")
    assert run.calls >= run.operations
    assert not run.failures, "\n".join(f[:500] for f in run.failures)
    assert not unexplained, "protected, but not 401 without credentials:\n" + "\n".join(
        unexplained)


def test_with_operator_token(app, world: World) -> None:  # type: ignore[no-untyped-def]
    run = Run("operator Bearer token")
    headers = world.headers("operator")
    for operation in _operations(app):
        run.operations += 1
        _exercise(run, operation.as_strategy(), TOKEN_EXAMPLES, headers, [not_a_server_error])
        fixed = _fixed_path(operation, world)
        if fixed:
            _exercise(run, operation.as_strategy(path_parameters=fixed), FIXED_EXAMPLES,
                      headers, [not_a_server_error])
    print(f"\n{run.line()}")
    assert not run.failures, "\n".join(f[:500] for f in run.failures)


