"""The default taxonomy and the topic matcher, checked against the bundled sample dump."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.core.topics as topics_mod
from bot.core.dedupe import paper_words
from bot.core.models import Topic, TopicHit
from bot.core.text import (
    _normalize_title_unicode,
    _words_unicode,
    normalize_title,
    word_tuple,
    words,
)
from bot.core.topic_lookup import find_exact, suggest_topics
from bot.core.topics import (
    DEFAULT_THRESHOLD,
    TopicMatcher,
    compile_topics,
    load_default_topics,
    match_topics,
    normalize_word,
    parse_keyword_list,
    slugify,
    validate_topic,
)

SLUG = re.compile(r"^[-a-z0-9]{1,32}$")
SAMPLE_PAPERS = 98


def sample_papers() -> list[tuple[str, str]]:
    """(title, abstract) pairs from the sample dump, without depending on the parser.

    The dump is blank-line separated paragraphs: 5 of boilerplate and date, then
    alternating title and abstract.
    """
    text = resources.files("bot").joinpath("data/sample_dump.txt").read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()][5:]
    return list(zip(paragraphs[0::2], paragraphs[1::2], strict=True))


@pytest.fixture(scope="module")
def papers() -> list[tuple[str, str]]:
    found = sample_papers()
    assert len(found) == SAMPLE_PAPERS
    return found


@pytest.fixture(scope="module")
def taxonomy() -> list[Topic]:
    return load_default_topics()


@pytest.fixture(scope="module")
def tagged(papers, taxonomy) -> dict[str, dict[str, object]]:
    """title -> {slug: TopicHit} for every sample paper."""
    return {
        title: {hit.topic: hit for hit in match_topics(title, abstract, taxonomy)}
        for title, abstract in papers
    }


def tags_of(tagged: dict, title_start: str) -> dict:
    matches = [hits for title, hits in tagged.items() if title.startswith(title_start)]
    assert len(matches) == 1, f"{title_start!r} should name exactly one sample paper"
    return matches[0]


def topic(slug: str = "t", keywords=(), phrases=()) -> Topic:
    return Topic(slug=slug, name=slug.title(), keywords=tuple(keywords), phrases=tuple(phrases))


# --------------------------------------------------------------------------- the file


def test_taxonomy_file_shape():
    raw = json.loads(resources.files("bot").joinpath("data/topics.json").read_text("utf-8"))
    assert 18 <= len(raw) <= 25
    slugs = [entry["slug"] for entry in raw]
    assert len(set(slugs)) == len(slugs)
    for entry in raw:
        assert set(entry) == {"slug", "name", "keywords", "phrases"}, entry["slug"]
        assert SLUG.match(entry["slug"]), entry["slug"]
        assert 0 < len(entry["name"]) <= 100
        assert len(entry["keywords"]) + len(entry["phrases"]) >= 3, entry["slug"]
        for keyword in entry["keywords"]:
            assert len(words(keyword.rstrip("*"))) == 1, keyword
        for phrase in entry["phrases"]:
            assert len(words(phrase)) >= 2, phrase
    # Every entry survives the same validation guild topics get, unchanged.
    loaded = load_default_topics()
    assert [t.slug for t in loaded] == slugs
    for entry, loaded_topic in zip(raw, loaded, strict=True):
        assert loaded_topic.keywords == tuple(entry["keywords"])
        assert loaded_topic.phrases == tuple(entry["phrases"])
        assert loaded_topic.guild_id is None


def test_taxonomy_covers_the_requested_areas(taxonomy):
    slugs = {t.slug for t in taxonomy}
    for wanted in (
        "llm",
        "alignment-rlhf",
        "reasoning-math",
        "agents",
        "code",
        "multimodal",
        "computer-vision",
        "video",
        "speech-audio",
        "robotics",
        "reinforcement-learning",
        "biomedical",
        "chemistry-biology",
        "translation-multilingual",
        "recommendation-retrieval",
        "graphs",
        "efficiency",
        "safety-security",
        "datasets-benchmarks",
        "self-supervised",
    ):
        assert wanted in slugs


def test_load_default_topics_hands_out_copies():
    first = load_default_topics()
    first[0].keywords = ("mutated",)
    first.pop()
    second = load_default_topics()
    assert second[0].keywords != ("mutated",)
    assert len(second) == len(first) + 1


# --------------------------------------------------------------------------- the sample


SPEECH_TITLES = (
    "W2v-BERT: Combining Contrastive Learning and Masked Language Modeling",
    "Self-Supervised Speech Representation Learning: A Review",
    "Speech Analysis of Language Varieties in Italy",
    "Enhancing the Stability of LLM-based Speech Generation Systems",
    "A Study of Gender Impact in Self-supervised Models for Speech-to-Text",
)


def test_every_speech_title_is_tagged_speech(tagged):
    speech_titles = [t for t in tagged if "speech" in t.casefold()]
    assert len(speech_titles) == len(SPEECH_TITLES)
    for title in SPEECH_TITLES:
        assert "speech-audio" in tags_of(tagged, title), title


@pytest.mark.parametrize(
    ("title_start", "expected"),
    [
        ("Long-context Protein Language Model", {"chemistry-biology"}),
        ("InstructProtein:", {"chemistry-biology"}),
        ("Large-Scale Chemical Language Representations", {"chemistry-biology"}),
        ("Crystal Transformer:", {"chemistry-biology"}),
        ("RAD-DINO:", {"biomedical", "computer-vision"}),
        ("Generalization in Healthcare AI:", {"biomedical", "llm"}),
        ("Okapi:", {"translation-multilingual", "alignment-rlhf", "llm"}),
        ("ChrEn: Cherokee-English Machine Translation", {"translation-multilingual"}),
        ("CodeAttack:", {"safety-security", "code"}),
        ("PLUM: Preference Learning Plus Test Cases", {"code", "alignment-rlhf"}),
        ("Goal Representations for Instruction Following", {"robotics"}),
        ("NNetscape Navigator:", {"agents"}),
        ("Language Models can Solve Computer Tasks", {"agents"}),
        ("Token-Supervised Value Models for Enhancing Mathematical", {"reasoning-math"}),
        ("Supervised Chain of Thought", {"reasoning-math"}),
        ("VLANet:", {"video"}),
        ("Rewrite Caption Semantics:", {"computer-vision", "multimodal"}),
        ("GraphGPT:", {"graphs", "llm"}),
        ("LoRAMoE:", {"efficiency"}),
        ("Self-supervised Learning for Large-scale Item Recommendations", {"self-supervised"}),
        (
            "Self-supervised Learning for Large-scale Item Recommendations",
            {"recommendation-retrieval"},
        ),
        ("MMInstruct:", {"multimodal", "datasets-benchmarks"}),
        ("How Does Vision-Language Adaptation Impact the Safety", {"safety-security"}),
        ("SuperHF:", {"alignment-rlhf"}),
        ("Imitating Language via Scalable Inverse Reinforcement", {"reinforcement-learning"}),
    ],
)
def test_sample_papers_get_the_expected_topics(tagged, title_start, expected):
    got = tags_of(tagged, title_start)
    assert expected <= set(got), sorted(got)


@pytest.mark.parametrize(
    ("title_start", "unexpected"),
    [
        ("Speech Analysis of Language Varieties in Italy", "robotics"),
        ("Speech Analysis of Language Varieties in Italy", "computer-vision"),
        ("Long-context Protein Language Model", "speech-audio"),
        ("Long-context Protein Language Model", "biomedical"),
        # Mentions "spoken" and "speakers" of a language once each: linguistics, not audio.
        ("ChrEn: Cherokee-English Machine Translation", "speech-audio"),
        ("RAD-DINO:", "chemistry-biology"),
        ("CodeAttack:", "robotics"),
        # Uses benchmarks like every paper; does not introduce one.
        ("Token-Supervised Value Models for Enhancing Mathematical", "datasets-benchmarks"),
        ("Balancing Speciality and Versatility", "speech-audio"),
    ],
)
def test_sample_papers_do_not_get_wrong_topics(tagged, title_start, unexpected):
    assert unexpected not in tags_of(tagged, title_start)


AUDIO_WORDS = ("speech", "audio", "spoken", "voice", "acoustic", "sound", "music", "asr", "tts")


def test_speech_topic_needs_an_audio_word(papers, tagged):
    checked = 0
    for title, abstract in papers:
        text = set(words(f"{title} {abstract}"))
        if not any(w in text or w + "s" in text for w in AUDIO_WORDS):
            checked += 1
            assert "speech-audio" not in tagged[title], title
    assert checked > 80  # the sample is mostly not about audio


def test_no_topic_swallows_the_sample(tagged):
    counts = Counter(slug for hits in tagged.values() for slug in hits)
    for slug, n in counts.items():
        if slug != "llm":  # the sample is a page of language-model papers
            assert n <= 0.6 * SAMPLE_PAPERS, (slug, n)
    assert sum(1 for hits in tagged.values() if hits) >= 90
    # And the taxonomy is not dead weight on a real page: most topics fire somewhere.
    assert len(counts) >= 18


def test_hits_are_sorted_and_explained(papers, taxonomy, tagged):
    rules = {t.slug: {*t.keywords, *t.phrases} for t in taxonomy}
    for title, abstract in papers:
        hits = match_topics(title, abstract, taxonomy)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        for hit in hits:
            assert hit.score >= DEFAULT_THRESHOLD
            assert hit.why
            for reason in hit.why:
                where, _, rule = reason.partition(": ")
                assert where in ("title", "abstract"), reason
                assert rule in rules[hit.topic], reason
    w2v = tags_of(tagged, "W2v-BERT")["speech-audio"]
    assert "title: speech" in w2v.why
    review = tags_of(tagged, "Self-Supervised Speech Representation Learning")
    assert "title: self-supervised" in review["self-supervised"].why
    assert review["speech-audio"].why[0] == "title: speech"  # title reasons come first


def test_all_papers_against_the_taxonomy_runs(papers, taxonomy):
    """Not a benchmark (the bench times ingest): just exercise the bulk path, warm and
    cold, and check the compiled matcher's memo changes no answer."""
    matcher = compile_topics(taxonomy)
    warm = [matcher.match(title, abstract) for title, abstract in papers]
    results = [match_topics(title, abstract, taxonomy) for title, abstract in papers]
    assert [matcher.match(title, abstract) for title, abstract in papers] == warm
    assert len(results) == SAMPLE_PAPERS


