"""The topic taxonomy and the rule matcher that tags papers at ingest.

A topic is a set of rules: single-word keywords (a trailing ``*`` makes a prefix) and
multi-word phrases. Text and rules go through the same tokenisation (`words()`, i.e.
NFKC + casefold + alphanumeric runs) and a light plural normalisation, so ``model``
matches ``Models`` and ``self-supervised`` matches ``Self Supervised``.

Scoring, per topic: every distinct rule found in the title adds ``TITLE_WEIGHT``,
every distinct rule found in the abstract adds ``ABSTRACT_WEIGHT`` scaled by a slowly
growing function of how often it occurs; phrases are worth ``PHRASE_WEIGHT`` times a
keyword because they are far less ambiguous, and abstract mentions of a few words every
ML abstract uses (``WEAK_WORDS``: dataset, benchmark, code, ...) count half. A topic is
attached when its score reaches the threshold: one title hit always does, a single
passing mention in the abstract never does.

The matcher runs for every ingested paper (up to a million), so topics are compiled once
into lookup tables (`TopicMatcher`) and each text is tokenised exactly once.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import operator
import re
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from importlib import resources
from itertools import filterfalse

from bot.core.models import Topic, TopicHit
from bot.core.text import word_tuple, words

SLUG_RE = re.compile(r"[-a-z0-9]{1,32}")  # used with fullmatch: Discord choice values
MAX_NAME_CHARS = 100
MAX_RULES = 25  # keywords + phrases per topic
MAX_RULE_CHARS = 50
MIN_KEYWORD_CHARS = 2  # a one-letter keyword would match stray variable names
MIN_PREFIX_CHARS = 3  # `a*` would match half the vocabulary
MAX_PHRASE_WORDS = 6

TITLE_WEIGHT = 3.0
ABSTRACT_WEIGHT = 1.0
PHRASE_WEIGHT = 1.5
# One title hit (3) passes; one abstract mention (1), even of a phrase (1.5), or a
# keyword repeated three times (1.79) does not; two distinct abstract keywords do.
DEFAULT_THRESHOLD = 2.0
# Words nearly every ML abstract uses ("code is available", "on three benchmarks"). As a
# keyword they still count fully in a title, but an abstract mention is weak evidence.
WEAK_WORDS = frozenset(
    {"benchmark", "code", "data", "dataset", "image", "language", "learning", "model", "task"}
    | {"text", "training"}
)
WEAK_ABSTRACT_FACTOR = 0.5
MAX_WHY = 8  # enough to explain a tag without bloating stored rows

_MEMO_LIMIT = 100_000  # distinct words remembered per matcher (~10 MB) before starting over
# Small: ad hoc one-topic lists (keyword follows) come and go, while the ingest taxonomy
# is one big list that stays warm.
_MATCHER_CACHE_LIMIT = 32


# --------------------------------------------------------------------------- normalising


def normalize_word(word: str) -> str:
    """Light plural folding applied to text words and rule words alike.

    Not a stemmer: it only has to make ``models``/``model`` and ``studies``/``study``
    meet. Being applied to both sides is what matters, so odd results such as
    ``analysis`` -> ``analysi`` are harmless.
    """
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@functools.cache
def _spellings(norm: str) -> tuple[str, ...]:
    """Every raw word that `normalize_word` maps to `norm` (the rule is invertible)."""
    options = [norm, norm + "s"]
    if norm.endswith("y"):
        options.append(norm[:-1] + "ies")
    return tuple(w for w in options if normalize_word(w) == norm)


def _abstract_score(count: int) -> float:
    # Diminishing returns: 1, 1.5, 1.79, 2, ... so a word repeated all over one abstract
    # cannot outweigh several distinct rules.
    return 1.0 + 0.5 * math.log2(count)


_ABSTRACT_SCORES = tuple(_abstract_score(n) if n else 0.0 for n in range(64))


# --------------------------------------------------------------------------- matcher

# (phrase id, rule id, " w1  w2 ... " normalised, w1 normalised)
_Phrase = tuple[int, int, str, str]
_RULE_WORD = "#"  # the memo's mark for a word only keyword/prefix rules match


def _marks(seen: dict[str, str], toks: Sequence[str]) -> Sequence[str]:
    """`[seen[w] for w in toks]` in one C call (KeyError for an unseen word)."""
    if len(toks) > 1:
        return operator.itemgetter(*toks)(seen)  # a tuple, looked up at C speed
    return [seen[w] for w in toks]


class TopicMatcher:
    """A set of topics compiled into lookup tables; use one for bulk tagging.

    `match_topics` keeps a small cache of these, keyed by the topics' rules, so callers
    that pass the same list every time get the compiled form without managing it.

    Per text, after `words()`: one C-level pass looks every word up in a memo of what
    it is to the matcher (nothing, a keyword/prefix word, or a phrase word in normalised
    form), one C-level count of the words that matter, then, for each phrase whose two
    "trigger" words both occur, a substring count in the text rebuilt from those
    lookups. Working out what a word matches (normalisation, prefixes) happens at
    compile time or the first time the word is seen.
    """

    def __init__(self, topics: Sequence[Topic]) -> None:
        self.topics: tuple[Topic, ...] = tuple(topics)
        # Per rule id, parallel lists: scoring reads them in a tight loop.
        self._rule_topic: list[int] = []
        self._title_gain: list[float] = []
        self._abstract_weight: list[float] = []
        self._why_title: list[str] = []
        self._why_abstract: list[str] = []
        self._exact: dict[str, list[int]] = {}  # normalised keyword -> rule ids
        self._prefixes: dict[str, list[int]] = {}  # casefolded prefix -> rule ids
        # Normalised first trigger -> [(normalised second trigger, [(phrase id, rule id,
        # " w1  w2 ... " normalised, w1)])]: one membership test of the second trigger
        # rules out all phrases sharing the pair.
        self._phrase_index: dict[str, list[tuple[str, list[_Phrase]]]] = {}
        self._phrase_words: set[str] = set()  # normalised words of every phrase
        self._pending_phrases: list[tuple[int, list[str]]] = []  # (rule id, norms)
        for index, topic in enumerate(self.topics):
            for keyword in topic.keywords:
                self._add_keyword(index, keyword)
            for phrase in topic.phrases:
                self._add_phrase(index, phrase, PHRASE_WEIGHT)
        self._index_phrases()
        self._phrase_firsts = frozenset(self._phrase_index)
        self._prefix_lengths = tuple(sorted({len(p) for p in self._prefixes}))
        self._prefix_heads = frozenset(p[:MIN_PREFIX_CHARS] for p in self._prefixes)
        # Raw words whose role is known without seeing any text, every spelling of a
        # keyword or of a phrase word: raw word -> (keyword/prefix rule ids, memo mark).
        self._static: dict[str, tuple[tuple[int, ...], str]] = {}
        for norm in {*self._exact, *self._phrase_words}:
            mark = norm if norm in self._phrase_words else _RULE_WORD
            for raw in _spellings(norm):
                self._static[raw] = (self._classify(raw), mark)
        self._reset_memo()

    def _reset_memo(self) -> None:
        # `_seen`: every raw word met so far -> its mark: the normalised form of a phrase
        # word, `_RULE_WORD` for another word that keyword or prefix rules match, "" for
        # the far more numerous words that match nothing. `_word_rules`: raw word -> the
        # keyword/prefix rule ids it matches.
        self._seen = {word: mark for word, (_, mark) in self._static.items()}
        self._word_rules = {word: rules for word, (rules, _) in self._static.items() if rules}

    # Compilation is lenient on purpose: topics read back from storage were validated
    # when created, and a rule that slipped through should degrade, not crash ingest.
    def _add_keyword(self, index: int, keyword: str) -> None:
        keyword = keyword.strip()
        if keyword.endswith("*"):
            body = keyword.rstrip("*")
            toks = words(body)
            if len(toks) == 1 and len(toks[0]) >= MIN_PREFIX_CHARS:
                rule = self._new_rule(index, keyword, 1.0)
                self._prefixes.setdefault(toks[0], []).append(rule)
                return
            keyword = body
        toks = words(keyword)
        if len(toks) == 1:
            norm = normalize_word(toks[0])
            weak = WEAK_ABSTRACT_FACTOR if norm in WEAK_WORDS else 1.0
            rule = self._new_rule(index, keyword, 1.0, weak)
            self._exact.setdefault(norm, []).append(rule)
        elif len(toks) > 1:
            # "self-supervised" typed as a keyword can only ever match as a phrase.
            self._add_phrase(index, keyword, 1.0)

    def _add_phrase(self, index: int, phrase: str, weight: float) -> None:
        norms = [normalize_word(w) for w in words(phrase.replace("*", " "))]
        if len(norms) == 1:
            rule = self._new_rule(index, phrase, 1.0)
            self._exact.setdefault(norms[0], []).append(rule)
        elif norms:
            rule = self._new_rule(index, phrase, weight)
            self._pending_phrases.append((rule, norms))

    def _index_phrases(self) -> None:
        """Pick each phrase's two trigger words and index the phrase by one of them.

        A phrase can only occur where all its words do, so which two words gate the
        substring count changes no result, only how often it runs. Words that few
        phrases share are the likelier to be rare in text too ("code language model"
        is gated by "code" and "model", not by "language" and "model", which most
        "language model" abstracts have), and one- or two-letter words ("in", "of")
        come last; the phrase is looked up by the first of the pair. Phrase ids keep
        the order the phrases were given in.
        """
        uses = Counter(w for _, norms in self._pending_phrases for w in set(norms))

        def rarity(word: str) -> tuple[bool, int, int]:
            return len(word) <= 2, uses[word], -len(word)

        for phrase_id, (rule, norms) in enumerate(self._pending_phrases):
            pair = sorted(dict.fromkeys(norms), key=rarity)[:2]
            first, second = pair * 2 if len(pair) == 1 else pair
            phrase = (phrase_id, rule, " " + "  ".join(norms) + " ", norms[0])
            by_second = self._phrase_index.setdefault(first, [])
            for other, group in by_second:
                if other == second:
                    group.append(phrase)
                    break
            else:
                by_second.append((second, [phrase]))
            self._phrase_words.update(norms)
        self._pending_phrases = []

    def _new_rule(self, index: int, label: str, weight: float, abstract_factor: float = 1.0) -> int:
        self._rule_topic.append(index)
        self._title_gain.append(TITLE_WEIGHT * weight)
        self._abstract_weight.append(ABSTRACT_WEIGHT * weight * abstract_factor)
        self._why_title.append(f"title: {label}")
        self._why_abstract.append(f"abstract: {label}")
        return len(self._rule_topic) - 1

    def _classify(self, word: str) -> tuple[int, ...]:
        """Keyword/prefix rule ids for one raw, casefolded word."""
        norm = normalize_word(word)
        rules = list(self._exact.get(norm, ()))
        # Prefixes apply to the raw word (`robots*` must still match "robots"). Probing
        # each distinct prefix length is a handful of dict lookups and, unlike a single
        # bisect, also finds nested prefixes such as `gen*` and `genom*`.
        for length in self._prefix_lengths:
            if length > len(word):
                break
            rules.extend(self._prefixes.get(word[:length], ()))
        return tuple(rules)

    def _learn(self, toks: Sequence[str]) -> None:
        """Remember words not seen before; only prefixes can make one of them matter."""
        seen = self._seen
        new = set(filterfalse(seen.__contains__, toks))
        if len(seen) + len(new) > _MEMO_LIMIT:
            self._reset_memo()  # bounded memory over a million papers' vocabulary
            seen = self._seen
            new = set(filterfalse(seen.__contains__, toks))
        heads = self._prefix_heads
        for word in new:
            mark = ""
            # Every spelling of an exact keyword or phrase word is static, so a new word
            # can only match a prefix; most fail this one-slice test.
            if word[:MIN_PREFIX_CHARS] in heads:
                rules = self._classify(word)
                if rules:
                    self._word_rules[word] = rules
                    mark = _RULE_WORD
            seen[word] = mark

    def _count(self, toks: Sequence[str]) -> dict[int, int]:
        """Occurrences of each rule id in one tokenised text.

        Insertion order matters (it orders `why` and the float sums): keyword and prefix
        rules in the order their words first occur, then phrases in the order their
        first words first occur (ties: the order the phrases were given in).
        """
        try:
            marks = _marks(self._seen, toks)
        except KeyError:  # a word never seen before
            self._learn(toks)
            marks = _marks(self._seen, toks)
        if not any(marks):
            return {}  # many titles: nothing to count
        present = Counter(itertools.compress(toks, marks))  # the words that matter
        counts: dict[int, int] = {}
        word_rules = self._word_rules
        for word in filter(word_rules.__contains__, present):
            n = present[word]
            for rule in word_rules[word]:
                counts[rule] = counts.get(rule, 0) + n
        normalised = set(map(self._seen.__getitem__, present))  # phrase words that occur
        firsts = normalised & self._phrase_firsts
        if not firsts:
            return counts
        # Phrases are counted as substrings of the marks joined (every phrase word
        # normalised, other words blank or `_RULE_WORD`, so the string stays short),
        # built only if both triggers of some phrase occur. Words are joined by two
        # spaces and a phrase is " w1  w2 ": word-aligned (no phrase word equals another
        # word's mark), and `str.count` (non-overlapping) still sees back-to-back
        # repeats, each taking one space of the pair between them.
        index = self._phrase_index
        joined = ""
        found: list[tuple[int, int, str, int]] = []  # (phrase id, rule, w1, count)
        for first in firsts:
            for second, group in index[first]:
                if second not in normalised:
                    continue
                if not joined:
                    joined = "  " + "  ".join(marks) + "  "
                for phrase_id, rule, padded, first_word in group:
                    n = joined.count(padded)
                    if n:
                        found.append((phrase_id, rule, first_word, n))
        if len(found) > 1:
            # The set above has no useful order; `joined.find(" w1 ")` is where the
            # phrase's first word first occurs.
            found.sort(key=lambda f: (joined.find(" " + f[2] + " "), f[0]))
        for _, rule, _, n in found:
            counts[rule] = counts.get(rule, 0) + n
        return counts

    def match(
        self, title: str, abstract: str, threshold: float = DEFAULT_THRESHOLD
    ) -> list[TopicHit]:
        """Topics whose score reaches `threshold`, best first (ties by slug)."""
        return self.match_words(word_tuple(title), word_tuple(abstract), threshold)

    def match_words(
        self,
        title_words: Sequence[str],
        abstract_words: Sequence[str],
        threshold: float = DEFAULT_THRESHOLD,
    ) -> list[TopicHit]:
        """`match` for texts already split by `words()`, so ingest can tokenise once."""
        title_counts = self._count(title_words)
        abstract_counts = self._count(abstract_words)
        if not title_counts and not abstract_counts:
            return []
        topic_of = self._rule_topic
        title_gain = self._title_gain
        abstract_weight = self._abstract_weight
        # A dict, not a list per topic: the ingest taxonomy includes every guild's own
        # topics, so the work must follow the matched rules, not the number of topics.
        scores: dict[int, float] = {}
        for rule in title_counts:
            topic = topic_of[rule]
            scores[topic] = scores.get(topic, 0.0) + title_gain[rule]
        for rule, n in abstract_counts.items():
            topic = topic_of[rule]
            gain = _ABSTRACT_SCORES[n] if n < len(_ABSTRACT_SCORES) else _abstract_score(n)
            scores[topic] = scores.get(topic, 0.0) + abstract_weight[rule] * gain
        # The epsilon keeps sums that equal the threshold (1.5 + 0.5) from failing on
        # float rounding. Only matched topics are in `scores`, so threshold=0 still
        # means "matched at all".
        limit = threshold - 1e-9
        hits = []
        why_title, why_abstract = self._why_title, self._why_abstract
        for topic, score in scores.items():
            if score < limit:
                continue
            # Reasons: title rules first, then abstract rules, most repeated first.
            why = [why_title[r] for r in title_counts if topic_of[r] == topic]
            in_abstract = [r for r in abstract_counts if topic_of[r] == topic]
            if len(in_abstract) > 1:
                in_abstract.sort(key=abstract_counts.__getitem__, reverse=True)
            why += [why_abstract[r] for r in in_abstract]
            hits.append(TopicHit(self.topics[topic].slug, round(score, 3), tuple(why[:MAX_WHY])))
        if len(hits) > 1:
            hits.sort(key=lambda h: (-h.score, h.topic))
        return hits


# A taxonomy as its matcher depends on it: (slug, keywords, phrases) per topic.
_RulesKey = tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]
_matchers: OrderedDict[_RulesKey, TopicMatcher] = OrderedDict()
_rule_fields = operator.attrgetter("slug", "keywords", "phrases")
# The latest (key, matcher): ingest calls `match_topics` with the same list for every
# paper, and comparing a key with an equal one is far cheaper than hashing it twice.
_last: tuple[_RulesKey, TopicMatcher] | None = None


def compile_topics(topics: Sequence[Topic]) -> TopicMatcher:
    """The compiled matcher for `topics`, reused while their rules are unchanged.

    Keyed by content rather than identity, so editing a topic in place can never leave
    a stale matcher behind. Least recently used matchers are dropped first.
    """
    global _last
    key: _RulesKey = tuple(map(_rule_fields, topics))
    if _last is not None and key == _last[0]:
        return _last[1]  # already the most recently used entry of `_matchers`
    if not all(type(k) is tuple and type(p) is tuple for _, k, p in key):
        # Lists in a key would be unhashable and could change under it: copy them.
        key = tuple((slug, tuple(k), tuple(p)) for slug, k, p in key)
    matcher = _matchers.get(key)
    if matcher is None:
        matcher = _matchers[key] = TopicMatcher(topics)
        if len(_matchers) > _MATCHER_CACHE_LIMIT:
            _matchers.popitem(last=False)
    else:
        _matchers.move_to_end(key)
    _last = (key, matcher)
    return matcher


def match_topics(
    title: str, abstract: str, topics: Sequence[Topic], threshold: float = DEFAULT_THRESHOLD
) -> list[TopicHit]:
    """Tag one paper: the topics whose score reaches `threshold`, best first.

    `why` on each hit lists the matched rules as ``"title: speech"`` /
    ``"abstract: self-supervised"``. For bulk tagging, `compile_topics(topics).match`
    skips re-checking the cache key on every call.
    """
    return compile_topics(topics).match(title, abstract, threshold)


# --------------------------------------------------------------------------- validation


def slugify(name: str) -> str:
    """A slug for a user-supplied topic name (may be empty when the name has no letters)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:32].rstrip("-")


