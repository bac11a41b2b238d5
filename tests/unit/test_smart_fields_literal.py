"""Smart fields render values literally, in one pass (domain/conversations.render): a value is
never read as a template, never tidied, and the template's own text is tidied as before."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import conversations as rules

FIELDS = ("lead.first_name", "lead.last_name", "account.name", "agent.name")


def test_values_go_in_literally() -> None:
    values = {"lead.first_name": "{{account.name}}", "lead.last_name": "{{ lead.first_name | x }}",
              "account.name": "Acme  Honda", "agent.name": None}
    assert rules.render("Hi {{lead.first_name}} {{lead.last_name}}, {{account.name}} here", values) == \
        "Hi {{account.name}} {{ lead.first_name | x }}, Acme  Honda here"
    assert rules.render("Hi {{agent.name}}, {{account.name}}.", values) == "Hi, Acme  Honda."
    assert rules.render("{{agent.name|Our team}} at {{account.name}}", values) == "Our team at Acme  Honda"
    assert rules.render("Hi  {{agent.name}}  there", values) == "Hi there"


@given(st.dictionaries(st.sampled_from(FIELDS), st.text(alphabet="{}|. ax", max_size=20)))
def test_any_value_appears_as_given(values: dict[str, str]) -> None:
    filled = {name: values.get(name) for name in FIELDS}
    marked = {name: f"<{value.strip()}>" if value and value.strip() else None for name, value in filled.items()}
    text = rules.render(" ".join(f"[{{{{{name}}}}}]" for name in FIELDS), marked)
    for value in marked.values():
        if value:
            assert value in text