# --------------------------------------------------------------------------- scoring


LONG_FILLER = " ".join(["We study a method and report results on several settings."] * 12)


def test_one_passing_mention_in_a_long_abstract_does_not_tag():
    robotics = topic("robotics", keywords=["robot*", "manipulation"])
    abstract = f"{LONG_FILLER} It might one day help a robot. {LONG_FILLER}"
    assert match_topics("A new optimiser", abstract, [robotics]) == []
    # ...but a title mention does, and so do two distinct rules in the abstract.
    assert match_topics("Robots that learn", LONG_FILLER, [robotics])
    two = f"{LONG_FILLER} A robot for manipulation. {LONG_FILLER}"
    (hit,) = match_topics("A new optimiser", two, [robotics])
    assert hit.why == ("abstract: robot*", "abstract: manipulation")


def test_title_outweighs_abstract_and_phrases_outweigh_keywords():
    t = topic(keywords=["speech"], phrases=["speech recognition"])
    (title_hit,) = match_topics("Speech", "", [t])
    (abstract_hit,) = match_topics("", "speech speech speech speech", [t])
    assert title_hit.score > abstract_hit.score
    phrase_only = topic(phrases=["score matching"])
    keyword_only = topic(keywords=["matching"])
    (p,) = match_topics("Score matching", "", [phrase_only])
    (k,) = match_topics("Score matching", "", [keyword_only])
    assert p.score > k.score