def _check_keyword(keyword: str) -> str:
    text = unicodedata.normalize("NFKC", keyword).strip()
    if not text:
        raise ValueError("empty keyword")
    if len(text) > MAX_RULE_CHARS:
        raise ValueError(f"keyword {text[:20]!r}... is longer than {MAX_RULE_CHARS} characters")
    is_prefix = text.endswith("*")
    body = text[:-1] if is_prefix else text
    if "*" in body:
        raise ValueError(f"keyword {text!r}: * is only allowed once, at the end")
    toks = words(body)
    if len(toks) != 1 or toks[0] != body.casefold():
        raise ValueError(f"keyword {text!r} must be one word of letters and digits (quote phrases)")
    if is_prefix and len(body) < MIN_PREFIX_CHARS:
        raise ValueError(f"prefix {text!r} is too short: use at least {MIN_PREFIX_CHARS} letters")
    if not is_prefix and len(body) < MIN_KEYWORD_CHARS:
        raise ValueError(f"keyword {text!r} is too short: use at least {MIN_KEYWORD_CHARS}")
    return text


def _check_phrase(phrase: str) -> str:
    text = " ".join(unicodedata.normalize("NFKC", phrase).split())
    if not text:
        raise ValueError("empty phrase")
    if len(text) > MAX_RULE_CHARS:
        raise ValueError(f"phrase {text[:20]!r}... is longer than {MAX_RULE_CHARS} characters")
    if "*" in text:
        raise ValueError(f"phrase {text!r}: * only works on single keywords")
    toks = words(text)
    if not toks:
        raise ValueError(f"phrase {text!r} has no letters or digits")
    if len(toks) == 1:
        raise ValueError(f"phrase {text!r} is a single word: add it as a keyword")
    if len(toks) > MAX_PHRASE_WORDS:
        raise ValueError(f"phrase {text!r} has more than {MAX_PHRASE_WORDS} words")
    return text


