"""`paperbot feedback`, `recommend`, `related` and `reindex-vectors`: personal relevance
from the command line, over the same RelevanceService the bot runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from typing import Any, TypedDict

from bot.cli.commands import _out, opened
from bot.cli.errors import CliError
from bot.core.feedback import FeedbackAction, PaperFeedback
from bot.core.render import paper_url
from bot.core.topics import load_default_topics
from bot.core.typed_ids import typed_id
from bot.core.wording import plural
from bot.services.relevance_service import Recommendation, RelevanceService
from bot.services.search import SearchService
from bot.services.topics import TopicCatalog
from storage import Storage


class PickJson(TypedDict):
    """One paper of `recommend --json` and `related --json` (the shape of `search
    --json`)."""

    id: int
    title: str
    dates: list[str]
    topics: list[str]
    score: float
    url: str
    why: list[str]


def relevance_service(storage: Storage) -> RelevanceService:
    """The command line's composition of the service (the bot's is in wiring.py)."""
    topics = TopicCatalog(storage, load_default_topics())
    return RelevanceService(store=storage, papers=storage, topics=topics)


def pick_json(pick: Recommendation) -> PickJson:
    paper = pick.paper
    return {
        "id": paper.id,
        "title": paper.title,
        "dates": [d.isoformat() for d in paper.days],
        "topics": [t.topic for t in paper.topics],
        "score": pick.score,
        "url": paper_url(paper),
        "why": pick.why_lines(),
    }


async def resolve_paper(storage: Storage, text: str) -> int:
    """The paper `text` names: an `id` as `search --json` prints it, or an arXiv id or
    link. CliError (exit 1) when no stored paper is meant."""
    text = text.strip()
    if text.isascii() and text.isdigit():
        pid = typed_id(text)  # None: 0, or beyond any row id
        if pid is not None and await storage.get_papers([pid]):
            return pid
        raise CliError(f"no paper with id {text} is stored (see `paperbot search --json`)")
    named = await SearchService(storage, load_default_topics()).arxiv_paper(text)
    if named is None:
        raise CliError(
            f"{text!r} is neither a paper id (from `paperbot search --json`) nor an arXiv id"
        )
    if named.paper is None:
        raise CliError(f"no paper with arXiv id {named.arxiv_id} is stored")
    return named.paper.id


ACTIONS = {
    "like": FeedbackAction.LIKE,
    "dislike": FeedbackAction.DISLIKE,
    "save": FeedbackAction.SAVE,
    "clear": FeedbackAction.CLEAR,
}
DONE = {
    FeedbackAction.LIKE: "liked",
    FeedbackAction.DISLIKE: "disliked",
    FeedbackAction.SAVE: "saved",
    FeedbackAction.CLEAR: "cleared",
}


def _state(feedback: PaperFeedback | None) -> str:
    if feedback is None:
        return "no feedback"
    parts = [] if feedback.signal.value == "none" else [feedback.signal.value]
    return ", ".join([*parts, *(["saved"] if feedback.saved else [])])


async def cmd_feedback(args: argparse.Namespace) -> int:
    action = next(ACTIONS[name] for name in ACTIONS if getattr(args, name))
    async with opened(args.db, must_exist=True) as storage:
        # Every paper is resolved before anything is written: a typo loses nothing.
        ids = [await resolve_paper(storage, text) for text in args.papers]
        service = relevance_service(storage)
        titles = dict(await storage.titles(ids))
        for pid in dict.fromkeys(ids):
            after = await service.rate(args.user, pid, action)
            print(f"{DONE[action]}: {titles[pid]} (now: {_state(after)})")
    return 0


async def cmd_recommend(args: argparse.Namespace) -> int:
    async with opened(args.db, must_exist=True) as storage:
        service = relevance_service(storage)
        if not await service.member_known(args.user):
            raise CliError(
                f"nothing is stored about user {args.user}: no feedback, follows or mutes"
                " (rate papers with `paperbot feedback` first)"
            )
        day = args.date
        if day is not None and day not in await storage.days(limit=100_000):
            raise CliError(f"no papers are stored for {day.isoformat()}")
        found = await service.for_you(args.user, day, limit=args.limit)
    if found.day is None:  # papers only imported (or none): no day lists any
        raise CliError("no daily dump is stored yet, so no day to pick from; run `paperbot ingest`")
    if args.json:
        _out([pick_json(p) for p in found.picks])
        return 0
    shown = found.day.isoformat()
    if not found.picks:
        print(f"Nothing for user {args.user} on {shown}.")
        return 0
    print(f"For user {args.user} on {shown}: {plural(len(found.picks), 'paper')}")
    _print_picks(found.picks)
    return 0


async def cmd_related(args: argparse.Namespace) -> int:
    async with opened(args.db, must_exist=True) as storage:
        pid = await resolve_paper(storage, args.paper)
        service = relevance_service(storage)
        picks = await service.related(pid, k=args.limit)
        (title,) = [t for _, t in await storage.titles([pid])]
    if args.json:
        _out([pick_json(p) for p in picks])
        return 0
    if not picks:
        print(f"Nothing stored is close to {title}.")
        return 0
    print(f"Like {title}:")
    _print_picks(picks)
    return 0


async def cmd_reindex_vectors(args: argparse.Namespace) -> int:
    async with opened(args.db, must_exist=True) as storage:
        service = relevance_service(storage)
        done = await (service.reindex_vectors() if args.all else service.sync_vectors())
    print(f"encoded {plural(done, 'paper vector')}")
    return 0


def _print_picks(picks: list[Recommendation]) -> None:
    for number, pick in enumerate(picks, start=1):
        print(f"{number:>2}. {pick.paper.title}")
        print(f"    {paper_url(pick.paper)}")
        print(f"    why: {' · '.join(pick.why_lines()) or '-'}  (score {pick.score:.3f})")


RELEVANCE_COMMANDS: dict[str, Callable[[argparse.Namespace], Coroutine[Any, Any, int]]] = {
    "feedback": cmd_feedback,
    "recommend": cmd_recommend,
    "related": cmd_related,
    "reindex-vectors": cmd_reindex_vectors,
}