def test_repeats_have_diminishing_returns():
    t = topic(keywords=["alpha", "beta", "gamma", "delta"])
    (repeated,) = match_topics("", "alpha " * 8, [t])
    (distinct,) = match_topics("", "alpha beta gamma delta", [t])
    assert repeated.score < distinct.score
    (more,) = match_topics("", "alpha " * 16, [t])
    assert repeated.score < more.score < 2 * repeated.score


def test_weak_words_need_more_than_a_mention_in_the_abstract():
    datasets = topic("datasets", keywords=["dataset", "benchmark"])
    assert match_topics("", "We evaluate on a dataset and a benchmark.", [datasets]) == []
    assert match_topics("A Dataset for Parsing", "", [datasets])


def test_plurals_hyphens_and_case_match():
    t = topic(keywords=["model", "study", "LoRA"], phrases=["self-supervised", "language model"])
    (hit,) = match_topics("Studies of MODELS", "", [t])
    assert set(hit.why) == {"title: study", "title: model"}
    (hit,) = match_topics("Self Supervised Language-Models", "", [t])
    assert set(hit.why) >= {"title: self-supervised", "title: language model"}
    assert match_topics("LORA adapters", "", [t])[0].why == ("title: LoRA",)
    assert normalize_word("models") == normalize_word("model")
    assert normalize_word("class") == "class"  # "ss" is not a plural