def _rule_key(rule: str, is_phrase: bool) -> str:
    # What the matcher will actually compare, so "Model"/"models" count as duplicates.
    if is_phrase:
        return " ".join(normalize_word(w) for w in words(rule))
    if rule.endswith("*"):
        return _fold(rule)
    return normalize_word(_fold(rule))


def validate_topic(
    slug: str,
    name: str,
    keywords: Iterable[str],
    phrases: Iterable[str] = (),
    *,
    guild_id: int | None = None,
) -> Topic:
    """A checked `Topic`; raises ValueError with a one-line, user-facing message.

    Keywords keep the spelling given (it is what `why` shows); duplicates that the
    matcher could not tell apart (``Model``, ``models``) are dropped.
    """
    if not isinstance(slug, str) or not SLUG_RE.fullmatch(slug):
        raise ValueError(f"topic id {slug!r} must be 1-32 lowercase letters, digits or hyphens")
    clean_name = " ".join(str(name).split())
    if not clean_name:
        raise ValueError("topic name is empty")
    if len(clean_name) > MAX_NAME_CHARS:
        raise ValueError(f"topic name is longer than {MAX_NAME_CHARS} characters")
    if isinstance(keywords, str) or isinstance(phrases, str):
        raise ValueError("keywords and phrases must be lists, not one string")
    seen: set[tuple[bool, str]] = set()
    kept_keywords: list[str] = []
    kept_phrases: list[str] = []
    for keyword in keywords:
        text = _check_keyword(keyword)
        key = (False, _rule_key(text, False))
        if key not in seen:
            seen.add(key)
            kept_keywords.append(text)
    for phrase in phrases:
        text = _check_phrase(phrase)
        key = (True, _rule_key(text, True))
        if key not in seen:
            seen.add(key)
            kept_phrases.append(text)
    total = len(kept_keywords) + len(kept_phrases)
    if total == 0:
        raise ValueError("a topic needs at least one keyword or phrase")
    if total > MAX_RULES:
        raise ValueError(f"too many keywords and phrases: {total} (at most {MAX_RULES})")
    return Topic(
        slug=slug,
        name=clean_name,
        keywords=tuple(kept_keywords),
        phrases=tuple(kept_phrases),
        guild_id=guild_id,
    )


