"""The Discord-limit validator: every rule caught on its own, valid payloads accepted."""

from __future__ import annotations

import copy

import pytest

from bot.core.limits import (
    assert_valid_message,
    embed_length,
    interaction_response_problems,
    message_problems,
)


def valid_payload() -> dict:
    """A payload sitting exactly on many limits at once, which must still pass."""
    return {
        "content": "c" * 2000,
        "embeds": [
            {
                "title": "t" * 256,
                "url": "https://arxiv.org/abs/2403.01234",
                "description": "d" * 300,
                "color": 0xFFFFFF,
                "fields": [{"name": "n", "value": "v", "inline": True}],
                "footer": {"text": "f"},
                "author": {"name": "a"},
            }
        ],
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 1, "label": "b" * 80, "custom_id": "x" * 100},
                    {"type": 2, "style": 5, "label": "Open", "url": "https://example.org"},
                ],
            },
            {
                "type": 1,
                "components": [
                    {
                        "type": 3,
                        "custom_id": "pick",
                        "placeholder": "p" * 150,
                        "options": [
                            {"label": "l" * 100, "value": "v" * 100, "description": "d" * 100}
                        ],
                    }
                ],
            },
        ],
        "allowed_mentions": {"parse": []},
    }


def only_problem(payload: dict, needle: str) -> None:
    """Exactly one problem, and it names the rule: precise, not just 'something broke'."""
    problems = message_problems(payload)
    assert len(problems) == 1, problems
    assert needle in problems[0], problems


def test_valid_payload_passes() -> None:
    assert message_problems(valid_payload()) == []
    assert_valid_message(valid_payload())


def test_minimal_payloads_pass() -> None:
    assert message_problems({"content": "hi", "allowed_mentions": {"parse": []}}) == []
    assert message_problems({"embeds": [{"title": "x"}], "allowed_mentions": {"parse": []}}) == []
    assert (
        message_problems(
            {"content": "hi", "allowed_mentions": {"parse": [], "users": [], "roles": []}}
        )
        == []
    )


def test_content_too_long() -> None:
    payload = valid_payload()
    payload["content"] = "c" * 2001
    only_problem(payload, "content is 2001 chars")


def test_content_must_be_string() -> None:
    payload = valid_payload()
    payload["content"] = 5
    only_problem(payload, "content must be a string")


def test_too_many_embeds() -> None:
    payload = {
        "content": "",
        "embeds": [{"title": "x"} for _ in range(11)],
        "allowed_mentions": {"parse": []},
    }
    only_problem(payload, "11 embeds")


@pytest.mark.parametrize(
    ("key", "limit"),
    [("title", 256), ("description", 4096)],
)
def test_embed_text_limits(key: str, limit: int) -> None:
    payload = valid_payload()
    payload["embeds"][0][key] = "x" * (limit + 1)
    only_problem(payload, f"embeds[0].{key} is {limit + 1} chars")


def test_too_many_fields() -> None:
    payload = valid_payload()
    payload["embeds"][0]["fields"] = [{"name": "n", "value": "v"}] * 26
    only_problem(payload, "26 fields")


def test_field_name_too_long() -> None:
    payload = valid_payload()
    payload["embeds"][0]["fields"][0]["name"] = "n" * 257
    only_problem(payload, "fields[0].name is 257 chars")


def test_field_value_too_long() -> None:
    payload = valid_payload()
    payload["embeds"][0]["fields"][0]["value"] = "v" * 1025
    only_problem(payload, "fields[0].value is 1025 chars")


def test_field_value_empty() -> None:
    payload = valid_payload()
    payload["embeds"][0]["fields"][0]["value"] = "   "
    only_problem(payload, "fields[0].value must not be empty")


def test_footer_too_long() -> None:
    payload = valid_payload()
    payload["embeds"][0]["footer"]["text"] = "f" * 2049
    only_problem(payload, "footer.text is 2049 chars")


def test_author_name_too_long() -> None:
    payload = valid_payload()
    payload["embeds"][0]["author"]["name"] = "a" * 257
    only_problem(payload, "author.name is 257 chars")