def test_prefixes_match_word_starts_only():
    t = topic(keywords=["robot*", "gen*", "genom*"])
    (hit,) = match_topics("Robotics and robotic robots", "", [t])
    assert hit.why == ("title: robot*",)
    assert match_topics("Microrobots", "", [t]) == []
    # Nested prefixes both fire.
    (hit,) = match_topics("Genomics", "", [t])
    assert set(hit.why) == {"title: gen*", "title: genom*"}


def test_phrases_need_consecutive_words():
    t = topic(phrases=["score matching"])
    assert match_topics("Score-based and matching", "", [t]) == []
    assert match_topics("Denoising score matching", "", [t])
    (hit,) = match_topics("", "score matching. Score matching! score  matching", [t])
    assert hit.score == pytest.approx(1.5 * (1 + 0.5 * math.log2(3)), abs=1e-3)


def test_a_keyword_in_two_topics_tags_both_and_scores_sort():
    a = topic("a", keywords=["protein"])
    b = topic("b", keywords=["protein", "folding"])
    hits = match_topics("Protein folding", "", [a, b])
    assert [h.topic for h in hits] == ["b", "a"]


def test_empty_text_and_empty_topics():
    t = topic(keywords=["speech"])
    assert match_topics("", "", [t]) == []
    assert match_topics("Speech", "speech", []) == []
    assert match_topics("Speech", "", [topic("empty")]) == []


def test_threshold_zero_means_matched_at_all():
    t = topic(keywords=["speech"])
    assert match_topics("", "one speech", [t], threshold=0.0)[0].why == ("abstract: speech",)
    assert match_topics("", "nothing here", [t, topic("u", keywords=["x1"])], threshold=0.0) == []


def test_editing_a_topic_in_place_is_picked_up():
    t = topic(keywords=["speech"])
    assert match_topics("Audio", "", [t]) == []
    t.keywords = ("audio",)
    assert match_topics("Audio", "", [t])


def test_match_words_equals_match(papers, taxonomy):
    matcher = TopicMatcher(taxonomy)
    for title, abstract in papers[:20]:
        assert matcher.match_words(words(title), words(abstract)) == matcher.match(title, abstract)


