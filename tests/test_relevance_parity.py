"""The engine computes, on numpy and the standard library, exactly what the libraries it
no longer loads at run time computed: scikit-learn's hashing vectoriser (features),
wordllama's own loader (embeddings) and scipy's sparse product (similarity). Stored
paper vectors therefore keep their meaning, byte for byte."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, HashingVectorizer

from bot.services.relevance.embedding import embed
from bot.services.relevance.features import (
    N_FEATURES,
    count_features,
    paper_text,
    stop_words,
    terms,
)
from bot.services.relevance.sparse_rows import SparseRow, cross, stack
from tests.relevance_corpus import labelled_corpus

# Texts that stress the analyser: accents, ligatures, digits, underscores, apostrophes,
# other scripts, emoji, runs of spaces, a newline and nothing at all.
ODD_TEXTS = [
    "",
    "a",
    "ﬁne-tuning Üstün's LLaMA-2 7B models, e.g. GPT_4o; 3D-CNN — état de l'art",
    "日本語の テキスト と English mixed 😀 text\nwith a newline and  two  spaces",
    "The the THE and of to: only stop words here",
    "x" * 3000,
    # ASCII (the path without the regex): underscores, one-letter words, digits, case.
    "__init__ _x_ a_b I a B 7 42 x2 Q&A e.g. A/B-testing NaN's (LLMs) [1]-[3] __ _",
    "\tTabs\r\nand\x0bcontrol\x00characters;semi:colon,comma.",
]


def sample_texts(step: int = 8) -> list[str]:
    data, _ = labelled_corpus()
    papers = data.papers[::step]
    return [paper_text(p["title"], p["abstract"]) for p in papers] + ODD_TEXTS


def test_the_stop_words_are_scikit_learns() -> None:
    assert stop_words() == ENGLISH_STOP_WORDS


def test_features_are_scikit_learns_hashing_vectoriser() -> None:
    texts = sample_texts()
    vectoriser = HashingVectorizer(
        n_features=N_FEATURES,
        ngram_range=(1, 2),
        stop_words="english",
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )
    expected = vectoriser.transform(texts).tocsr()
    expected.sort_indices()
    counts = count_features(texts)
    assert np.array_equal(counts.indptr, expected.indptr)
    assert np.array_equal(counts.indices, expected.indices)
    assert np.array_equal(counts.values, expected.data)
    analyse = vectoriser.build_analyzer()
    assert all(terms(text) == analyse(text) for text in texts)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80))
def test_terms_of_any_ascii_text_are_scikit_learns(text) -> None:
    """ASCII text is split without the regex: the same terms, whatever the bytes."""
    analyse = HashingVectorizer(ngram_range=(1, 2), stop_words="english").build_analyzer()
    assert terms(text) == analyse(text)


def test_embeddings_are_wordllamas_bit_for_bit() -> None:
    import wordllama

    model = wordllama.WordLlama.load(
        config="l2_supercat",
        dim=256,
        cache_dir=Path(wordllama.__file__).parent,
        disable_download=True,
    )
    texts = sample_texts(step=12)
    theirs = np.asarray(model.embed(texts, norm=False), dtype=np.float32)
    norms = np.linalg.norm(theirs, axis=1, keepdims=True)
    theirs = np.divide(theirs, norms, out=np.zeros_like(theirs), where=norms > 0)
    assert np.array_equal(embed(texts), theirs)


def sparse_rows(draw, n_features: int) -> list[SparseRow]:
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        ids = draw(st.sets(st.integers(0, n_features - 1), max_size=20))
        values = draw(
            st.lists(
                st.floats(-2, 2, allow_nan=False, width=32), min_size=len(ids), max_size=len(ids)
            )
        )
        rows.append(SparseRow(np.array(sorted(ids), dtype=np.int32), np.array(values, np.float32)))
    return rows


@st.composite
def two_matrices(draw):
    n_features = draw(st.sampled_from([4, 70, N_FEATURES]))
    return sparse_rows(draw, n_features), sparse_rows(draw, n_features)


@settings(max_examples=150, deadline=None)
@given(two_matrices())
def test_cross_is_the_sparse_matrix_product(matrices) -> None:
    a, b = (stack(rows) for rows in matrices)
    as_scipy = [
        sp.csr_matrix((m.values, m.indices, m.indptr), shape=(len(m), N_FEATURES)) for m in (a, b)
    ]
    expected = (as_scipy[0] @ as_scipy[1].T).toarray()
    got = cross(a, b)
    assert got.shape == expected.shape and got.dtype == np.float32
    assert np.allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_cross_on_a_corpus_is_the_sparse_matrix_product() -> None:
    """Large enough for the bitmap look-up: every paper against 300 of them."""
    _, encoded = labelled_corpus()
    rows = encoded.corpus.sparse
    some = rows.take(np.arange(0, len(rows), 16))
    as_scipy = [
        sp.csr_matrix((m.values, m.indices, m.indptr), shape=(len(m), N_FEATURES))
        for m in (rows, some)
    ]
    expected = (as_scipy[0] @ as_scipy[1].T).toarray()
    assert np.allclose(cross(rows, some), expected, rtol=1e-5, atol=1e-6)
    assert np.allclose(cross(some, rows), expected.T, rtol=1e-5, atol=1e-6)
