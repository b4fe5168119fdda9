"""A loopback fake Discord (REST + gateway on 127.0.0.1) that the real discord.py client runs
against. Used by the test-suite and by the offline ``paperbot console``.

Public API::

    from bot.fakediscord import FakeDiscord, running_bot, point_discord_at, render_message_text
"""

from .builders import InvocationRefused
from .client_patch import point_discord_at, running_bot
from .faults import FaultInjector
from .hub import RecordedRequest
from .interactions import Reply
from .server import FakeDiscord
from .text_render import render_message_text
from .util import ADMINISTRATOR, DEFAULT_EVERYONE_PERMISSIONS, MANAGE_GUILD
from .validation import ValidatorUnavailable

__all__ = [
    "ADMINISTRATOR",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "MANAGE_GUILD",
    "FakeDiscord",
    "FaultInjector",
    "InvocationRefused",
    "RecordedRequest",
    "Reply",
    "ValidatorUnavailable",
    "point_discord_at",
    "render_message_text",
    "running_bot",
]