def test_memo_reset_does_not_change_results(papers, taxonomy, monkeypatch):
    expected = [TopicMatcher(taxonomy).match(t, a) for t, a in papers]
    monkeypatch.setattr(topics_mod, "_MEMO_LIMIT", 300)
    small = TopicMatcher(taxonomy)
    assert [small.match(t, a) for t, a in papers] == expected
    # Bounded: what the topics themselves name, plus at most one text's new words.
    assert len(small._seen) <= len(small._static) + 300


VOCAB = ["robot", "robots", "Robotics", "speech", "Speeches", "self", "supervised", "self-"]
VOCAB += ["score", "matching", "model", "models", "language", "the", "of", "studies", "ß"]


@settings(max_examples=200, deadline=None)
@given(
    title=st.lists(st.sampled_from(VOCAB), max_size=8).map(" ".join),
    abstract=st.lists(st.sampled_from(VOCAB) | st.text(max_size=8), max_size=40).map(" ".join),
)
def test_results_do_not_depend_on_what_the_matcher_saw_before(title, abstract):
    topics = [
        topic("r", keywords=["robot*"], phrases=["self-supervised"]),
        topic("s", keywords=["speech", "studies"], phrases=["score matching", "language model"]),
    ]
    warm = compile_topics(topics)
    warm.match(" ".join(VOCAB), abstract)
    fresh = TopicMatcher(topics)
    assert warm.match(title, abstract) == fresh.match(title, abstract)
    # Casefolding happens before matching (the title only holds VOCAB words).
    assert fresh.match(title.upper(), abstract) == fresh.match(title, abstract)


# --------------------------------------------------------------------------- reference
# A deliberately plain matcher: it reads the rules the way `TopicMatcher` documents,
# then walks the words of each text once per rule. The optimised matcher (memo, phrase
# triggers, substring counts, compile cache) must give exactly the same hits.


def _reference_rules(topics: list[Topic]) -> list[dict]:
    rules: list[dict] = []

    def new(index: int, label: str, weight: float, factor: float = 1.0, **how) -> None:
        rules.append(
            {
                "id": len(rules),
                "topic": index,
                "label": label,
                "title_gain": topics_mod.TITLE_WEIGHT * weight,
                "abstract_weight": topics_mod.ABSTRACT_WEIGHT * weight * factor,
                **how,
            }
        )

    def phrase(index: int, text: str, weight: float) -> None:
        norms = [normalize_word(w) for w in words(text.replace("*", " "))]
        if len(norms) == 1:
            new(index, text, 1.0, exact=norms[0])
        elif norms:
            new(index, text, weight, phrase=norms)

    for index, t in enumerate(topics):
        for keyword in t.keywords:
            keyword = keyword.strip()
            if keyword.endswith("*"):
                body = keyword.rstrip("*")
                toks = words(body)
                if len(toks) == 1 and len(toks[0]) >= topics_mod.MIN_PREFIX_CHARS:
                    new(index, keyword, 1.0, prefix=toks[0])
                    continue
                keyword = body
            toks = words(keyword)
            if len(toks) == 1:
                norm = normalize_word(toks[0])
                weak = topics_mod.WEAK_ABSTRACT_FACTOR if norm in topics_mod.WEAK_WORDS else 1.0
                new(index, keyword, 1.0, weak, exact=norm)
            elif len(toks) > 1:
                phrase(index, keyword, 1.0)
        for text in t.phrases:
            phrase(index, text, topics_mod.PHRASE_WEIGHT)
    return rules