_QUOTES = str.maketrans({c: '"' for c in "“”„‟«»"})  # phone keyboards send curly quotes
_ITEM = re.compile(r'"([^"]*)"|([^,;\n"]+)')


def parse_keyword_list(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split user input such as ``diffusion, "score matching", denois*``.

    Items are separated by commas (or semicolons/newlines); double quotes group a phrase
    and may also stand next to each other without a comma. An item of several words,
    quoted or not (``reinforcement learning``, ``self-supervised``), becomes a phrase;
    one word, optionally ending in ``*``, a keyword. Returns ``(keywords, phrases)``
    unvalidated: pass them to `validate_topic`.
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    if text.count('"') % 2:
        raise ValueError("unbalanced quote in the keyword list")
    keywords: list[str] = []
    phrases: list[str] = []
    for match in _ITEM.finditer(text):
        item = " ".join((match.group(1) if match.group(1) is not None else match.group(2)).split())
        if not item:
            continue
        if not words(item):
            raise ValueError(f"{item!r} has no letters or digits")
        if len(words(item.rstrip("*"))) == 1 and " " not in item:
            keywords.append(item)
        else:
            phrases.append(item)
    return tuple(keywords), tuple(phrases)


# --------------------------------------------------------------------------- defaults


@functools.cache
def _default_topics() -> tuple[Topic, ...]:
    raw = resources.files("bot").joinpath("data/topics.json").read_text(encoding="utf-8")
    topics: list[Topic] = []
    for entry in json.loads(raw):
        slug = entry.get("slug")
        try:
            topics.append(
                validate_topic(slug, entry["name"], entry["keywords"], entry.get("phrases", []))
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"topics.json: topic {slug!r}: {exc}") from exc
    slugs = [t.slug for t in topics]
    if len(set(slugs)) != len(slugs):
        raise ValueError("topics.json: duplicate topic slugs")
    return tuple(topics)


def load_default_topics() -> list[Topic]:
    """The built-in taxonomy from ``bot/data/topics.json`` (parsed once, fresh copies)."""
    # Topic is mutable; copies keep one caller's edits out of everyone else's list.
    return [replace(t) for t in _default_topics()]