def test_total_embed_chars_over_6000() -> None:
    # Each embed is individually fine (4000 < 4096) but together they pass 6000.
    payload = {
        "embeds": [{"description": "d" * 3000}, {"description": "d" * 3001}],
        "allowed_mentions": {"parse": []},
    }
    only_problem(payload, "embeds total 6001 chars")


def test_total_embed_chars_exactly_6000_passes() -> None:
    payload = {
        "embeds": [
            {"title": "t" * 100, "description": "d" * 2900},
            {
                "description": "d" * 2000,
                "footer": {"text": "f" * 500},
                "author": {"name": "a" * 250},
            },
            {"fields": [{"name": "n" * 125, "value": "v" * 125}]},
        ],
        "allowed_mentions": {"parse": []},
    }
    assert sum(embed_length(e) for e in payload["embeds"]) == 6000
    assert message_problems(payload) == []


def test_embed_length_counts_what_discord_counts() -> None:
    embed = {
        "title": "ab",
        "description": "cde",
        "url": "https://not-counted.example/" + "x" * 100,
        "fields": [{"name": "f", "value": "gh"}, {"name": "i", "value": "j"}],
        "footer": {"text": "kl", "icon_url": "https://not.counted"},
        "author": {"name": "m", "url": "https://not.counted"},
        "color": 123,
    }
    assert embed_length(embed) == 2 + 3 + 1 + 2 + 1 + 1 + 2 + 1


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "ftp://example.org/x", "example.org", "https://", "http://a b"],
)
def test_embed_url_must_be_http(url: str) -> None:
    payload = valid_payload()
    payload["embeds"][0]["url"] = url
    problems = message_problems(payload)
    assert problems and all("embeds[0].url" in p for p in problems), problems


def test_embed_url_too_long() -> None:
    payload = valid_payload()
    payload["embeds"][0]["url"] = "https://example.org/" + "x" * 2100
    only_problem(payload, "embeds[0].url is")


def test_embed_color_out_of_range() -> None:
    payload = valid_payload()
    payload["embeds"][0]["color"] = 0x1000000
    only_problem(payload, "color")


def test_empty_embed_is_rejected() -> None:
    payload = {"content": "x", "embeds": [{"color": 1}], "allowed_mentions": {"parse": []}}
    only_problem(payload, "embeds[0] is empty")


def test_allowed_mentions_missing() -> None:
    payload = valid_payload()
    del payload["allowed_mentions"]
    only_problem(payload, "allowed_mentions is missing")


@pytest.mark.parametrize(
    "mentions",
    [
        {"parse": ["everyone"]},
        {"parse": ["users"]},
        {"parse": [], "users": ["123"]},
        {"parse": [], "roles": ["456"]},
        {"users": []},
        None,
        {"parse": [], "everyone": True},
    ],
)
def test_allowed_mentions_must_parse_nothing(mentions: dict | None) -> None:
    payload = valid_payload()
    payload["allowed_mentions"] = mentions
    only_problem(payload, "allowed_mentions")


def test_empty_message() -> None:
    only_problem({"content": "", "embeds": [], "allowed_mentions": {"parse": []}}, "no content")
    only_problem({"content": "  \n ", "allowed_mentions": {"parse": []}}, "no content")


def test_components_only_message_is_allowed() -> None:
    payload = valid_payload()
    del payload["content"], payload["embeds"]
    assert message_problems(payload) == []


def test_partial_edit_may_clear_content() -> None:
    edit = {"content": "", "allowed_mentions": {"parse": []}}
    assert message_problems(edit, partial=True) == []
    only_problem(edit, "no content")
    # ...but once it carries text, it must still suppress mentions.
    assert message_problems({"content": "x"}, partial=True) == [
        'allowed_mentions is missing (must be {"parse": []})'
    ]


def test_button_only_edit_is_allowed() -> None:
    # discord.py's `message.edit(view=None)`: no text, so nothing to mention either.
    assert message_problems({"components": []}) == []
    assert message_problems({"components": [], "allowed_mentions": {"parse": []}}) == []
    only_problem({"components": [], "allowed_mentions": {"parse": ["everyone"]}}, "parse")