def _reference_counts(rules: list[dict], text: str) -> dict[int, int]:
    """Rule id -> occurrences, in the documented order: keyword and prefix rules as
    their words first occur (per word: exact rules, then prefixes shortest first), then
    phrases (counted left to right without overlap) as their first words first occur."""
    raw = _words_unicode(text)  # the slow path, so the fast tokeniser is checked too
    norm = [normalize_word(w) for w in raw]
    counts: dict[int, int] = {}
    for word, folded in zip(raw, norm, strict=True):
        exact = [r for r in rules if r.get("exact") == folded]
        prefixed = [r for r in rules if "prefix" in r and word.startswith(r["prefix"])]
        prefixed.sort(key=lambda r: (len(r["prefix"]), r["id"]))
        for r in exact + prefixed:
            counts[r["id"]] = counts.get(r["id"], 0) + 1
    found = []
    for r in rules:
        if "phrase" not in r:
            continue
        size, i, n = len(r["phrase"]), 0, 0
        while i + size <= len(norm):
            if norm[i : i + size] == r["phrase"]:
                n, i = n + 1, i + size
            else:
                i += 1
        if n:
            found.append((norm.index(r["phrase"][0]), r["id"], n))
    for _, rule_id, n in sorted(found):
        counts[rule_id] = n
    return counts


def reference_match(
    topics: list[Topic], title: str, abstract: str, threshold: float = DEFAULT_THRESHOLD
) -> list[TopicHit]:
    rules = _reference_rules(topics)
    in_title = _reference_counts(rules, title)
    in_abstract = _reference_counts(rules, abstract)
    scores: dict[int, float] = {}
    for rule_id in in_title:
        r = rules[rule_id]
        scores[r["topic"]] = scores.get(r["topic"], 0.0) + r["title_gain"]
    for rule_id, n in in_abstract.items():
        r = rules[rule_id]
        gain = 1.0 + 0.5 * math.log2(n)
        scores[r["topic"]] = scores.get(r["topic"], 0.0) + r["abstract_weight"] * gain
    hits = []
    for index, score in scores.items():
        if score < threshold - 1e-9:
            continue
        why = [f"title: {rules[i]['label']}" for i in in_title if rules[i]["topic"] == index]
        mine = [i for i in in_abstract if rules[i]["topic"] == index]
        mine.sort(key=in_abstract.__getitem__, reverse=True)
        why += [f"abstract: {rules[i]['label']}" for i in mine]
        hits.append(TopicHit(topics[index].slug, round(score, 3), tuple(why[: topics_mod.MAX_WHY])))
    hits.sort(key=lambda h: (-h.score, h.topic))
    return hits


# Words that exercise plurals (model/models, study/studies, "ss"), prefixes (nested, and
# a prefix that is also a plural), stop words inside phrases, repeated phrase words
# ("step by step"), NFKC (the "ﬁ" ligature) and casefolding ("ß" -> "ss").
RULE_WORDS = ["model", "models", "study", "studies", "class", "step", "by", "in", "of", "a"]
RULE_WORDS += ["language", "context", "learning", "robot", "robots", "gen", "genomics"]
RULE_WORDS += ["data", "speech", "self", "supervised", "ﬁne", "fine", "tuning", "ss", "ß"]
_KEYWORDS = st.sampled_from(RULE_WORDS) | st.sampled_from(
    ["robot*", "gen*", "genom*", "studi*", "ab*", "self-supervised", "fine-tuning", " Model "]
)
_PHRASES = st.lists(st.sampled_from(RULE_WORDS), min_size=1, max_size=4).map(" ".join)
_PHRASES |= st.sampled_from(["step by step", "in context learning", "language model", "x*y"])
_TOPICS = st.lists(
    st.builds(
        lambda slug, keywords, phrases: Topic(slug, slug, tuple(keywords), tuple(phrases)),
        st.sampled_from(["a", "b", "c", "d"]),
        st.lists(_KEYWORDS, max_size=4),
        st.lists(_PHRASES, max_size=4),
    ),
    min_size=1,
    max_size=4,
)
_TEXT_WORDS = st.sampled_from([*RULE_WORDS, "Models", "STUDIES", "robotics", "x", "Step-by-step"])


