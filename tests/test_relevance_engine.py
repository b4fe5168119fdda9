"""The relevance engine on real, hand-labelled papers: vectors and their bytes, a
member's model, picks and their why, the threshold, cold start, related papers."""

from __future__ import annotations

import ast
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bot.services.relevance
from bot.core.models import Topic
from bot.core.topics import TopicMatcher, validate_topic
from bot.services.relevance import (
    THRESHOLD,
    CorpusStats,
    Follows,
    PaperText,
    PaperVector,
    Rated,
    Signal,
    build_model,
    candidate_set,
    encode,
    key_terms,
    rank,
    rank_many,
    related,
    score_many,
)
from bot.services.relevance.features import paper_text, terms
from bot.services.relevance.search import KEY_TERMS
from bot.services.relevance.similarity import subset
from tests.relevance_corpus import labelled_corpus

PACKAGE = Path(bot.services.relevance.__file__).parent


def rated(rows, signal=Signal.LIKE) -> list[Rated]:
    _, encoded = labelled_corpus()
    return [Rated(encoded.texts[r], encoded.vectors[r], signal) for r in rows]


def group_rows(group: str) -> list[int]:
    data, _ = labelled_corpus()
    return sorted(data.row[i] for i in data.groups[group])


def encoded_day_rows() -> list[int]:
    data, _ = labelled_corpus()
    return data.days[sorted(data.days)[10]]


def day_of(row: int):
    data, encoded = labelled_corpus()
    return subset(encoded.corpus, data.days[data.papers[row]["day"]])


# --------------------------------------------------------------------------- vectors


