"""The one topic resolver: exact key, slug or name (any case), never a silent guess."""

from __future__ import annotations

import pytest

from bot.core.models import Topic
from bot.core.topic_lookup import (
    REMOVED_TOPIC,
    UnknownTopic,
    find_exact,
    resolve_topic,
    resolve_topic_list,
    topic_key,
    topic_label,
)
from bot.core.topics import load_default_topics

GUILD = 1578


@pytest.fixture(scope="module")
def taxonomy() -> list[Topic]:
    own = [
        Topic("protein-stuff", "Protein stuff", ("protein",), (), GUILD),
        Topic("folding", "Folding, docking", ("fold",), (), GUILD),
    ]
    return [*load_default_topics(), *own]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("speech-audio", "speech-audio"),
        ("Speech & audio", "speech-audio"),
        ("  SPEECH   &  AUDIO ", "speech-audio"),
        ("Speech-Audio", "speech-audio"),
        ("robotics", "robotics"),
        ("Reinforcement learning", "reinforcement-learning"),
        ("computer vision", "computer-vision"),
        ("Chemistry, biology & materials", "chemistry-biology"),
        # A server topic by its autocomplete value (the key), slug or name.
        (f"{GUILD}:protein-stuff", f"{GUILD}:protein-stuff"),
        ("protein-stuff", f"{GUILD}:protein-stuff"),
        ("PROTEIN STUFF", f"{GUILD}:protein-stuff"),
    ],
)
def test_exact_key_slug_or_name_any_case(taxonomy, text, key) -> None:
    assert topic_key(resolve_topic(taxonomy, text)) == key


@pytest.mark.parametrize(
    ("text", "suggested"),
    [
        # Each of these used to be fuzzy-matched, silently, to the suggested topic.
        ("speach", "Speech & audio"),
        ("multilingual", "Translation & multilingual"),
        ("self supervised", "Self-supervised learning & pretraining"),
        ("protein", "Protein stuff"),
        ("vision", "Computer vision"),
    ],
)
def test_near_misses_are_questions_not_guesses(taxonomy, text, suggested) -> None:
    with pytest.raises(UnknownTopic) as caught:
        resolve_topic(taxonomy, text)
    assert caught.value.typed == text
    assert suggested in caught.value.suggestions
    assert len(caught.value.suggestions) <= 3
    # Suggestions are names people can read and type back, never stored keys.
    assert not any(f"{GUILD}:" in s for s in caught.value.suggestions)
    assert f"did you mean “{caught.value.suggestions[0]}”" in str(caught.value)


@pytest.mark.parametrize("text", ["zzzz", "", "   "])
def test_nothing_close_has_no_suggestions(taxonomy, text) -> None:
    with pytest.raises(UnknownTopic) as caught:
        resolve_topic(taxonomy, text)
    assert caught.value.suggestions == ()
    assert "did you mean" not in str(caught.value)


def test_a_key_not_in_the_taxonomy_names_nothing_and_is_never_echoed(taxonomy) -> None:
    # Another server's topic, or one removed after its autocomplete value was picked.
    other = [*load_default_topics(), Topic("protein-stuff", "Protein stuff", ("p",), (), 99)]
    assert find_exact(other, f"{GUILD}:protein-stuff") is None
    with pytest.raises(UnknownTopic) as caught:
        resolve_topic(taxonomy, f"{GUILD + 1}:protein-stuff")
    assert caught.value.typed == "protein-stuff"
    assert f"{GUILD + 1}:" not in str(caught.value)


def test_a_builtin_is_never_shadowed_by_a_server_topic() -> None:
    builtin = Topic("graphs", "Graphs", ("graph",))
    own = Topic("graph-theory", "graphs", ("graph",), (), GUILD)  # same name, other case
    assert resolve_topic([builtin, own], "GRAPHS") is builtin
    assert resolve_topic([builtin, own], f"{GUILD}:graph-theory") is own


def test_lists_keep_order_drop_repeats_and_allow_commas_in_names(taxonomy) -> None:
    found = resolve_topic_list(
        taxonomy,
        f"robotics, Chemistry, biology & materials,{GUILD}:protein-stuff, Folding, docking,"
        " ROBOTICS ,",
    )
    assert [topic_key(t) for t in found] == [
        "robotics",
        "chemistry-biology",
        f"{GUILD}:protein-stuff",
        f"{GUILD}:folding",
    ]
    assert resolve_topic_list(taxonomy, None) == ()
    assert resolve_topic_list(taxonomy, " , ") == ()


def test_names_in_quotes_are_the_names(taxonomy) -> None:
    """Quotes typed around a name, alone or as an item of a list, are left out (and a
    list holding one ends: it hung before)."""
    assert topic_key(resolve_topic(taxonomy, '"Robotics"')) == "robotics"
    assert topic_key(resolve_topic(taxonomy, " “speech-audio” ")) == "speech-audio"
    found = resolve_topic_list(taxonomy, '"Robotics", ‘Folding, docking’ , speech-audio')
    assert [topic_key(t) for t in found] == ["robotics", f"{GUILD}:folding", "speech-audio"]
    with pytest.raises(UnknownTopic) as caught:
        resolve_topic(taxonomy, '"speach"')
    assert caught.value.typed == "speach"


def test_a_list_fails_on_its_first_unknown_item(taxonomy) -> None:
    with pytest.raises(UnknownTopic) as caught:
        resolve_topic_list(taxonomy, "robotics, speach, zzzz")
    assert caught.value.typed == "speach"
    assert caught.value.suggestions[0] == "Speech & audio"


def test_labels_never_show_a_server_key() -> None:
    names = {"robotics": "Robotics & embodied AI", f"{GUILD}:protein-stuff": "Protein stuff"}
    assert topic_label("robotics", names) == "Robotics & embodied AI"
    assert topic_label(f"{GUILD}:protein-stuff", names) == "Protein stuff"
    assert topic_label("retired-builtin", names) == "retired-builtin"
    assert topic_label(f"{GUILD}:gone", names) is None
    assert REMOVED_TOPIC == "a removed topic"