def texts(topics: list[Topic]) -> st.SearchStrategy[str]:
    """Text made of the topics' own rules (so several phrases of one topic occur, in
    any order and repeated), rule-like words and arbitrary snippets."""
    rules = [rule for t in topics for rule in (*t.keywords, *t.phrases)]
    pieces = _TEXT_WORDS | st.text(max_size=6)
    if rules:
        pieces |= st.sampled_from(rules).map(lambda rule: rule.replace("*", "s"))
    return st.lists(pieces, max_size=40).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(topics=_TOPICS, data=st.data(), threshold=st.sampled_from([DEFAULT_THRESHOLD, 0.0, 3.0]))
def test_matcher_equals_the_reference(topics, data, threshold):
    title = data.draw(texts(topics), label="title")
    abstract = data.draw(texts(topics), label="abstract")
    expected = reference_match(topics, title, abstract, threshold)
    fresh = TopicMatcher(topics)
    assert fresh.match(title, abstract, threshold) == expected
    # The cached matcher, warmed up on other text first, and the tokenised entry point.
    warm = compile_topics(topics)
    warm.match(abstract, title + " " + " ".join(RULE_WORDS))
    assert match_topics(title, abstract, topics, threshold) == expected
    assert warm.match_words(words(title), words(abstract), threshold) == expected


def test_matcher_equals_the_reference_on_the_sample(papers, taxonomy):
    matcher = compile_topics(taxonomy)
    for title, abstract in papers:
        assert matcher.match(title, abstract) == reference_match(taxonomy, title, abstract)


def test_compile_cache_sees_in_place_edits_of_list_rules():
    t = Topic("t", "T", ["speech"], [])  # lists, as a caller might pass them
    assert match_topics("Audio", "", [t]) == []
    t.keywords.append("audio")
    assert match_topics("Audio", "", [t])
    t.keywords.clear()
    assert match_topics("Audio", "", [t]) == []


# --------------------------------------------------------------------------- tokenising

_ASCII = st.text(alphabet=st.characters(max_codepoint=127), max_size=300)


@settings(max_examples=300, deadline=None)
@given(_ASCII)
def test_ascii_fast_path_equals_nfkc_path(text):
    assert text.isascii()
    assert words(text) == _words_unicode(text)
    assert normalize_title(text) == _normalize_title_unicode(text)
    assert word_tuple(text) == tuple(_words_unicode(text))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=100), st.text(max_size=300))
def test_tokenising_any_text_matches_the_definition(title, abstract):
    for text in (title, abstract):
        nfkc = unicodedata.normalize("NFKC", text).casefold()
        assert words(text) == re.findall(r"[^\W_]+", nfkc)
        assert normalize_title(text) == re.sub(r"[\W_]+", "", nfkc)
    # The vocabulary of a new paper reuses the words topic tagging just split.
    assert paper_words(title, abstract) == tuple(sorted(set(words(title)) | set(words(abstract))))


# --------------------------------------------------------------------------- validation


def test_validate_topic_accepts_and_cleans():
    t = validate_topic(
        "diffusion",
        "  Diffusion   models ",
        ["Diffusion", "denois*", "diffusions", "DDPM"],
        ["score  matching", "Score-Matching"],
        guild_id=42,
    )
    assert t.name == "Diffusion models"
    assert t.keywords == ("Diffusion", "denois*", "DDPM")  # "diffusions" duplicates "Diffusion"
    assert t.phrases == ("score matching",)
    assert t.guild_id == 42
    assert match_topics("DDPMs for score matching", "", [t])


