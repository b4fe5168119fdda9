"""Encoding paper vectors in large batches, as a bulk import and reindex-vectors do.

The batch path must give exactly what the engine gave before (the tokenizer's own
tokens, the same embeddings whatever the batch size), and its text half must run in
another process and give the same vectors and statistics as encoding in place.
"""

from __future__ import annotations

import gzip
import json
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from bot.services.relevance import (
    Analysis,
    CorpusStats,
    PaperText,
    analyse,
    encode,
    vectors_from,
)
from bot.services.relevance.embedding import (
    _KNOWN_UNSAFE,
    TOKENIZER,
    _checked,
    _model,
    _package_folder,
    embed,
)
from tests.relevance_corpus import DATA

# Text that stresses the piece-wise tokenizing: runs of spaces at the start, inside and
# at the end, newlines and tabs, a special token's name, NUL, the "²." tokens that join
# a digit to punctuation, other scripts, emoji, and nothing at all.
AWKWARD = [
    "",
    " ",
    "   ",
    "a ",
    "a  ",
    " a",
    "  leading and trailing  ",
    "Title.   A fully differential calculation\nin  perturbative\tQCD is\n  presented.\n",
    "the <s> token, </s> and <unk> as text",
    "a\x00b c\x00",
    "x² + y², area 3 m².",
    "ﬁne-tuning Üstün's LLaMA-2 7B models, e.g. GPT_4o; 3D-CNN — état de l'art (2024).",
    "日本語の テキスト と English mixed 😀 text",
    "$\\alpha$-approximation of $O(n^{2})$-time [1,2] {x}_{i}",
]


def real_papers(limit: int | None = None) -> list[PaperText]:
    with gzip.open(DATA / "papers.jsonl.gz", "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    return [PaperText(i, r["title"], r["abstract"]) for i, r in enumerate(rows[:limit])]


def test_tokens_are_the_tokenizers_own_for_awkward_and_real_text() -> None:
    tokenizer = Tokenizer.from_file(str(_package_folder() / TOKENIZER))
    texts = AWKWARD + [f"{p.title}. {p.abstract}" for p in real_papers(400)]
    flat, lengths = _model().splits.token_ids(texts)
    ends = np.cumsum(lengths)
    for text, start, end in zip(texts, ends - lengths, ends, strict=True):
        expected = tokenizer.encode(text, add_special_tokens=False).ids
        assert flat[start:end].tolist() == expected, text


def test_large_and_small_batches_embed_alike() -> None:
    texts = AWKWARD + [f"{p.title}. {p.abstract}" for p in real_papers(1200)]
    whole = embed(texts)  # one call of over 1,000 texts: the whole-table path
    small = np.concatenate([embed(texts[i : i + 7]) for i in range(0, len(texts), 7)])
    assert np.array_equal(whole, small)


def test_batches_analysed_elsewhere_give_the_same_vectors_and_statistics() -> None:
    papers = real_papers(900)
    one_by_one = CorpusStats()
    expected = [
        v.to_bytes() for s in range(0, 900, 300) for v in encode(papers[s : s + 300], one_by_one)
    ]
    with ProcessPoolExecutor(2) as pool:
        analyses = list(pool.map(analyse, [papers[s : s + 300] for s in range(0, 900, 300)]))
    assert all(isinstance(a, Analysis) and len(a) == 300 for a in analyses)
    stats = CorpusStats()
    got = [v.to_bytes() for a in analyses for v in vectors_from(a, stats)]
    assert got == expected  # counted in storage order, batch by batch, as encode does
    assert stats.to_bytes() == one_by_one.to_bytes()


def test_statistics_written_by_earlier_versions_still_load() -> None:
    stats = CorpusStats()
    encode(real_papers(50), stats)
    blob = stats.to_bytes()
    body = zlib.decompress(blob[13:])
    older = blob[:13] + zlib.compress(body, 6)  # as version 2 blobs were compressed
    restored = CorpusStats.from_bytes(older)
    assert restored.n_docs == 50
    assert np.array_equal(restored.df, stats.df)
    assert np.array_equal(restored.embedding_sum, stats.embedding_sum)


def test_statistics_bytes_are_the_whole_arrays_deflated_at_level_1() -> None:
    """The blob is written a piece at a time and read back a step at a time: what is
    stored is still the one format (header, then both arrays deflated as one stream),
    and what is read back is writable, as counting the next batch into it needs."""
    stats = CorpusStats()
    encode(real_papers(50), stats)
    blob = stats.to_bytes()
    body = stats.df.astype("<i4").tobytes() + stats.embedding_sum.astype("<f8").tobytes()
    assert blob[13:] == zlib.compress(body, 1)
    restored = CorpusStats.from_bytes(blob)
    encode(real_papers(60)[50:], restored)
    encode(real_papers(60)[50:], stats)
    assert restored.n_docs == 60
    assert np.array_equal(restored.df, stats.df)
    assert np.array_equal(restored.embedding_sum, stats.embedding_sum)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda head, body: head + zlib.compress(body[:-8], 1), "wrong size"),
        (lambda head, body: head + zlib.compress(body + b"\0", 1), "wrong size"),
        (lambda head, body: head + zlib.compress(body, 1)[:-100], "wrong size"),
        (lambda head, body: head + zlib.compress(body, 1) + b"??", "wrong size"),
        (lambda head, body: head, "wrong size"),
        (lambda head, body: head + b"not deflated at all", "damaged"),
    ],
    ids=["short", "long", "cut", "trailing bytes", "no body", "not deflate"],
)
def test_damaged_statistics_are_refused_in_one_line(damage, message) -> None:
    stats = CorpusStats()
    encode(real_papers(20), stats)
    blob = stats.to_bytes()
    body = zlib.decompress(blob[13:])
    with pytest.raises(ValueError, match=message) as caught:
        CorpusStats.from_bytes(damage(blob[:13], body))
    assert "\n" not in str(caught.value)


def test_the_known_tokenizers_facts_are_what_its_tokens_say(tmp_path: Path) -> None:
    """The shipped tokenizer file is trusted by its hash; looked at token by token, it
    gives the same facts."""
    config = _package_folder() / TOKENIZER
    tokenizer = Tokenizer.from_file(str(config))
    specials = [t.content for t in tokenizer.get_added_tokens_decoder().values()]
    assert _checked(tokenizer, config, specials) == (True, _KNOWN_UNSAFE)
    other = tmp_path / "tokenizer.json"
    other.write_bytes(config.read_bytes() + b"\n")  # another file: looked through
    assert _checked(tokenizer, other, specials) == (True, _KNOWN_UNSAFE)
