"""Pure scheduling decisions: day choice, fire times across DST, grace, member matching."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.core.delivery_plan import (
    choose_digest_day,
    delivery_nonce,
    last_fire_time,
    missed_post_due,
    papers_for_member,
)
from bot.core.models import TopicHit
from bot.core.subscriptions import Follow, parse_post_time
from bot.core.topics import load_default_topics
from bot.services.scheduling import cron_for
from bot.services.timezones import parse_timezone, timezone_choices
from tests.factories import make_paper

UTC = dt.UTC
D = dt.date


def test_choose_digest_day() -> None:
    days = [D(2026, 3, 16), D(2026, 3, 15), D(2026, 3, 14)]
    assert choose_digest_day(days, None, D(2026, 3, 20)) == D(2026, 3, 16)
    assert choose_digest_day(days, D(2026, 3, 15), D(2026, 3, 20)) == D(2026, 3, 16)
    assert choose_digest_day(days, D(2026, 3, 16), D(2026, 3, 20)) is None
    # A day ahead of the target's local date waits; older undelivered days never go out
    # after a newer one did.
    assert choose_digest_day(days, None, D(2026, 3, 15)) == D(2026, 3, 15)
    assert choose_digest_day([], None, D(2026, 3, 15)) is None


@pytest.mark.parametrize(
    ("zone", "day", "utc_hour"),
    [
        ("Europe/Berlin", D(2026, 3, 28), 7),  # CET, UTC+1
        ("Europe/Berlin", D(2026, 3, 29), 6),  # CEST from 29 March 2026
        ("America/New_York", D(2026, 3, 7), 13),  # EST
        ("America/New_York", D(2026, 3, 9), 12),  # EDT from 8 March 2026
        ("America/New_York", D(2026, 11, 2), 13),  # back to EST on 1 November
    ],
)
def test_eight_oclock_follows_the_wall_clock_across_dst(zone, day, utc_hour) -> None:
    now = dt.datetime(day.year, day.month, day.day, 23, 0, tzinfo=UTC)
    fired = last_fire_time(now, "08:00", zone)
    assert fired == dt.datetime(day.year, day.month, day.day, utc_hour, 0, tzinfo=UTC)
    assert fired.astimezone(ZoneInfo(zone)).hour == 8


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_apscheduler_cron_agrees_across_a_dst_change(zone) -> None:
    trigger = cron_for("08:00", zone)
    start = dt.datetime(2026, 3, 5, tzinfo=ZoneInfo(zone))
    fires, previous = [], None
    for _ in range(40):  # 40 consecutive days spanning the spring change
        nxt = trigger.get_next_fire_time(previous, start if previous is None else previous)
        fires.append(nxt)
        previous = nxt
        start = nxt + dt.timedelta(seconds=1)
    assert all(f.astimezone(ZoneInfo(zone)).strftime("%H:%M") == "08:00" for f in fires)
    days = [f.astimezone(ZoneInfo(zone)).date() for f in fires]
    assert days == [days[0] + dt.timedelta(days=i) for i in range(40)]  # none skipped or doubled
    offsets = {f.utcoffset() for f in fires}
    assert len(offsets) == 2  # the UTC offset really changed inside the window


def test_time_skipped_by_dst_still_has_a_fire_time() -> None:
    # 02:30 does not exist in Berlin on 29 March 2026; cron skips it, the sweep does not.
    now = dt.datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    fired = last_fire_time(now, "02:30", "Europe/Berlin")
    assert fired.astimezone(ZoneInfo("Europe/Berlin")).date() == D(2026, 3, 29)
    assert missed_post_due(now, "02:30", "Europe/Berlin", D(2026, 3, 28), dt.timedelta(hours=6))


def test_repeated_time_in_autumn_is_one_fire() -> None:
    # 02:30 happens twice in Berlin on 25 October 2026; both reads give one local day.
    early = dt.datetime(2026, 10, 25, 0, 45, tzinfo=UTC)  # 02:45 CEST, after the first 02:30
    late = dt.datetime(2026, 10, 25, 1, 45, tzinfo=UTC)  # 02:45 CET, after the second
    assert last_fire_time(early, "02:30", "Europe/Berlin") == last_fire_time(
        late, "02:30", "Europe/Berlin"
    )


def test_grace_window() -> None:
    grace = dt.timedelta(hours=6)
    fire_day = D(2026, 3, 14)
    inside = dt.datetime(2026, 3, 14, 13, 0, tzinfo=UTC)  # 5 h after 08:00 UTC
    outside = dt.datetime(2026, 3, 14, 15, 0, tzinfo=UTC)  # 7 h after
    assert missed_post_due(inside, "08:00", "UTC", D(2026, 3, 13), grace)
    assert not missed_post_due(outside, "08:00", "UTC", D(2026, 3, 13), grace)
    assert not missed_post_due(inside, "08:00", "UTC", fire_day, grace)  # already ran today
    assert missed_post_due(inside, "08:00", "UTC", None, grace)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8", "08:00"),
        ("8:30", "08:30"),
        ("20:05", "20:05"),
        ("8pm", "20:00"),
        ("12am", "00:00"),
        (" 07:45 ", "07:45"),
    ],
)
def test_parse_post_time(text, expected) -> None:
    assert parse_post_time(text) == expected


@pytest.mark.parametrize("text", ["", "25:00", "8:61", "noon", "13pm", "8:5"])
def test_parse_post_time_refuses(text) -> None:
    with pytest.raises(ValueError):
        parse_post_time(text)


def test_timezones() -> None:
    assert parse_timezone("europe/berlin") == "Europe/Berlin"
    assert parse_timezone("utc") == "UTC"
    with pytest.raises(ValueError, match="IANA"):
        parse_timezone("Mars/Olympus")
    assert timezone_choices("berl")[0] == "Europe/Berlin"
    assert len(timezone_choices("")) == 25 and len(timezone_choices("a")) == 25


def test_member_matching_explains_itself() -> None:
    topics = {t.slug: t for t in load_default_topics()}
    speech = make_paper(
        title="Streaming Speech Recognition at Scale",
        abstract="We do ASR.",
        topics=[TopicHit("speech-audio", 3.0, ("title: speech",))],
    )
    other = make_paper(title="Graph Coloring Revisited", abstract="Colors and graphs.")
    diffusion = make_paper(title="Fast Samplers", abstract="A diffusion model sampler is fast.")
    chosen = papers_for_member(
        [speech, other, diffusion],
        [Follow("topic", "speech-audio"), Follow("keyword", "diffusion")],
        topics,
    )
    assert [p.title for p, _ in chosen] == [speech.title, diffusion.title]
    assert "speech" in chosen[0][1][0].casefold()
    assert chosen[1][1][0].startswith("keyword")


def test_delivery_nonce_is_stable_per_target_and_day_and_fits_discord() -> None:
    day = D(2026, 3, 14)
    nonce = delivery_nonce("c:42", day)
    assert nonce == delivery_nonce("c:42", day)  # every attempt, every process
    assert len(nonce) <= 25  # Discord's limit
    others = {delivery_nonce("c:43", day), delivery_nonce("c:42", D(2026, 3, 15))}
    assert nonce not in others and len(others) == 2


def test_an_author_follow_selects_that_authors_papers_by_name_key() -> None:
    """Real names: a follow of "Samuel Horváth" (the key `horvath s`) selects the paper
    listing him as "Samuel Horvath", and is never matched as a keyword."""
    topics = {t.slug: t for t in load_default_topics()}
    his = make_paper(title="Federated Optimisation", authors=("Samuel Horvath", "Peter Richtárik"))
    other = make_paper(title="Horvath Constants in Analysis", authors=("Ada Lovelace",))
    follow = Follow("author", "horvath s", label="Samuel Horváth")
    chosen = papers_for_member([his, other], [follow], topics)
    assert [(p.title, reasons) for p, reasons in chosen] == [
        (his.title, ("author Samuel Horvath",))
    ]