@pytest.mark.parametrize(
    ("slug", "name", "keywords", "phrases", "message"),
    [
        ("Bad Slug", "x", ["a1"], [], "lowercase"),
        ("x" * 33, "x", ["a1"], [], "1-32"),
        ("", "x", ["a1"], [], "1-32"),
        ("ok", "   ", ["a1"], [], "name is empty"),
        ("ok", "n" * 101, ["a1"], [], "longer than 100"),
        ("ok", "ok", [], [], "at least one"),
        ("ok", "ok", ["two words"], [], "one word"),
        ("ok", "ok", ["self-supervised"], [], "one word"),
        ("ok", "ok", ["c++"], [], "one word"),
        ("ok", "ok", ["a*"], [], "too short"),
        ("ok", "ok", ["x"], [], "too short"),
        ("ok", "ok", ["ro*bot"], [], "at the end"),
        ("ok", "ok", ["k" * 51], [], "longer than 50"),
        ("ok", "ok", [f"kw{i}" for i in range(26)], [], "at most 25"),
        ("ok", "ok", ["kw"], ["single"], "single word"),
        ("ok", "ok", ["kw"], ["score match*"], "only works on single"),
        ("ok", "ok", ["kw"], ["a b c d e f g"], "more than 6"),
        ("ok", "ok", ["kw"], ["-- !!"], "no letters"),
        ("ok", "ok", "speech", [], "lists"),
    ],
)
def test_validate_topic_rejects(slug, name, keywords, phrases, message):
    with pytest.raises(ValueError, match=message) as info:
        validate_topic(slug, name, keywords, phrases)
    assert "\n" not in str(info.value)


def test_parse_keyword_list():
    assert parse_keyword_list('diffusion, "score matching", denois*') == (
        ("diffusion", "denois*"),
        ("score matching",),
    )
    # Phone keyboards send curly quotes; quoted phrases need no comma between them.
    assert parse_keyword_list("“flow matching” “rectified flow”") == (
        (),
        ("flow matching", "rectified flow"),
    )
    # Commas separate items; an unquoted multi-word or hyphenated item is a phrase.
    assert parse_keyword_list("reinforcement learning; robots\nself-supervised, , ") == (
        ("robots",),
        ("reinforcement learning", "self-supervised"),
    )
    assert parse_keyword_list('"LoRA"') == (("LoRA",), ())
    assert parse_keyword_list("") == ((), ())


@pytest.mark.parametrize(
    ("text", "message"), [('"score matching', "unbalanced"), ("a, *", "no letters")]
)
def test_parse_keyword_list_rejects(text, message):
    with pytest.raises(ValueError, match=message):
        parse_keyword_list(text)


def test_parsed_list_feeds_validate_topic():
    keywords, phrases = parse_keyword_list('diffusion, "score matching", denois*, c++')
    with pytest.raises(ValueError, match="c\\+\\+"):
        validate_topic("diffusion", "Diffusion", keywords, phrases)
    keywords, phrases = parse_keyword_list('diffusion, "score matching", denois*')
    t = validate_topic(slugify("Diffusion Models!"), "Diffusion models", keywords, phrases)
    assert t.slug == "diffusion-models"
    (hit,) = match_topics("Denoising score matching", "", [t])
    assert set(hit.why) == {"title: denois*", "title: score matching"}


def test_slugify():
    assert slugify("Speech & Audio") == "speech-audio"
    assert slugify("Café — Déjà vu") == "cafe-deja-vu"
    assert SLUG.match(slugify("x" * 80))
    assert slugify("!!!") == ""


# --------------------------------------------------------------------------- lookup


def test_a_slug_in_any_case_finds_its_topic(taxonomy):
    # The one exact lookup (bot.core.topic_lookup) replaced topics.topic_by_slug.
    assert find_exact(taxonomy, "speech-audio").name == "Speech & audio"
    assert find_exact(taxonomy, " Speech-Audio ").slug == "speech-audio"
    assert find_exact(taxonomy, "speech") is None


def test_suggest_topics(taxonomy):
    assert suggest_topics(taxonomy, "", limit=25) == taxonomy[:25]
    assert suggest_topics(taxonomy, "vision")[0].slug == "computer-vision"
    picked = suggest_topics(taxonomy, "learning", limit=3)
    assert len(picked) <= 3 and len({t.slug for t in picked}) == len(picked)