def test_vectors_survive_bytes_and_stay_compact() -> None:
    _, encoded = labelled_corpus()
    sizes = []
    for vector in encoded.vectors:
        blob = vector.to_bytes()
        sizes.append(len(blob))
        back = PaperVector.from_bytes(blob)
        assert np.array_equal(back.terms, vector.terms)
        assert np.array_equal(back.dense, vector.dense)
        assert back.scale == pytest.approx(vector.scale)
    # 160 packed features + 256 int8 + scale + header at most.
    assert max(sizes) <= 4 * 160 + 256 + 4 + 6
    assert np.mean(sizes) < 950


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "too short"),
        (b"XX\x01\x00\x00\x00", "not a paper vector"),
        (b"PV\x09\x00\x00\x00", "format 9"),
        (b"PV\x01\x00\x05\x00abc", "wrong length"),
    ],
)
def test_damaged_vector_bytes_are_refused_in_one_line(blob: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        PaperVector.from_bytes(blob)
    assert "\n" not in str(caught.value)


def test_corpus_statistics_survive_bytes() -> None:
    _, encoded = labelled_corpus()
    back = CorpusStats.from_bytes(encoded.stats.to_bytes())
    assert back.n_docs == encoded.stats.n_docs == 4787
    assert np.array_equal(back.df, encoded.stats.df)
    assert len(encoded.stats.to_bytes()) < 2_000_000
    # The embedding sum comes back too, so restored statistics centre embeddings (and
    # score papers) exactly as the ones they were saved from.
    assert np.array_equal(back.embedding_sum, encoded.stats.embedding_sum)
    assert np.any(back.embedding_mean() != 0)
    day = subset(encoded.corpus, encoded_day_rows())
    likes = rated(group_rows("speculative_decoding")[:3])
    assert np.array_equal(
        score_many([build_model(likes, Follows(), back)], day),
        score_many([build_model(likes, Follows(), encoded.stats)], day),
    )
    with pytest.raises(ValueError, match="not paperbot corpus statistics"):
        CorpusStats.from_bytes(b"junk")
    with pytest.raises(ValueError, match="damaged"):
        CorpusStats.from_bytes(encoded.stats.to_bytes()[:13] + b"not zlib")


def test_encoding_and_ranking_are_deterministic() -> None:
    data, encoded = labelled_corpus()
    rows = data.days[sorted(data.days)[10]]
    texts = [encoded.texts[r] for r in rows]
    first, second = CorpusStats(), CorpusStats()
    a = encode(texts, first)
    b = encode(texts, second)
    assert [v.to_bytes() for v in a] == [v.to_bytes() for v in b]
    likes = rated(group_rows("speculative_decoding")[:3])
    day = subset(encoded.corpus, rows)
    one = rank(build_model(likes, Follows(), encoded.stats), day, threshold=None)
    two = rank(build_model(likes, Follows(), encoded.stats), day, threshold=None)
    assert one == two


def test_new_papers_are_counted_once_and_reencoding_counts_nothing() -> None:
    _, encoded = labelled_corpus()
    stats = CorpusStats()
    encode(encoded.texts[:30], stats)
    assert stats.n_docs == 30
    before = stats.df.copy()
    encode(encoded.texts[:30], stats, new=False)
    assert stats.n_docs == 30 and np.array_equal(stats.df, before)


# --------------------------------------------------------------------------- picks


def test_each_pick_says_which_saved_paper_it_is_like_and_which_words() -> None:
    """For every labelled group: save 3 of its papers, rank a held-out paper's real day;
    the held-out pick names one of the saved papers and words from its own text."""
    data, _ = labelled_corpus()
    checked = 0
    for group in data.groups:
        rows = group_rows(group)
        held, saved = rows[0], rows[1:4]
        model = build_model(rated(saved, Signal.SAVE), Follows(), labelled_corpus()[1].stats)
        picks = rank(model, day_of(held), threshold=None)
        pick = next(p for p in picks if p.paper_id == data.papers[held]["id"])
        saved_ids = {data.papers[r]["id"]: data.papers[r]["title"] for r in saved}
        paper_id, title, signal = pick.why.paper
        assert saved_ids[paper_id] == title
        assert signal == "saved"
        assert pick.why.words
        own = set(terms(paper_text(data.papers[held]["title"], data.papers[held]["abstract"])))
        assert set(pick.why.words) <= own
        assert str(pick.why).startswith("like “")
        checked += 1
    assert checked == 41


def test_a_day_with_nothing_close_gives_an_empty_list() -> None:
    """Members who like one subtopic, shown day-sized sets of papers read to be on other
    subjects (distractors and unrelated groups): nearly always nothing passes the
    threshold, never a filler list. Real days are not used here: their unlabelled
    papers may be on the member's subtopic."""
    data, encoded = labelled_corpus()
    outcomes = []
    for group in data.groups:
        model = build_model(rated(group_rows(group)[:3]), Follows(), encoded.stats)
        close = data.siblings(group)
        unrelated = [
            r for r in data.labelled if data.group_of(r) != group and data.group_of(r) not in close
        ]
        rng = random.Random(group)
        for _ in range(3):
            shown = subset(encoded.corpus, rng.sample(unrelated, 40))
            outcomes.append(rank(model, shown) == [])
    assert len(outcomes) == 123
    assert np.mean(outcomes) >= 0.85


def test_rated_papers_are_not_picked_again_and_scores_pass_the_threshold() -> None:
    data, encoded = labelled_corpus()
    rows = group_rows("lean_theorem_proving")
    day_rows = data.days[data.papers[rows[0]]["day"]]
    candidates = subset(encoded.corpus, [*day_rows, *rows[1:4]])
    model = build_model(rated(rows[1:4]), Follows(), encoded.stats)
    picks = rank(model, candidates)
    assert picks and all(p.score >= THRESHOLD for p in picks)
    assert not {p.paper_id for p in picks} & set(model.rated)
    with_rated = rank(model, candidates, exclude_rated=False)
    assert set(model.rated) <= {p.paper_id for p in with_rated}


def test_a_click_updates_the_model_as_a_rebuild_would() -> None:
    _, encoded = labelled_corpus()
    rows = group_rows("zero_shot_tts")[:3] + group_rows("graph_rag")[:3]
    ratings = rated(rows[:5]) + rated(rows[5:], Signal.DISLIKE)
    day = day_of(group_rows("zero_shot_tts")[4])
    clicked = build_model(ratings[:-1], Follows(), encoded.stats)
    clicked.add(ratings[-1], encoded.stats)
    rebuilt = build_model(ratings, Follows(), encoded.stats)
    assert np.allclose(score_many([clicked], day), score_many([rebuilt], day))
    # Undo, and a change of mind (like -> dislike), equal a model built without them.
    clicked.remove(ratings[-1].paper.id)
    assert np.allclose(
        score_many([clicked], day),
        score_many([build_model(ratings[:-1], Follows(), encoded.stats)], day),
    )
    changed = Rated(ratings[0].paper, ratings[0].vector, Signal.DISLIKE)
    clicked.add(changed, encoded.stats)
    expected = build_model([*ratings[1:-1], changed], Follows(), encoded.stats)
    assert clicked.rated[changed.paper.id] is Signal.DISLIKE
    assert np.allclose(score_many([clicked], day), score_many([expected], day))


def test_ranking_many_members_at_once_equals_one_at_a_time() -> None:
    data, encoded = labelled_corpus()
    groups = list(data.groups)[:12]
    models = [
        build_model(
            rated(group_rows(g)[:3]) + rated(group_rows(h)[:1], Signal.DISLIKE),
            Follows(),
            encoded.stats,
        )
        for g, h in zip(groups, reversed(groups), strict=True)
    ]
    day = day_of(group_rows(groups[0])[3])
    assert rank_many(models, day, threshold=None) == [rank(m, day, threshold=None) for m in models]


# --------------------------------------------------------------------------- cold start


def test_with_nothing_known_the_day_comes_in_order_of_popularity() -> None:
    data, encoded = labelled_corpus()
    day = subset(encoded.corpus, data.days["2024-06-18"])
    model = build_model([], Follows(), encoded.stats)
    assert model.mode == "popularity"
    picks = rank(model, day)
    assert len(picks) == len(day)  # no threshold without a model
    upvotes = [day.papers[day.index[p.paper_id]].upvotes for p in picks]
    assert upvotes == sorted(upvotes, reverse=True)
    assert picks[0].why.popular == f"{upvotes[0]} upvotes"
    # A text dump has no upvotes: its order is the page's.
    texts = [PaperText(p.id, p.title, p.abstract, position=n) for n, p in enumerate(day.papers, 1)]
    by_position = candidate_set(
        texts[::-1], [encoded.vectors[data.row[t.id]] for t in texts[::-1]], encoded.stats
    )
    shown = rank(model, by_position, limit=3)
    assert [p.paper_id for p in shown] == [t.id for t in texts[:3]]
    assert [str(p.why) for p in shown] == [f"popular: #{n} on the day's list" for n in (1, 2, 3)]


def test_with_follows_only_the_followed_topic_papers_come_first_with_why() -> None:
    data, encoded = labelled_corpus()
    topic = validate_topic(
        "speech", "Speech & audio", ["speech", "tts", "audio"], ["text to speech", "voice cloning"]
    )
    model = build_model([], Follows(topics=(topic,)), encoded.stats)
    assert model.mode == "follows"
    rows = sorted({r for d in sorted(data.days)[:60] for r in data.days[d]})
    day = subset(encoded.corpus, rows)
    matcher = TopicMatcher([topic])
    matching = {p.id for p in day.papers if matcher.match(p.title, p.abstract)}
    assert len(matching) >= 5
    picks = rank(model, day)
    assert matching <= {p.paper_id for p in picks}
    for pick in picks:
        if pick.paper_id in matching:
            assert any(line.startswith("topic: Speech & audio") for line in pick.why.follows)
            assert pick.why.paper is None
    assert [p.score for p in picks] == sorted((p.score for p in picks), reverse=True)
    # A first like switches the member to their own model, follows still counting.
    liked = build_model(
        rated(group_rows("lora_variants")[:1]), Follows(topics=(topic,)), encoded.stats
    )
    assert liked.mode == "feedback"
    assert matching <= {p.paper_id for p in rank(liked, day)}


def test_a_followed_author_is_matched_through_accents_and_initials() -> None:
    data, encoded = labelled_corpus()
    aya = data.row["2405.15032"]  # by Ahmet Üstün among others
    day = day_of(aya)
    model = build_model([], Follows(authors=("A. Ustun",)), encoded.stats)
    picks = rank(model, day)
    pick = next(p for p in picks if p.paper_id == "2405.15032")
    assert "author: Ahmet Üstün" in pick.why.follows
    assert pick.score >= THRESHOLD


def test_dislikes_push_a_subtopic_down() -> None:
    data, encoded = labelled_corpus()
    likes = rated(group_rows("llm_weight_quantization")[:3])
    diffusion = group_rows("diffusion_model_quantization")
    candidates = subset(encoded.corpus, [*diffusion, *group_rows("llm_weight_quantization")[3:]])
    plain = build_model(likes, Follows(), encoded.stats)
    disliking = build_model(likes + rated(diffusion[:2], Signal.DISLIKE), Follows(), encoded.stats)
    before = score_many([plain], candidates)[0]
    after = score_many([disliking], candidates)[0]
    rows = [candidates.index[data.papers[r]["id"]] for r in diffusion[2:]]
    assert np.all(after[rows] < before[rows])


# --------------------------------------------------------------------------- related


def test_related_never_returns_the_paper_itself() -> None:
    data, encoded = labelled_corpus()
    labelled = subset(encoded.corpus, data.labelled)
    for paper in labelled.papers:
        picks = related(paper.id, labelled, k=5)
        assert paper.id not in {p.paper_id for p in picks}
        assert len(picks) <= 5
        assert [p.score for p in picks] == sorted((p.score for p in picks), reverse=True)
    first = related(data.papers[group_rows("speculative_decoding")[0]]["id"], labelled, k=3)
    assert len(first) == 3 and all(p.why.words for p in first)
    with pytest.raises(KeyError):
        related("not-a-paper", labelled)


def test_related_with_a_duplicate_id_in_the_candidates_still_skips_it() -> None:
    _, encoded = labelled_corpus()
    texts, vectors = encoded.texts[:50], encoded.vectors[:50]
    doubled = candidate_set([*texts, texts[0]], [*vectors, vectors[0]], encoded.stats)
    assert len(doubled) == 50
    assert texts[0].id not in {p.paper_id for p in related(texts[0].id, doubled, k=49)}


# --------------------------------------------------------------------------- purity


def test_the_package_imports_neither_discord_nor_storage() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            else:
                continue
            offenders += [n for n in names if n.split(".")[0] in {"discord", "storage"}]
    assert offenders == []
    assert len(list(PACKAGE.glob("*.py"))) >= 8


def test_it_works_with_the_network_unreachable() -> None:
    """Loading the embedding table and encoding, in a fresh process where opening any
    socket fails: nothing is downloaded, ever."""
    code = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network used")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from bot.services.relevance import CorpusStats, PaperText, encode
vectors = encode([PaperText("a", "Speculative decoding", "Draft then verify.")], CorpusStats())
assert vectors[0].dense is not None and vectors[0].scale > 0
print(sorted(m for m in ("discord", "storage") if m in sys.modules))
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_follow_topics_are_plain_core_topics() -> None:
    # The wiring step passes follows as bot.core Topic objects, keyword follows too.
    keyword = Topic(slug="kw-mamba", name="mamba", keywords=("mamba",))
    _, encoded = labelled_corpus()
    model = build_model([], Follows(topics=(keyword,)), encoded.stats)
    assert model.follows is not None and len(model.follows.vectors) == 1


def test_key_terms_are_the_papers_own_heaviest_words() -> None:
    data, encoded = labelled_corpus()
    row = group_rows("speculative_decoding")[0]
    words = key_terms(encoded.texts[row], encoded.vectors[row], encoded.stats)
    assert len(words) == KEY_TERMS and len(set(words)) == KEY_TERMS
    own = set(terms(paper_text(data.papers[row]["title"], data.papers[row]["abstract"])))
    assert set(words) <= {w for term in own for w in term.split()}
    assert "speculative" in words or "draft" in words
