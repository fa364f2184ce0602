"""Which of an org's keys a model goes to (pure: routes built by hand)."""

from __future__ import annotations

from chatgrid.gateway.directory import OrgRoute, models_served
from chatgrid.identity.models import BillingMode
from chatgrid.providers import Provider


def key(
    provider: Provider, models: set[str], name: str = "", problem: str | None = None
) -> OrgRoute:
    return OrgRoute(
        org_id="org_1",
        mode=BillingMode.BYOK,
        markup_bps=0,
        suspended=False,
        credential_id=f"cred_{provider.value}_{name}",
        provider=provider,
        key_name=name,
        models=frozenset(models),
        problem=problem,
    )


def org(keys: tuple[OrgRoute, ...], choices: dict[str, tuple[Provider, str]]) -> OrgRoute:
    return OrgRoute(
        org_id="org_1",
        mode=BillingMode.BYOK,
        markup_bps=0,
        suspended=False,
        keys=keys,
        by_model=models_served(keys, choices),
    )


OPENAI = key(Provider.OPENAI, {"gpt-4o", "gpt-4o-mini"})
CLAUDE = key(Provider.ANTHROPIC, {"claude-sonnet-4-5"})
LOCAL = key(Provider.OPENAI_COMPATIBLE, {"llama3", "gpt-4o"}, "local")


def test_a_model_goes_to_the_key_that_lists_it_openai_first() -> None:
    route = org((OPENAI, CLAUDE, LOCAL), {})
    assert route.for_model("llama3") is LOCAL
    assert route.for_model("gpt-4o") is OPENAI
    assert route.for_model("claude-sonnet-4-5") is CLAUDE


def test_the_admins_choice_wins_while_its_key_is_usable() -> None:
    assert (
        org((OPENAI, LOCAL), {"gpt-4o": (Provider.OPENAI_COMPATIBLE, "local")}).for_model("gpt-4o")
        is LOCAL
    )
    broken = key(Provider.OPENAI_COMPATIBLE, {"llama3", "gpt-4o"}, "local", problem="broken")
    route = org((OPENAI, broken), {"gpt-4o": (Provider.OPENAI_COMPATIBLE, "local")})
    assert route.for_model("gpt-4o") is OPENAI
    assert route.for_model("llama3") is broken  # only it lists it: refused as broken


def test_a_model_no_key_lists_goes_where_its_name_points_else_the_first_key() -> None:
    route = org((CLAUDE, LOCAL), {})
    assert route.for_model("claude-opus-9") is CLAUDE
    assert route.for_model("gpt-6") is LOCAL  # not to Anthropic
    assert org((OPENAI, LOCAL), {}).for_model("gpt-6") is OPENAI
    assert org((), {}).for_model("gpt-4o").keys == ()