def test_too_many_action_rows() -> None:
    payload = valid_payload()
    row = {"type": 1, "components": [{"type": 2, "style": 2, "label": "x", "custom_id": "a"}]}
    payload["components"] = [copy.deepcopy(row) for _ in range(6)]
    for i, r in enumerate(payload["components"]):
        r["components"][0]["custom_id"] = f"id{i}"
    only_problem(payload, "6 action rows")


def test_too_many_buttons_in_row() -> None:
    payload = valid_payload()
    payload["components"][0]["components"] = [
        {"type": 2, "style": 2, "label": str(i), "custom_id": f"b{i}"} for i in range(6)
    ]
    only_problem(payload, "6 buttons")


def test_select_must_be_alone_in_row() -> None:
    payload = valid_payload()
    select = payload["components"][1]["components"][0]
    payload["components"][1]["components"].append(
        {"type": 2, "style": 1, "label": "x", "custom_id": "other"}
    )
    assert select["type"] == 3
    only_problem(payload, "mixes a select")


def test_button_label_too_long() -> None:
    payload = valid_payload()
    payload["components"][0]["components"][0]["label"] = "b" * 81
    only_problem(payload, "label is 81 chars")


def test_button_custom_id_too_long() -> None:
    payload = valid_payload()
    payload["components"][0]["components"][0]["custom_id"] = "x" * 101
    only_problem(payload, "custom_id is 101 chars")


def test_button_without_custom_id() -> None:
    payload = valid_payload()
    del payload["components"][0]["components"][0]["custom_id"]
    only_problem(payload, "custom_id is required")


def test_link_button_needs_http_url() -> None:
    payload = valid_payload()
    payload["components"][0]["components"][1]["url"] = "javascript:alert(1)"
    only_problem(payload, "url must be an http/https/discord URL")


def test_duplicate_custom_ids() -> None:
    payload = valid_payload()
    payload["components"][1]["components"][0]["custom_id"] = "x" * 100
    only_problem(payload, "duplicates")


def test_select_option_count() -> None:
    payload = valid_payload()
    select = payload["components"][1]["components"][0]
    select["options"] = []
    only_problem(payload, "0 options")
    select["options"] = [{"label": str(i), "value": str(i)} for i in range(26)]
    only_problem(payload, "26 options")


@pytest.mark.parametrize(("key", "limit"), [("label", 100), ("value", 100), ("description", 100)])
def test_select_option_text_limits(key: str, limit: int) -> None:
    payload = valid_payload()
    payload["components"][1]["components"][0]["options"][0][key] = "o" * (limit + 1)
    only_problem(payload, f"options[0].{key} is {limit + 1} chars")


def test_select_placeholder_too_long() -> None:
    payload = valid_payload()
    payload["components"][1]["components"][0]["placeholder"] = "p" * 151
    only_problem(payload, "placeholder is 151 chars")


def test_select_max_values_beyond_options() -> None:
    payload = valid_payload()
    payload["components"][1]["components"][0]["max_values"] = 2
    only_problem(payload, "max_values (2) exceeds")


def test_assert_valid_message_lists_every_problem() -> None:
    payload = valid_payload()
    payload["content"] = "c" * 2001
    payload["embeds"][0]["title"] = "t" * 257
    with pytest.raises(AssertionError) as err:
        assert_valid_message(payload)
    assert "content is 2001" in str(err.value)
    assert "title is 257" in str(err.value)


def test_interaction_responses() -> None:
    assert interaction_response_problems({"type": 5}) == []
    assert interaction_response_problems({"type": 4, "data": valid_payload()}) == []
    # "update message" is an edit: components alone are fine.
    assert interaction_response_problems({"type": 7, "data": {"components": []}}) == []
    bad = interaction_response_problems({"type": 4, "data": {"content": "x" * 2001}})
    assert any("content is 2001" in p for p in bad)
    assert any("allowed_mentions" in p for p in bad)
    choices = [{"name": "n" * 101, "value": "v"}]
    assert interaction_response_problems({"type": 8, "data": {"choices": choices}})
    assert interaction_response_problems({"type": 42})
